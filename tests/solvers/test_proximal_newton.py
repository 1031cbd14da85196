"""Proximal Newton, the default for an L1 part of the penalty.

Its solutions are checked against the optimality conditions of the L1 problem,
computed here in float64 from the fitted ``coef_`` and ``intercept_`` (not from
the solver's own measure): a zero weight's gradient within the L1 strength, a
nonzero weight's gradient balancing its L1 term, the intercepts' gradient zero.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import blobs
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier
from softmax_regression._fitting.prepare import prepare
from softmax_regression._model.referee import objective
from softmax_regression._solvers.auto import choose_method


def _method(X, y, **params):
    return choose_method(prepare(SoftmaxClassifier(**params), X, y).problem)


def kkt_violation(X, y, model, C, l1_ratio, sample_weight=None):
    """Largest violation of the L1 problem's optimality conditions, float64."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    X = X.astype(np.float64)
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    total = s.sum()
    W = np.asarray(model.coef_, dtype=np.float64)
    Z = X @ W.T + np.asarray(model.intercept_, dtype=np.float64)
    index = np.searchsorted(model.classes_, y)
    if W.shape[0] == 1:  # binary: one logit for the second class
        p = 1.0 / (1.0 + np.exp(-Z[:, 0]))
        R = (s * (p - (index == 1)))[:, None] / total
    else:
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        R = s[:, None] * (P - np.eye(W.shape[0])[index]) / total
    G = R.T @ X + (1.0 - l1_ratio) / (C * total) * W
    strength = l1_ratio / (C * total)
    violation = np.where(W == 0, np.maximum(np.abs(G) - strength, 0.0),
                         np.abs(G + strength * np.sign(W)))
    intercept = np.abs(R.sum(axis=0)).max() if model.fit_intercept else 0.0
    return max(float(violation.max()), float(intercept))


def _data(n_classes=3, n_samples=300, n_features=8, seed=0):
    X, y = blobs(n_samples, n_features, n_classes, seed=seed, spread=2.0)
    # Two features that are combinations of others: flat directions of the
    # loss along which the penalty alone decides.
    return np.column_stack([X, X[:, 0] + X[:, 1], X[:, 2] - 0.5 * X[:, 3]]), y


CASES = {
    "multiclass": lambda: (*_data(), {}, None),
    "binary": lambda: (*_data(n_classes=2), {}, None),
    "five_classes": lambda: (*_data(n_classes=5, n_samples=500), {}, None),
    "weights": lambda: (*_data(), {}, np.random.default_rng(0).uniform(0, 3, 300)),
    "no_intercept": lambda: (*_data(), {"fit_intercept": False}, None),
    "elastic_net": lambda: (*_data(), {"l1_ratio": 0.5}, None),
    "sparse": lambda: (sp.csr_array(_data()[0]), _data()[1], {}, None),
    "unscaled": lambda: (_data()[0] * np.logspace(-2, 2, 10), _data()[1], {}, None),
    "weak_penalty": lambda: (*_data(), {"C": 100.0}, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_proximal_newton_meets_the_optimality_conditions(case):
    X, y, params, weight = CASES[case]()
    params = {"l1_ratio": 1.0, "C": 0.1, **params}
    assert _method(X, y, **params) == "newton-proximal"
    with warnings.catch_warnings():
        # Unscaled features put tol=1e-9 below what their rounding allows:
        # a stop at that floor is the optimum wanted here.
        warnings.filterwarnings("ignore", message=".*limit of floating-point precision",
                                category=ConvergenceWarning)
        model = SoftmaxClassifier(tol=1e-9, max_iter=500, **params).fit(
            X, y, sample_weight=weight)
    assert kkt_violation(X, y, model, params["C"], params["l1_ratio"], weight) < 1e-7
    # The L1 part leaves exact zeros, and an objective no L-BFGS fit beats.
    if params["l1_ratio"] == 1.0 and params["C"] == 0.1:
        assert np.count_nonzero(model.coef_ == 0) > 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        lbfgs = SoftmaxClassifier(solver="lbfgs", tol=1e-9, max_iter=5000, **params).fit(
            X, y, sample_weight=weight)
    classes = np.searchsorted(model.classes_, y)
    f = {m: objective(X, classes, m.coef_, m.intercept_, C=params["C"],
                      l1_ratio=params["l1_ratio"], sample_weight=weight)
         for m in (model, lbfgs)}
    assert f[model] <= f[lbfgs] + 1e-12 * abs(f[lbfgs])


def test_float32_meets_the_conditions_to_its_precision():
    X, y = _data()
    model = SoftmaxClassifier(l1_ratio=1.0, C=0.1, tol=1e-5).fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    assert kkt_violation(X, y, model, 0.1, 1.0) < 1e-5


def _sampled_data():
    # 5 x 21 = 105 coefficients on 12,000 rows: the Hessian from a row sample.
    return blobs(12_000, 20, 5, seed=3, spread=3.0)


def test_the_sampled_hessian_reaches_the_optimum_deterministically():
    X, y = _sampled_data()
    params = dict(l1_ratio=1.0, C=0.01)
    problem = prepare(SoftmaxClassifier(**params), X, y).problem
    assert choose_method(problem) == "newton-proximal"
    first, second = (SoftmaxClassifier(**params).fit(X, y) for _ in range(2))
    assert np.array_equal(first.coef_, second.coef_)
    assert np.array_equal(first.intercept_, second.intercept_)
    fits = {seed: SoftmaxClassifier(tol=1e-9, random_state=seed, **params).fit(X, y)
            for seed in (0, 1)}
    assert not np.array_equal(fits[0].coef_, fits[1].coef_)
    for fit in fits.values():
        assert kkt_violation(X, y, fit, 0.01, 1.0) < 1e-8


def test_the_default_stop_is_within_tol_and_warns_at_max_iter():
    X, y = _data()
    model = SoftmaxClassifier(l1_ratio=1.0, C=0.1).fit(X, y)
    assert kkt_violation(X, y, model, 0.1, 1.0) <= model.tol
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        SoftmaxClassifier(l1_ratio=1.0, C=0.1, max_iter=1).fit(X, y)


def test_many_coefficients_on_few_rows_go_to_lbfgs():
    X, y = blobs(200, 400, 3)
    assert _method(X, y, l1_ratio=1.0) == "lbfgs"


def test_verbose_names_the_method(capsys):
    X, y = _data()
    SoftmaxClassifier(l1_ratio=1.0, C=0.1, verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "[auto] method: newton-proximal" in out and "[newton-proximal] iter" in out


@pytest.mark.parametrize("curved", [True, False])
def test_a_line_minimization_reaches_the_models_minimum_along_its_direction(curved):
    # The model along u + t v: a t^2 / 2 + b t + sum l1 |u + t v|. Its
    # minimum is at a kink or a piece's stationary point; where the slopes
    # at t = 0 already bracket zero the call returns at once, and u stays.
    from types import SimpleNamespace

    from softmax_regression._solvers.proximal_newton import ProximalNewton

    rng = np.random.default_rng(4)
    kept = moved = 0
    for _ in range(300):
        n = 12
        l1_of = np.where(rng.random(n) < 0.2, 0.0, rng.uniform(0.1, 1.0, n))
        u = np.where(rng.random(n) < 0.5, 0.0, rng.normal(size=n))
        v = np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n))
        A = rng.normal(size=(n, n))
        H = A @ A.T if curved else np.zeros((n, n))
        r = rng.normal(size=n) * rng.choice([0.01, 1.0])
        solver = SimpleNamespace(l1_of=l1_of)
        along = ProximalNewton._along(solver, v)
        a, b = max(float(v @ H @ v), 0.0), float(r @ v)

        start = u.copy()

        def model(t):
            return 0.5 * a * t * t + b * t + float(l1_of @ np.abs(start + t * v))

        support = (v != 0) & (l1_of > 0)
        grid = np.r_[np.linspace(-20, 20, 4001), -u[support] / v[support]]
        lowest = float(np.min(0.5 * a * grid**2 + b * grid
                              + np.abs(start + grid[:, None] * v) @ l1_of))
        bounded = a > 0 or abs(b) < along[4]
        step = ProximalNewton._line_minimum(solver, u, v, H @ v, r, along)
        if step == 0.0:
            kept += 1
            np.testing.assert_array_equal(u, start)
            if bounded:
                assert model(0.0) <= lowest + 1e-9 * max(1.0, abs(lowest))
        else:
            moved += 1
            t = (u - start)[v != 0][0] / v[v != 0][0]
            assert model(t) <= lowest + 1e-9 * max(1.0, abs(lowest))
            assert model(t) < model(0.0)
    assert kept > 20 and moved > 20
