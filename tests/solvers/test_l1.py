"""L1 and elastic-net penalties: exact zeros, saga's optimum, sparsify."""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier

sys.path.insert(0, str(Path(__file__).parents[1] / "reference"))
from l1_problems import CASES, load, objective  # noqa: E402

REFERENCE = Path(__file__).parents[1] / "reference" / "saga_l1.npz"


@pytest.fixture(scope="module")
def saga():
    with np.load(REFERENCE) as data:
        return {key: data[key] for key in data.files}


_problems = {}


def problem(name):
    if name not in _problems:
        _problems[name] = load(name)
    return _problems[name]


@pytest.mark.parametrize("solver", ["auto", "lbfgs"])
@pytest.mark.parametrize("name, C, l1_ratio", CASES)
def test_l1_solvers_reach_saga_objective_and_support(saga, name, C, l1_ratio, solver):
    # auto: proximal Newton; lbfgs: L-BFGS-B on the split weights.
    X, y = problem(name)
    key = f"{name}|{C}|{l1_ratio}"
    model = SoftmaxClassifier(solver=solver, C=C, l1_ratio=l1_ratio, tol=1e-8,
                              max_iter=20_000).fit(X, y)
    ours = objective(model.coef_, model.intercept_, X, y, C, l1_ratio)
    theirs = float(saga[key + "|objective"])
    assert ours <= theirs * (1 + 1e-7), (ours, theirs)
    # Same non-zero pattern when saga converged, ignoring what saga leaves
    # below 1e-6.
    saga_coef = saga[key + "|coef"]
    if not bool(saga[key + "|converged"]):
        return
    mismatch = (model.coef_ != 0) != (saga_coef != 0)
    assert np.all(np.abs(saga_coef[mismatch]) < 1e-6), np.count_nonzero(mismatch)
    assert np.any(model.coef_ == 0) and np.any(model.coef_ != 0)


def test_pure_l1_gives_exact_zeros_and_more_with_smaller_C():
    X, y = problem("digits")
    zeros = [np.mean(SoftmaxClassifier(C=C, l1_ratio=1.0, tol=1e-6, max_iter=5000)
                     .fit(X, y).coef_ == 0) for C in (10.0, 1.0, 0.1)]
    assert 0 < zeros[0] < zeros[1] < zeros[2] < 1


def test_optimality_is_the_subdifferential_distance():
    X, y = problem("breast_cancer")
    model = SoftmaxClassifier(C=0.1, l1_ratio=1.0, tol=1e-7, max_iter=5000).fit(X, y)
    # Check the first-order conditions directly, from the shared objective's
    # smooth part: |g| <= l1 at zeros, g = -l1 * sign(w) elsewhere.
    n = len(y)
    z = X @ model.coef_[0] + model.intercept_[0]
    residual = 1 / (1 + np.exp(-z)) - (y == 1)
    g = X.T @ residual / n
    l1 = 1.0 / (0.1 * n)
    w = model.coef_[0]
    assert np.all(np.abs(g[w == 0]) <= l1 + 1e-7)
    np.testing.assert_allclose(g[w != 0], -l1 * np.sign(w[w != 0]), atol=1e-7)
    assert abs(residual.mean()) < 1e-7  # unpenalized intercept


def test_sgd_l1_gives_exact_zeros_near_the_optimum():
    X, y = problem("digits")
    optimum = SoftmaxClassifier(l1_ratio=1.0, tol=1e-8, max_iter=10_000).fit(X, y)
    best = objective(optimum.coef_, optimum.intercept_, X, y, 1.0, 1.0)
    for seed in range(3):
        model = SoftmaxClassifier(solver="sgd", l1_ratio=1.0, random_state=seed).fit(X, y)
        reached = objective(model.coef_, model.intercept_, X, y, 1.0, 1.0)
        assert best <= reached <= 1.02 * best, (seed, reached, best)
        assert np.mean(model.coef_ == 0) > 0.5


def test_newton_cg_refuses_l1_and_names_what_works():
    X, y = problem("breast_cancer")
    with pytest.raises(ValueError, match=r"newton-cg.*l1_ratio=1\.0.*\['auto', 'lbfgs', 'sgd'\]"):
        SoftmaxClassifier(solver="newton-cg", l1_ratio=1.0).fit(X, y)


def test_infinite_C_ignores_l1_ratio():
    X, y = problem("digits")
    X = X[:, :10]
    a = SoftmaxClassifier(C=np.inf, l1_ratio=1.0, tol=1e-8, max_iter=5000)
    b = SoftmaxClassifier(C=np.inf, l1_ratio=0.0, tol=1e-8, max_iter=5000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        np.testing.assert_allclose(a.fit(X, y).coef_, b.fit(X, y).coef_, rtol=1e-6, atol=1e-6)
        SoftmaxClassifier(C=np.inf, l1_ratio=1.0, solver="newton-cg").fit(X, y)


def test_sparsify_and_densify():
    X, y = problem("digits")
    model = SoftmaxClassifier(C=0.1, l1_ratio=1.0).fit(X, y)
    dense_proba = model.predict_proba(X)
    model.sparsify()
    assert sp.issparse(model.coef_)
    np.testing.assert_allclose(model.predict_proba(X), dense_proba, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), np.argmax(dense_proba, axis=1))
    model.set_params(warm_start=True, tol=1e-6).fit(X, y)  # warm start from sparse coef_
    assert isinstance(model.coef_, np.ndarray)
    model.sparsify().densify()
    assert isinstance(model.coef_, np.ndarray)


def test_verbose_reports_the_optimality(capsys):
    X, y = problem("breast_cancer")
    SoftmaxClassifier(solver="lbfgs", l1_ratio=0.5, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "[lbfgs] iter" in out and "optimality=" in out
