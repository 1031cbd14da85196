"""A start whose loss is known: judged without a pass over the data.

Along a regularization path the loss is the same at every point; only the
penalty moves. A solver result keeps the loss's value and gradient at its
coefficients (``loss_at_coef``), and the next point, given them as
``start_loss``, judges that start exactly as an evaluation would, without
one: where the previous solution already meets tol there, the point takes no
pass and no iteration (SoftmaxClassifierCV's weak penalties on many rows).
"""

import pytest
from _data import blobs
from numpy.testing import assert_allclose, assert_array_equal

from softmax_regression import SoftmaxClassifier
from softmax_regression._fitting.prepare import prepare
from softmax_regression._solvers._scipy_bridge import ScipyBridge
from softmax_regression._solvers.auto import solve_auto
from softmax_regression._solvers.lbfgs import solve_lbfgs


def _problem(X, y, **params):
    return prepare(SoftmaxClassifier(**params), X, y, None).problem


def _data(n_samples=3000, n_features=20, n_classes=5):
    return blobs(n_samples, n_features, n_classes, seed=1, spread=3.0)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_a_remembered_loss_gives_the_state_an_evaluation_gives(l1_ratio):
    X, y = _data()
    first = _problem(X, y, C=1.0, l1_ratio=l1_ratio)
    result = solve_lbfgs(first, first.initial_coef(), tol=1e-6, max_iter=500)
    assert result.n_evaluations > 0
    loss_value, loss_G = result.loss_at_coef
    # The loss alone: the problem's own loss at the result, without penalty.
    value, G = first.loss_gradient(result.coef)
    assert_allclose(loss_value, value, rtol=1e-12)
    assert_allclose(loss_G, G, rtol=1e-10, atol=1e-15)
    second = _problem(X, y, C=3.0, l1_ratio=l1_ratio)
    remembered = ScipyBridge(second, split_l1=l1_ratio > 0)
    evaluated = ScipyBridge(second, split_l1=l1_ratio > 0)
    x = remembered.to_flat(result.coef)
    remembered.remember(x, *result.loss_at_coef)
    known, fresh = remembered.state_at(x), evaluated.state_at(x)
    assert remembered.n_evaluations == 0 and evaluated.n_evaluations == 1
    assert_allclose(known[0], fresh[0], rtol=1e-12)
    assert_allclose(known[1], fresh[1], rtol=1e-9, atol=1e-15)
    # The penalty is this problem's: the state differs from the first problem's.
    assert known[0] != pytest.approx(ScipyBridge(first, split_l1=l1_ratio > 0).state_at(x)[0],
                                     rel=1e-9)


@pytest.mark.parametrize("solver", ["lbfgs", "auto"])
def test_a_known_start_that_meets_tol_takes_no_pass_and_no_iteration(solver):
    X, y = _data()
    solve = {"lbfgs": solve_lbfgs, "auto": solve_auto}[solver]
    first = _problem(X, y, C=100.0)
    result = solve(first, first.initial_coef(), tol=1e-4, max_iter=500)
    assert result.converged and result.n_iter > 0
    # C 100 -> 200 on 3,000 rows: the penalty's gradient moves by far less than tol.
    second = _problem(X, y, C=200.0)
    _, G = second.smooth_value_gradient(result.coef)
    assert second.optimality(result.coef, G) <= 1e-4
    known = solve(second, result.coef, tol=1e-4, max_iter=500, start_loss=result.loss_at_coef)
    assert known.converged and known.n_iter == 0 and known.n_evaluations == 0
    assert_array_equal(known.coef, result.coef)
    assert_allclose(known.optimality, second.optimality(result.coef, G), rtol=1e-9)
    # Without the known loss, the same start costs a pass.
    fresh = solve(second, result.coef, tol=1e-4, max_iter=500)
    assert fresh.n_iter == 0 and fresh.n_evaluations >= 1


def test_a_run_that_takes_no_step_hands_its_curvature_on_unmoved():
    # A path's point that keeps its known start does no work on the
    # neighbour's pairs either: the next point moves them from their own L2
    # strength, as it would the moved copy.
    X, y = _data()
    first = _problem(X, y, C=100.0)
    result = solve_lbfgs(first, first.initial_coef(), tol=1e-4, max_iter=500)
    assert len(result.curvature) > 0
    second, third = _problem(X, y, C=200.0), _problem(X, y, C=400.0)
    known = solve_lbfgs(second, result.coef, tol=1e-4, max_iter=500,
                        start_loss=result.loss_at_coef, curvature=result.curvature)
    assert known.n_iter == 0 and known.curvature is result.curvature
    assert known.curvature.l2_strength == first.penalty.l2_strength
    # max_iter=0 takes no step either; without a neighbour's pairs, an empty memory.
    assert solve_lbfgs(second, result.coef, tol=1e-12, max_iter=0,
                       curvature=result.curvature).curvature is result.curvature
    empty = solve_lbfgs(second, result.coef, tol=1e-4, max_iter=500,
                        start_loss=result.loss_at_coef).curvature
    assert len(empty) == 0 and empty.l2_strength == second.penalty.l2_strength
    # The next point's memory is the same from the unmoved pairs as from moved ones.
    moved = result.curvature.for_objective(second.penalty.l2_strength,
                                           known.curvature.penalized)
    g = result.loss_at_coef[1].ravel()
    penalized = moved.penalized
    assert_allclose(known.curvature.for_objective(third.penalty.l2_strength, penalized)
                    .direction(g),
                    moved.for_objective(third.penalty.l2_strength, penalized).direction(g),
                    rtol=1e-9)


@pytest.mark.parametrize("single_precision", [False, True])
def test_a_known_start_above_tol_gives_the_same_fit(single_precision):
    # C 0.01 -> 1: the previous solution is far from the new one. The solve
    # from it runs as without the known loss (the same iterates), saving
    # the float64 start's pass where there is no float32 copy to begin on.
    X, y = _data()
    first = _problem(X, y, C=0.01)
    result = solve_lbfgs(first, first.initial_coef(), tol=1e-4, max_iter=500)
    second = _problem(X, y, C=1.0)
    options = dict(tol=1e-4, max_iter=500, single_precision=single_precision,
                   single_precision_bytes=2**30)
    known = solve_lbfgs(second, result.coef, start_loss=result.loss_at_coef, **options)
    fresh = solve_lbfgs(second, result.coef, **options)
    assert known.n_iter == fresh.n_iter > 1
    assert_array_equal(known.coef, fresh.coef)
    saved = 0 if single_precision else 1
    assert known.n_evaluations == fresh.n_evaluations - saved
    assert known.converged
