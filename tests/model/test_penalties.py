"""Penalties alone: values, the proximal operator, the optimality measure."""

import numpy as np
import pytest

from softmax_regression._model.penalties import L1, L2, ElasticNet, penalty_from_params


def test_values(rng):
    W = rng.standard_normal((3, 4))
    assert L2(0.5).value(W) == pytest.approx(0.25 * np.sum(W**2))
    assert L1(0.5).value(W) == pytest.approx(0.5 * np.sum(np.abs(W)))
    enet = ElasticNet(0.3, 0.7)
    assert enet.value(W) == pytest.approx(0.3 * np.abs(W).sum() + 0.35 * (W**2).sum())
    assert enet.smooth_value(W) == pytest.approx(0.35 * (W**2).sum())
    np.testing.assert_allclose(enet.smooth_gradient(W), 0.7 * W)


@pytest.mark.parametrize("strength, step", [(0.1, 1.0), (1.0, 0.3), (2.0, 2.0)])
def test_prox_solves_its_defining_problem(rng, strength, step):
    # prox(V) = argmin_W  1/(2 step) ||W - V||^2 + l1 ||W||_1, so W - V + step*l1*s = 0
    # for some s in the subdifferential of |.| at W: exactly what
    # subgradient_distance measures for the smooth part (W - V) / step.
    penalty = L1(strength)
    V = rng.standard_normal((4, 5)) * 2
    W = penalty.prox(V, step)
    assert np.any(W == 0) and np.any(W != 0)
    np.testing.assert_allclose(penalty.subgradient_distance(W, (W - V) / step), 0.0, atol=1e-12)
    # Any other point has a larger prox objective.
    objective = lambda U: 0.5 / step * np.sum((U - V) ** 2) + penalty.value(U)  # noqa: E731
    for _ in range(20):
        assert objective(W) <= objective(W + 1e-3 * rng.standard_normal(W.shape))


def test_l2_prox_is_shrinkage(rng):
    V = rng.standard_normal((2, 3))
    np.testing.assert_array_equal(L2(1.0).prox(V, 0.5), V)  # no non-smooth part


def test_subgradient_distance_cases():
    penalty = L1(1.0)
    W = np.array([[0.0, 0.0, 2.0, -2.0]])
    G = np.array([[0.5, -3.0, -1.0, 0.25]])
    # at 0: max(|g| - 1, 0); off 0: |g + sign(w)|
    np.testing.assert_allclose(penalty.subgradient_distance(W, G), [[0.0, 2.0, 0.0, 0.75]])
    np.testing.assert_allclose(L2(1.0).subgradient_distance(W, G), np.abs(G))


def test_penalty_from_params():
    assert penalty_from_params(np.inf, 0.5, 10.0).is_zero
    p = penalty_from_params(2.0, 0.0, 10.0)
    assert isinstance(p, L2) and p.l2_strength == pytest.approx(1 / 20)
    p = penalty_from_params(2.0, 1.0, 10.0)
    assert isinstance(p, L1) and p.l1_strength == pytest.approx(1 / 20)
    p = penalty_from_params(2.0, 0.25, 10.0)
    assert p.l1_strength == pytest.approx(0.25 / 20) and p.l2_strength == pytest.approx(0.75 / 20)
    assert not p.is_smooth and penalty_from_params(2.0, 0.0, 1.0).is_smooth


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("factor", [None, np.array([0.0, 1.0, 2.5, 0.5])])
def test_a_problem_adds_its_l2_part_to_host_float64_and_other_arrays_alike(rng, fit_intercept,
                                                                          factor):
    # The solvers' host float64 copies take a shortcut over the whole
    # coefficients; float32 arrays take the blocks' way. Both are the penalty's
    # value and gradient, the intercepts untouched.
    from softmax_regression._model.loss import LinearSoftmaxLoss
    from softmax_regression._model.problem import SoftmaxProblem

    X = rng.standard_normal((6, 4))
    problem = SoftmaxProblem(X=X, Y=np.eye(3)[[0, 1, 2, 0, 1, 2]], sample_weight=np.full(6, 1 / 6),
                             loss=LinearSoftmaxLoss(3, fit_intercept),
                             penalty=ElasticNet(0.0, 0.7, factor=factor))
    coef = rng.standard_normal(problem.coef_shape)
    G = rng.standard_normal(problem.coef_shape)
    W = coef[:, :4]
    f = np.ones(4) if factor is None else factor
    expected_value = 2.0 + 0.35 * np.sum(W * W * f)
    expected_G = G.copy()
    expected_G[:, :4] += 0.7 * W * f
    for dtype, rtol in [(np.float64, 1e-14), (np.float32, 1e-6)]:
        value, gradient = problem.add_smooth_penalty(2.0, G.astype(dtype), coef.astype(dtype))
        assert gradient.dtype == dtype
        assert value == pytest.approx(expected_value, rel=rtol)
        np.testing.assert_allclose(gradient, expected_G, rtol=rtol, atol=rtol)
        if fit_intercept:
            np.testing.assert_array_equal(gradient[:, 4], G[:, 4].astype(dtype))
