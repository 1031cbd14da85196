"""penalty_factor: per-feature multipliers of the L2 and L1 penalties."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from _data import blobs
from _soft_referee import soft_optimum
from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV, inference

SMOOTH = ["auto", "lbfgs", "newton-cg"]


def _data(n_classes=3, n_samples=90):
    X, y = blobs(n_samples=n_samples, n_features=4, n_classes=n_classes, seed=5, spread=2.5)
    return StandardScaler().fit_transform(X), y


def _fit(X, y, **params):
    params = {"tol": 1e-10, "max_iter": 2000, "random_state": 0, **params}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return SoftmaxClassifier(**params).fit(X, y)


@pytest.mark.parametrize("solver", SMOOTH + ["sgd"])
@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_all_ones_equals_no_factor(solver, l1_ratio):
    if l1_ratio and solver == "newton-cg":
        pytest.skip("newton-cg has no L1 part")
    X, y = _data()
    plain = _fit(X, y, solver=solver, C=0.3, l1_ratio=l1_ratio, max_iter=200)
    ones = _fit(X, y, solver=solver, C=0.3, l1_ratio=l1_ratio, max_iter=200,
                penalty_factor=np.ones(4))
    np.testing.assert_allclose(ones.coef_, plain.coef_, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", SMOOTH)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_factor_equals_the_column_divided_by_its_square_root(solver, n_classes):
    X, y = _data(n_classes)
    factor = np.array([1.0, 4.0, 0.25, 9.0])
    weighted = _fit(X, y, solver=solver, C=0.2, penalty_factor=factor)
    scaled = _fit(X / np.sqrt(factor), y, solver=solver, C=0.2)
    np.testing.assert_allclose(weighted.coef_, scaled.coef_ / np.sqrt(factor), rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(weighted.intercept_, scaled.intercept_, rtol=1e-6, atol=1e-9)


def test_sgd_honours_a_factor_within_its_tolerance():
    X, y = _data()
    factor = np.array([1.0, 4.0, 0.0, 2.0])
    _, _, expected = soft_optimum(X, np.eye(3)[y], C=0.2, factor=factor)
    model = _fit(X, y, solver="sgd", C=0.2, penalty_factor=factor, max_iter=300, tol=1e-6)
    np.testing.assert_allclose(model.predict_proba(X), expected, atol=2e-3)


@pytest.mark.parametrize("solver", SMOOTH)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_zero_factor_equals_the_referee_with_that_feature_unpenalized(solver, n_classes):
    X, y = _data(n_classes)
    factor = np.array([1.0, 0.0, 1.0, 1.0])
    coef, _, expected = soft_optimum(X, np.eye(n_classes)[y], C=0.05, factor=factor)
    model = _fit(X, y, solver=solver, C=0.05, penalty_factor=factor)
    np.testing.assert_allclose(model.predict_proba(X), expected, rtol=1e-6)
    # Without the factor the feature shrinks like the others: another model.
    plain = _fit(X, y, solver=solver, C=0.05)
    assert not np.allclose(plain.predict_proba(X), expected, rtol=1e-3)


@pytest.mark.parametrize("solver", ["auto", "lbfgs", "sgd"])
def test_l1_keeps_exact_zeros_only_where_penalized(solver):
    X, y = _data()
    factor = np.array([1.0, 0.0, 1.0, 0.0])
    model = _fit(X, y, solver=solver, C=0.02, l1_ratio=1.0, penalty_factor=factor,
                 max_iter=500)
    plain = _fit(X, y, solver=solver, C=0.02, l1_ratio=1.0, max_iter=500)
    assert np.all(model.coef_[:, [1, 3]] != 0)
    assert np.all(model.coef_[:, [0, 2]] == 0)
    assert np.any(plain.coef_[:, [1, 3]] == 0)


def test_l1_with_factors_reaches_the_optimality_conditions():
    X, y = _data()
    factor = np.array([2.0, 0.0, 0.5, 1.0])
    C = 0.1
    model = _fit(X, y, solver="lbfgs", C=C, l1_ratio=1.0, penalty_factor=factor)
    # The subgradient conditions of sum CE + sum_j f_j |W_kj| / C, from the definition.
    P = model.predict_proba(X)
    G = (P - np.eye(3)[y]).T @ X
    W = model.coef_
    bound = factor / C
    at_zero = W == 0
    assert np.all(np.abs(G[at_zero]) <= np.broadcast_to(bound, W.shape)[at_zero] + 1e-5)
    off = ~at_zero
    np.testing.assert_allclose(G[off], -np.broadcast_to(bound, W.shape)[off] * np.sign(W[off]),
                               atol=1e-5)


def test_cv_applies_the_factor_on_the_path_and_in_the_refit():
    X, y = _data()
    factor = np.array([1.0, 0.0, 3.0, 1.0])
    cv = SoftmaxClassifierCV(Cs=[0.01, 1.0], penalty_factor=factor, tol=1e-10,
                             max_iter=500).fit(X, y)
    refit = _fit(X, y, C=cv.C_, penalty_factor=factor)
    np.testing.assert_allclose(cv.coef_, refit.coef_, rtol=1e-6, atol=1e-8)
    plain = SoftmaxClassifierCV(Cs=[0.01, 1.0], tol=1e-10, max_iter=500).fit(X, y)
    assert not np.allclose(plain.scores_, cv.scores_)


def test_inference_uses_the_factor():
    X, y = _data()
    factor = np.array([1.0, 4.0, 0.25, 9.0])
    model = _fit(X, y, C=0.5, penalty_factor=factor)
    scaled = _fit(X / np.sqrt(factor), y, C=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # penalized: conditional on C
        result = inference(model, X, y)
        expected = inference(scaled, X / np.sqrt(factor), y)
    scale = np.append(1 / np.sqrt(factor), 1.0)  # the intercept is not rescaled
    np.testing.assert_allclose(result.bse, expected.bse * scale, rtol=1e-5)


def test_the_parameter_is_kept_as_given():
    factor = [1, 0, 2]
    model = SoftmaxClassifier(penalty_factor=factor)
    assert model.get_params()["penalty_factor"] is factor
    assert clone(model).penalty_factor == factor


@pytest.mark.parametrize("factor, words", [
    ([1.0, 1.0], r"penalty_factor must have one entry per feature, shape \(4,\)"),
    ([1.0, -1.0, 1.0, 1.0], "penalty_factor must be finite and non-negative"),
    ([1.0, np.nan, 1.0, 1.0], "penalty_factor must be finite and non-negative"),
    ([1.0, np.inf, 1.0, 1.0], "penalty_factor must be finite and non-negative"),
    (np.ones((4, 1)), r"penalty_factor must have one entry per feature"),
])
@pytest.mark.parametrize("estimator", [SoftmaxClassifier, SoftmaxClassifierCV])
def test_a_bad_factor_is_refused_and_the_model_left_as_it_was(factor, words, estimator):
    X, y = _data()
    model = estimator().fit(X, y)
    coef = model.coef_.copy()
    model.set_params(penalty_factor=factor)
    with pytest.raises(ValueError, match=words):
        model.fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)
