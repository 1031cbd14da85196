"""Labels are encoded as LabelEncoder encodes them, on the fast path and off it."""

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.preprocessing import LabelEncoder

from softmax_regression import SoftmaxClassifier
from softmax_regression._fitting.labels import encode_labels


@pytest.mark.parametrize("y", [
    np.array([3, 1, 2, 3, 1]),
    np.array([True, False, True]),
    np.array([2.0, -1.0, 2.0, 0.0]),
    np.array(["b", "a", "c", "a"]),
    np.array([1, "a", 2.5], dtype=object).astype(str),
    [0, 2, 2, 1],
])
def test_encoding_equals_label_encoder(y):
    classes, index = encode_labels(np.asarray(y) if not isinstance(y, list) else y)
    encoder = LabelEncoder().fit(y)
    assert_array_equal(classes, encoder.classes_)
    assert classes.dtype == encoder.classes_.dtype
    assert_array_equal(index, encoder.transform(y))


@pytest.mark.parametrize("y, message", [
    (np.array([0.5, 1.0, 2.0, 0.5]), "Unknown label type: continuous"),
    (np.array([0.0, np.nan, 1.0, 1.0]), "Input y contains NaN"),
])
def test_targets_that_are_not_labels_keep_scikit_learns_error(y, message):
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match=message):
        SoftmaxClassifier().fit(X, y)


def test_whole_float_labels_fit_as_integers():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3))
    y = np.arange(60) % 3
    as_int, as_float = SoftmaxClassifier().fit(X, y), SoftmaxClassifier().fit(X, y.astype(float))
    assert_array_equal(as_int.coef_, as_float.coef_)
    assert as_float.classes_.dtype == np.float64 and as_int.classes_.dtype == y.dtype
