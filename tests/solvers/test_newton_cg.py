"""newton-cg: as robust to a badly scaled feature as LogisticRegression's newton-cg."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(600, 5, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=0)
    return StandardScaler().fit_transform(X), y


def _unpenalized(X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return SoftmaxClassifier(C=np.inf, solver="newton-cg", tol=1e-10).fit(X, y)


@pytest.mark.parametrize("scale", [1e-2, 1e-3, 1e-4, 1e-5])
def test_newton_cg_is_robust_to_a_badly_scaled_feature(data, scale):
    X, y = data
    scaled = X.copy()
    scaled[:, 0] *= scale
    ours = _unpenalized(scaled, y)  # no ConvergenceWarning: an error here
    lr = LogisticRegression(C=np.inf, solver="newton-cg", tol=1e-10, max_iter=1000).fit(scaled, y)
    assert ours.n_iter_[0] <= lr.n_iter_[0]
    # Without a penalty the model is equivariant: the scaled feature's
    # coefficient is the unscaled one divided by the scale.
    reference = _unpenalized(X, y)
    assert_allclose(ours.coef_[:, 0] * scale, reference.coef_[:, 0], rtol=1e-6)
    assert_allclose(ours.coef_[:, 1:], reference.coef_[:, 1:], rtol=1e-6)
    assert_allclose(ours.predict_proba(scaled), reference.predict_proba(X), atol=1e-9)
