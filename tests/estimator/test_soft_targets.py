"""Soft targets: y as an (n_samples, K) matrix of probabilities or counts."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
from sklearn.preprocessing import StandardScaler

from _data import blobs
from _soft_referee import soft_optimum
from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV, inference

SOLVERS = ["auto", "lbfgs", "newton-cg"]


def _data(n_classes, n_samples=90, seed=0):
    X, y = blobs(n_samples=n_samples, n_features=4, n_classes=n_classes, seed=seed, spread=2.0)
    return StandardScaler().fit_transform(X), y


def _smoothed(y, n_classes, eps=0.2):
    return (1 - eps) * np.eye(n_classes)[y] + eps / n_classes


def _fit(X, y, solver="lbfgs", sample_weight=None, **kwargs):
    params = dict(solver=solver, tol=1e-10, max_iter=2000, random_state=0)
    params.update(kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SoftmaxClassifier(**params).fit(X, y, sample_weight=sample_weight)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", SOLVERS + ["sgd"])
@pytest.mark.parametrize("kind", ["dense", "csr", "float32"])
def test_one_hot_rows_equal_the_hard_label_fit(n_classes, solver, kind):
    X, y = _data(n_classes)
    X = {"dense": X, "csr": sp.csr_array(X), "float32": X.astype(np.float32)}[kind]
    hard = _fit(X, y, solver)
    soft = _fit(X, np.eye(n_classes)[y], solver)
    np.testing.assert_array_equal(soft.classes_, np.arange(n_classes))
    assert soft.coef_.dtype == hard.coef_.dtype
    atol = 1e-4 if kind == "float32" else 1e-7
    np.testing.assert_allclose(soft.coef_, hard.coef_, rtol=0, atol=atol)
    np.testing.assert_allclose(soft.intercept_, hard.intercept_, rtol=0, atol=atol)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", SOLVERS)
def test_integer_counts_equal_the_fit_on_repeated_rows(n_classes, solver):
    X, _ = _data(n_classes, n_samples=60)
    counts = np.random.default_rng(1).integers(0, 4, size=(60, n_classes))
    counts[counts.sum(axis=1) == 0, 0] = 1
    rows = np.repeat(np.arange(60), counts.sum(axis=1))
    labels = np.concatenate([np.repeat(np.arange(n_classes), c) for c in counts])
    repeated = _fit(X[rows], labels, solver, C=0.5)
    aggregated = _fit(X, counts, solver, C=0.5)
    np.testing.assert_allclose(aggregated.predict_proba(X), repeated.predict_proba(X),
                               rtol=1e-6)


@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("weighted", [False, True])
def test_smoothed_labels_reach_the_referee_optimum(n_classes, solver, weighted):
    X, y = _data(n_classes)
    Y = _smoothed(y, n_classes)
    weight = np.random.default_rng(2).uniform(0.2, 3.0, size=len(y)) if weighted else None
    _, _, expected = soft_optimum(X, Y, C=0.7, sample_weight=weight)
    model = SoftmaxClassifier(solver=solver, C=0.7, tol=1e-10, max_iter=1000)
    model.fit(X, Y, sample_weight=weight)
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-6)


def test_sgd_reaches_the_soft_optimum_within_its_tolerance():
    X, y = _data(3)
    Y = _smoothed(y, 3)
    _, _, expected = soft_optimum(X, Y, C=1.0)
    model = _fit(X, Y, "sgd", max_iter=300, tol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=1e-3)


def test_soft_targets_with_sparse_float32_reach_the_optimum():
    X, y = _data(3)
    Y = _smoothed(y, 3)
    _, _, expected = soft_optimum(X, Y)
    model = _fit(sp.csr_array(X.astype(np.float32)), Y, tol=1e-6)
    assert model.coef_.dtype == np.float32
    np.testing.assert_allclose(model.predict_proba(X.astype(np.float32)), expected, atol=1e-4)


def test_data_frame_columns_are_the_classes():
    pd = pytest.importorskip("pandas")
    X, y = _data(3)
    names = np.array(["cat", "dog", "eel"])
    Y = pd.DataFrame(np.eye(3)[y], columns=names)[["eel", "cat", "dog"]]
    model = _fit(X, Y)
    np.testing.assert_array_equal(model.classes_, names)
    hard = _fit(X, names[y])
    np.testing.assert_allclose(model.coef_, hard.coef_, atol=1e-10)
    np.testing.assert_array_equal(model.predict(X), hard.predict(X))


def test_partial_fit_matches_data_frame_columns_by_label():
    pd = pytest.importorskip("pandas")
    X, y = _data(3)
    Y = pd.DataFrame(_smoothed(y, 3), columns=["a", "b", "c"])
    model = SoftmaxClassifier(solver="sgd", random_state=0).partial_fit(X[:45], Y[:45])
    same = SoftmaxClassifier(solver="sgd", random_state=0).partial_fit(X[:45], Y[:45])
    model.partial_fit(X[45:], Y[45:][["c", "a", "b"]])
    same.partial_fit(X[45:], Y[45:])
    np.testing.assert_array_equal(model.coef_, same.coef_)
    with pytest.raises(ValueError, match=r"has the columns \['a', 'b', 'x'\]"):
        model.partial_fit(X[:5], Y[:5].rename(columns={"c": "x"}))


def test_a_single_column_is_a_label_vector():
    X, y = _data(3)
    with pytest.warns(DataConversionWarning):
        model = SoftmaxClassifier().fit(X, y[:, None])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])


def test_a_zero_row_with_zero_weight_is_ignored():
    X, y = _data(3)
    Y = _smoothed(y, 3)
    Y[5] = 0.0
    weight = np.ones(len(y))
    weight[5] = 0.0
    dropped = _fit(np.delete(X, 5, axis=0), np.delete(Y, 5, axis=0))
    np.testing.assert_allclose(_fit(X, Y, sample_weight=weight).coef_, dropped.coef_,
                               atol=1e-8)


@pytest.mark.parametrize("entry, words", [
    (-0.1, "must be finite and non-negative, but row 7"),
    (np.nan, "must be finite and non-negative, but row 7"),
    (np.inf, "must be finite and non-negative, but row 7"),
])
def test_bad_entries_name_the_row_and_leave_the_model_as_it_was(entry, words):
    X, y = _data(3)
    model = _fit(X, y)
    coef = model.coef_.copy()
    Y = _smoothed(y, 3)
    Y[7, 1] = entry
    with pytest.raises(ValueError, match=words):
        model.fit(X, Y)
    np.testing.assert_array_equal(model.coef_, coef)


def test_a_zero_row_with_weight_is_refused():
    X, y = _data(3)
    Y = _smoothed(y, 3)
    Y[4] = 0.0
    model = _fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="row 4 sums to zero but has a positive sample weight"):
        model.fit(X, Y)
    np.testing.assert_array_equal(model.coef_, coef)


def test_partial_fit_takes_the_columns_as_classes():
    X, y = _data(3)
    Y = _smoothed(y, 3)
    model = SoftmaxClassifier(solver="sgd", random_state=0)
    model.partial_fit(X[:45], Y[:45])
    np.testing.assert_array_equal(model.classes_, [0, 1, 2])
    model.partial_fit(X[45:], Y[45:])
    hard = SoftmaxClassifier(solver="sgd", random_state=0)
    hard.partial_fit(X[:45], y[:45], classes=[0, 1, 2]).partial_fit(X[45:], y[45:])
    one_hot = SoftmaxClassifier(solver="sgd", random_state=0)
    one_hot.partial_fit(X[:45], np.eye(3)[y[:45]]).partial_fit(X[45:], np.eye(3)[y[45:]])
    np.testing.assert_allclose(one_hot.coef_, hard.coef_, rtol=1e-10, atol=1e-12)
    assert not np.allclose(model.coef_, hard.coef_)  # the smoothing changes the model
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match="y has 4 columns"):
        model.partial_fit(X[:10], np.full((10, 4), 0.25))
    np.testing.assert_array_equal(model.coef_, coef)


def test_partial_fit_of_a_tiny_batch():
    X, y = _data(3)
    model = SoftmaxClassifier(solver="sgd", random_state=0)
    model.partial_fit(X[:1], _smoothed(y[:1], 3))
    assert np.all(np.isfinite(model.coef_))


@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy"])
def test_cv_with_one_hot_rows_scores_as_with_labels(scoring):
    X, y = _data(3)
    hard = SoftmaxClassifierCV(Cs=3, scoring=scoring, tol=1e-8).fit(X, y)
    soft = SoftmaxClassifierCV(Cs=3, scoring=scoring, tol=1e-8).fit(X, np.eye(3)[y])
    np.testing.assert_allclose(soft.scores_, hard.scores_, rtol=1e-6)
    assert soft.C_ == hard.C_


def test_cv_neg_log_loss_is_the_soft_cross_entropy_of_held_out_rows():
    X, y = _data(3)
    Y = _smoothed(y, 3)
    folds = [(np.arange(30, 90), np.arange(30)), (np.arange(60), np.arange(60, 90))]
    cv = SoftmaxClassifierCV(Cs=[0.5], cv=folds, tol=1e-10, max_iter=500).fit(X, Y)
    for k, (train, test) in enumerate(folds):
        model = _fit(X[train], Y[train], C=0.5)
        expected = np.mean(np.sum(Y[test] * model.predict_log_proba(X[test]), axis=1))
        np.testing.assert_allclose(cv.scores_[k, 0, 0], expected, rtol=1e-6)


def test_inference_with_one_hot_rows_equals_the_labels():
    X, y = _data(3)
    model = _fit(X, y, C=np.inf, solver="newton-cg")
    hard = inference(model, X, y)
    soft = inference(model, X, np.eye(3)[y])
    np.testing.assert_allclose(soft.bse, hard.bse, rtol=1e-10)


def test_inference_with_counts_equals_repeated_rows():
    X, _ = _data(3, n_samples=60)
    counts = np.random.default_rng(1).integers(1, 4, size=(60, 3))
    rows = np.repeat(np.arange(60), counts.sum(axis=1))
    labels = np.concatenate([np.repeat(np.arange(3), c) for c in counts])
    model = _fit(X, counts, C=2.0)
    repeated = inference(model, X[rows], labels)
    aggregated = inference(model, X, counts)
    np.testing.assert_allclose(aggregated.bse, repeated.bse, rtol=1e-8)
