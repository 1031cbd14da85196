"""Solvers alone, on a SoftmaxProblem: the optimum, and agreement between them."""

import numpy as np
import pytest
from _data import objective_gradient
from scipy.optimize import minimize
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier
from softmax_regression._model.loss import LinearSoftmaxLoss
from softmax_regression._model.penalties import L2, ElasticNet
from softmax_regression._model.problem import SoftmaxProblem
from softmax_regression._solvers import SOLVERS, solve_lbfgs, solve_newton_cg

EXACT = [spec for spec in SOLVERS.values() if not spec.stateful]


def make_problem(X, y, n_classes, penalty, fit_intercept=True, dtype=np.float64):
    loss = LinearSoftmaxLoss(n_classes, fit_intercept)
    w = np.full(len(y), 1.0 / len(y), dtype=dtype)
    return SoftmaxProblem(X.astype(dtype), loss.one_hot(y, dtype), w, loss, penalty)


@pytest.fixture(scope="module")
def small_problem():
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    return make_problem(X, y, 3, L2(0.01))


def _bfgs_optimum(problem):
    """The same objective minimized by a different method (scipy BFGS)."""
    shape = problem.coef_shape

    def fun(x):
        value, G = problem.smooth_value_gradient(x.reshape(shape))
        return value, G.ravel()

    res = minimize(fun, np.zeros(np.prod(shape)), jac=True, method="BFGS",
                   options={"gtol": 1e-11, "maxiter": 10000})
    return res.x.reshape(shape)


@pytest.mark.parametrize("solve", [solve_lbfgs, solve_newton_cg])
def test_solver_reaches_the_optimum(small_problem, solve):
    reference = _bfgs_optimum(small_problem)
    # 1e-9: the objective's rounding stops L-BFGS-B at an optimality of ~8e-9 here,
    # within the slack (10 tol) that a stop at floating-point precision is given.
    result = solve(small_problem, np.zeros(small_problem.coef_shape), tol=1e-9, max_iter=1000)
    assert result.converged
    np.testing.assert_allclose(result.coef, reference, atol=1e-7)
    assert result.n_iter == len(result.objective_history) > 0
    assert result.n_evaluations >= result.n_iter
    assert result.objective_history[-1] == pytest.approx(
        small_problem.objective(reference), rel=1e-12
    )


def test_optimality_at_stop_is_below_tol(small_problem):
    for tol in (1e-3, 1e-6):
        for spec in EXACT:
            result = spec.function(small_problem, np.zeros(small_problem.coef_shape),
                                   tol=tol, max_iter=1000)
            _, G = small_problem.smooth_value_gradient(result.coef)
            assert result.optimality == pytest.approx(small_problem.optimality(result.coef, G))
            assert result.optimality <= tol


def test_lbfgs_objective_decreases(small_problem):
    result = solve_lbfgs(small_problem, np.zeros(small_problem.coef_shape), tol=1e-9, max_iter=500)
    history = np.array(result.objective_history)
    assert np.all(np.diff(history) <= 1e-15)


def test_start_at_optimum_takes_no_iteration(small_problem):
    first = solve_lbfgs(small_problem, np.zeros(small_problem.coef_shape), tol=1e-8, max_iter=500)
    for solve in (solve_lbfgs, solve_newton_cg):
        again = solve(small_problem, first.coef, tol=1e-6, max_iter=500)
        assert again.n_iter == 0 and again.converged
        np.testing.assert_array_equal(again.coef, first.coef)


def test_max_iter_reached_is_not_converged(small_problem):
    for spec in EXACT:
        result = spec.function(small_problem, np.zeros(small_problem.coef_shape),
                               tol=1e-12, max_iter=2)
        assert not result.converged and result.n_iter == 2


def test_newton_rejects_l1(small_problem):
    problem = make_problem(small_problem.X, small_problem.Y.argmax(1), 3, ElasticNet(0.01, 0.0))
    with pytest.raises(ValueError, match="newton-cg"):
        solve_newton_cg(problem, np.zeros(problem.coef_shape), tol=1e-4, max_iter=10)


def test_newton_needs_fewer_iterations_than_lbfgs_on_digits():
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    problem = make_problem(X, y, 10, L2(1.0 / len(y)))
    coef0 = np.zeros(problem.coef_shape)
    newton = solve_newton_cg(problem, coef0, tol=1e-8, max_iter=1000)
    lbfgs = solve_lbfgs(problem, coef0, tol=1e-8, max_iter=5000)
    assert newton.optimality < 1e-8 and newton.converged
    assert newton.n_iter < lbfgs.n_iter
    assert newton.objective_history[-1] == pytest.approx(lbfgs.objective_history[-1], rel=1e-9)


def test_float32_problem_stays_float32(small_problem):
    X = small_problem.X
    problem = make_problem(X, small_problem.Y.argmax(1), 3, L2(0.01), dtype=np.float32)
    for spec in EXACT:
        result = spec.function(problem, np.zeros(problem.coef_shape, np.float32),
                               tol=1e-4, max_iter=200)
        assert result.coef.dtype == np.float32
        assert result.converged


@pytest.mark.parametrize("solve", [solve_lbfgs, solve_newton_cg])
def test_a_stop_at_precision_far_above_tol_is_not_convergence(small_problem, solve):
    # 1e-18: below the resolution of the gradient at this optimum (~1e-17).
    result = solve(small_problem, np.zeros(small_problem.coef_shape), tol=1e-18, max_iter=1000)
    assert result.optimality > 10 * 1e-18
    assert not result.converged
    assert result.message == "the objective no longer decreases at the limit of floating-point precision"
    assert result.stop == "precision"


def test_the_estimator_warns_at_a_stop_at_precision_far_above_tol():
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4,
                               n_classes=3, random_state=0)
    with pytest.warns(ConvergenceWarning, match="limit of floating-point precision"):
        SoftmaxClassifier(tol=1e-18, max_iter=10_000).fit(X, y)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_the_intercept_gradient_is_within_tol_at_the_stop(solver):
    # Features centered (weighted) within each class: W = 0 is optimal whatever the
    # intercepts, so the weights' gradient is zero from the start and only
    # the intercepts' gradient (the weighted mean of P - Y) says that
    # intercepts started away from the class shares are not optimal.
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [20, 40, 60])
    X = rng.normal(size=(120, 3))
    weight = rng.uniform(0.5, 2.0, size=120)
    for k in range(3):
        X[y == k] -= np.average(X[y == k], axis=0, weights=weight[y == k])
    model = SoftmaxClassifier(solver=solver, C=np.inf, warm_start=True, random_state=0)
    model.fit(X, y, sample_weight=weight)
    model.intercept_ = model.intercept_ + np.array([2.0, 0.0, -2.0])
    G_W, G_b = objective_gradient(model, X, y, weight)
    assert np.abs(G_W).max() <= 1e-12 and np.abs(G_b).max() > 100 * model.tol
    model.fit(X, y, sample_weight=weight)
    G_W, G_b = objective_gradient(model, X, y, weight)
    assert np.abs(G_b).max() <= model.tol
    assert np.abs(G_W).max() <= model.tol
