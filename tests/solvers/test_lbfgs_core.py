"""The in-house L-BFGS: its memory, its line search, and curvature carried between problems."""

import dataclasses

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier
from softmax_regression._model.penalties import penalty_from_params
from softmax_regression._fitting.prepare import prepare
from softmax_regression._solvers import solve_lbfgs
from softmax_regression._solvers._curvature import CurvatureMemory
from softmax_regression._solvers._lbfgs_core import minimize_lbfgs
from softmax_regression._solvers.auto import choose_method, solve_auto


def _quadratic(n, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, n))
    return A @ A.T / n + 0.1 * np.eye(n)


def _two_loop(pairs, g):
    """Nocedal and Wright's Algorithm 7.4, as the reference for the compact form."""
    q = np.array(g, dtype=float)
    alphas = []
    for s, y in reversed(pairs):
        alpha = (s @ q) / (s @ y)
        q -= alpha * y
        alphas.append(alpha)
    s, y = pairs[-1]
    q *= (s @ y) / (y @ y)
    for (s, y), alpha in zip(pairs, reversed(alphas)):
        q += (alpha - (y @ q) / (s @ y)) * s
    return -q


def test_direction_equals_the_two_loop_recursion_after_the_ring_wraps():
    n, size = 30, 5
    A = _quadratic(n)
    memory = CurvatureMemory(size, 0.0, np.ones(n, dtype=bool))
    rng = np.random.default_rng(1)
    pairs = []
    for _ in range(size + 3):  # the ring wraps: only the newest `size` count
        s = rng.normal(size=n)
        memory.add(s, A @ s)
        pairs.append((s, A @ s))
    g = rng.normal(size=n)
    expected = _two_loop(pairs[-size:], g)
    np.testing.assert_allclose(memory.direction(g), expected, rtol=1e-12, atol=1e-14)


def test_pairs_without_positive_curvature_are_not_kept():
    memory = CurvatureMemory(5, 0.0, np.ones(3, dtype=bool))
    memory.add(np.array([1.0, 0.0, 0.0]), np.array([-1.0, 0.0, 0.0]))
    memory.add(np.array([1.0, 0.0, 0.0]), np.array([0.0, 1.0, 0.0]))
    assert len(memory) == 0
    g = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(memory.direction(g), -g)


def test_a_memory_moved_to_another_l2_strength_is_that_objectives_memory():
    # Pairs measured on A + 0.7 P, moved to A + 0.2 P, equal pairs measured there.
    n = 20
    A = _quadratic(n)
    penalized = np.ones(n, dtype=bool)
    penalized[-4:] = False  # the intercepts
    P = np.diag(penalized.astype(float))
    rng = np.random.default_rng(2)
    memory = CurvatureMemory(6, 0.7, penalized)
    measured = CurvatureMemory(6, 0.2, penalized)
    for _ in range(9):
        s = rng.normal(size=n)
        memory.add(s, (A + 0.7 * P) @ s)
        measured.add(s, (A + 0.2 * P) @ s)
    moved = memory.for_objective(0.2, penalized)
    g = rng.normal(size=n)
    np.testing.assert_allclose(moved.direction(g), measured.direction(g), rtol=1e-10)
    # The original is untouched, and another layout starts empty.
    assert memory.l2_strength == 0.7 and len(memory) == 6
    assert len(memory.for_objective(0.2, np.ones(n + 1, dtype=bool))) == 0


def test_a_moved_memory_drops_pairs_whose_curvature_is_no_longer_positive():
    penalized = np.ones(2, dtype=bool)
    memory = CurvatureMemory(4, 1.0, penalized)
    # Curvature 0.95 along the first step: below the L2 strength, as rounding
    # can leave it; without the L2 term it would be negative.
    memory.add(np.array([1.0, 0.0]), np.array([0.95, 0.0]))
    memory.add(np.array([0.0, 1.0]), np.array([0.0, 3.0]))
    moved = memory.for_objective(0.0, penalized)
    assert len(moved) == 1
    S, Y = moved.pairs()
    np.testing.assert_array_equal(S, [[0.0, 1.0]])
    np.testing.assert_array_equal(Y, [[0.0, 2.0]])

    # A full ring that has wrapped (its oldest pair in a middle slot) keeps
    # the survivors oldest first.
    ring = CurvatureMemory(3, 1.0, np.ones(3, dtype=bool))
    steps = np.eye(3)
    for s, curvature in zip([steps[0], steps[1], steps[2], steps[0]], [5.0, 0.9, 4.0, 3.0]):
        ring.add(s, curvature * s)
    moved = ring.for_objective(0.0, np.ones(3, dtype=bool))
    S, Y = moved.pairs()
    np.testing.assert_array_equal(S, [steps[2], steps[0]])
    np.testing.assert_array_equal(Y, [3.0 * steps[2], 2.0 * steps[0]])
    g = np.array([1.0, -2.0, 0.5])
    expected = _two_loop([(steps[2], 3.0 * steps[2]), (steps[0], 2.0 * steps[0])], g)
    np.testing.assert_allclose(moved.direction(g), expected, rtol=1e-14)


def test_minimize_reaches_the_minimum_of_a_quadratic():
    n = 25
    A = _quadratic(n, seed=3)
    b = np.random.default_rng(3).normal(size=n)
    x, reason = minimize_lbfgs(
        lambda x: (0.5 * x @ A @ x - b @ x, A @ x - b), np.zeros(n),
        CurvatureMemory(10, 0.0, np.ones(n, dtype=bool)), max_iter=500,
        on_iteration=lambda x, f, g: np.max(np.abs(g)) <= 1e-10,
    )
    assert reason == "stopped"
    np.testing.assert_allclose(x, np.linalg.solve(A, b), rtol=1e-8)


def test_the_line_search_steps_back_from_an_overflow():
    # The objective overflows beyond |x| > 3; the minimum (x = 2) is inside.
    def fun(x):
        if np.max(np.abs(x)) > 3:
            raise FloatingPointError("overflow")
        return float(np.sum((x - 2.0) ** 4 + (x - 2.0) ** 2)), 4 * (x - 2.0) ** 3 + 2 * (x - 2.0)

    x, reason = minimize_lbfgs(fun, np.full(3, -2.9), CurvatureMemory(5, 0.0, np.ones(3, bool)),
                               max_iter=200,
                               on_iteration=lambda x, f, g: np.max(np.abs(g)) <= 1e-9)
    assert reason == "stopped"
    np.testing.assert_allclose(x, 2.0, atol=1e-8)


def test_an_overflow_at_every_trial_is_an_error():
    calls = []

    def fun(x):
        calls.append(x)
        if len(calls) > 1:
            raise FloatingPointError("overflow")
        return 1.0, np.ones(2)

    with pytest.raises(FloatingPointError, match="every step"):
        minimize_lbfgs(fun, np.zeros(2), CurvatureMemory(5, 0.0, np.ones(2, bool)),
                       max_iter=10, on_iteration=lambda x, f, g: False)


def test_a_flat_objective_stops_at_the_precision_limit():
    # Constant in floating point with a gradient that never vanishes: no step
    # lowers anything, and the solver says so instead of running to max_iter.
    n_calls = []

    def fun(x):
        n_calls.append(1)
        return 1.0, np.array([1.0, -1.0])

    x, reason = minimize_lbfgs(fun, np.zeros(2), CurvatureMemory(5, 0.0, np.ones(2, bool)),
                               max_iter=10_000, on_iteration=lambda x, f, g: False)
    assert reason == "precision"
    assert len(n_calls) < 1000


@pytest.fixture(scope="module")
def digits_problem():
    X, y = load_digits(return_X_y=True)
    prepared = prepare(SoftmaxClassifier(), StandardScaler().fit_transform(X), y)
    return prepared.problem, prepared.total


def test_curvature_carried_along_a_path_saves_passes_and_keeps_the_optimum(digits_problem):
    problem, total = digits_problem
    passes = {}
    for carry in (False, True):
        coef, curvature, passes[carry] = problem.initial_coef(), None, 0
        for C in np.logspace(-3, 1, 8):
            point = dataclasses.replace(problem, penalty=penalty_from_params(C, 0.0, total))
            result = solve_lbfgs(point, coef, tol=1e-4, max_iter=1000,
                                 curvature=curvature if carry else None)
            assert result.converged
            coef, curvature = result.coef, result.curvature
            passes[carry] += result.n_evaluations
        if carry:
            cold = solve_lbfgs(point, problem.initial_coef(), tol=1e-10, max_iter=2000)
            # Strong convexity (L2 strength mu) bounds the objective gap of a
            # point with gradient entries at most tol by n tol^2 / (2 mu).
            bound = coef.size * 1e-4**2 / (2 * point.penalty.l2_strength)
            gap = point.objective(coef) - point.objective(cold.coef)
            assert -1e-15 <= gap <= bound
    # Measured: 102 against 171 passes.
    assert passes[True] < 0.7 * passes[False]


def test_a_float32_fit_at_a_tight_tol_takes_about_as_many_passes_as_float64(digits_problem):
    # The line search knows the objective's rounding in float32: where it is
    # flat to that rounding it accepts the step the slope shows instead of
    # shrinking it trial after trial (534 passes against 123 before).
    problem, _ = digits_problem
    problem32 = dataclasses.replace(
        problem, X=problem.X.astype(np.float32), Y=problem.Y.astype(np.float32),
        sample_weight=problem.sample_weight.astype(np.float32),
    )
    results = {}
    for name, p in (("float64", problem), ("float32", problem32)):
        results[name] = solve_lbfgs(p, p.initial_coef(), tol=1e-8, max_iter=1000)
        assert results[name].converged
    assert results["float32"].n_evaluations <= 1.3 * results["float64"].n_evaluations


def test_features_of_1e9_are_fit_not_left_at_the_priors():
    # The softmax saturates within the first trial step: the objective is
    # nearly piecewise linear along it, and the line search cuts the step to
    # the kink (where the tangents cross) instead of by a third per trial,
    # which ran out of trials with the model at its class priors.
    X, y = make_classification(600, 8, n_informative=5, n_classes=3, random_state=0)
    majority = np.bincount(y).max() / len(y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxClassifier().fit(X * 1e9, y)
    assert model.n_iter_[0] > 10
    assert model.score(X * 1e9, y) > majority + 0.2


def test_a_line_search_that_fails_far_from_rounding_says_so():
    # A gradient that points uphill: every trial raises the objective by far
    # more than rounding, which is not the limit of floating-point precision.
    x, reason = minimize_lbfgs(lambda x: (float(x @ x) + 1.0, -2.0 * x), np.ones(3),
                               CurvatureMemory(5, 0.0, np.ones(3, bool)), max_iter=10,
                               on_iteration=lambda x, f, g: False)
    assert reason == "line search"
    np.testing.assert_array_equal(x, np.ones(3))

# -- the reuse of S g and Y g between a direction and the next pair ----------------------------


def _assert_matches(memory, pairs, g):
    """The memory's inner products and direction at ``g`` equal ones formed from scratch."""
    kept = pairs[-memory.size:]
    assert len(memory) == len(kept)
    S, Y = memory.pairs()
    np.testing.assert_array_equal(S, np.reshape([s for s, _ in kept], S.shape))
    np.testing.assert_array_equal(Y, np.reshape([y for _, y in kept], Y.shape))
    # The compact form reads the upper triangle of S Y^T (oldest first) and all of Y Y^T.
    SY, YY = memory.inner_products()
    np.testing.assert_allclose(SY, np.triu(S @ Y.T), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(YY, Y @ Y.T, rtol=1e-10, atol=1e-12)
    d = memory.direction(g)
    if kept:
        np.testing.assert_allclose(d, _two_loop(kept, g), rtol=1e-10, atol=1e-12)
    else:
        np.testing.assert_array_equal(d, -g)
    return d


def test_reused_products_give_the_memory_formed_from_scratch():
    # An L-BFGS-like run on a quadratic: pairs added with their gradients, so
    # the memory takes the cached path, through more pairs than the ring
    # holds, a rejected pair, a restart after clear(), and plain adds.
    n, size = 40, 4
    rng = np.random.default_rng(3)
    A = rng.normal(size=(n, n))
    A = A @ A.T / n + 0.05 * np.eye(n)
    b = rng.normal(size=n)

    def gradient(x):
        return A @ x - b

    memory = CurvatureMemory(size, 0.0, np.ones(n, dtype=bool))
    pairs = []
    x = rng.normal(size=n)
    g = gradient(x)
    cached = 0
    for it in range(20):
        d = _assert_matches(memory, pairs, g)
        alpha = 0.5 + 0.1 * (it % 3)
        step = alpha * d
        g_new = gradient(x + step)
        if it == 6:
            # Negative curvature (as rounding may leave it): the pair is
            # rejected, and the ring and its products stay as they were.
            y = -(g_new - g)
            memory.add(step, y, g_old=g, g_new=g_new)
            assert len(memory) == min(len(pairs), size)
            _assert_matches(memory, pairs, g)
            continue
        if it == 9:
            assert len(pairs) > size  # the ring wrapped
            memory.clear()
            pairs = []
        before = memory._products
        if it == 12:
            memory.add(step, g_new - g)  # without the gradients: the direct products
        else:
            memory.add(step, g_new - g, g_old=g, g_new=g_new)
            cached += before is not None and before[0] is g and len(pairs) > 0
        pairs.append((step, g_new - g))
        x, g = x + step, g_new
    _assert_matches(memory, pairs, g)
    assert len(pairs) > size  # and wrapped again after the clear
    assert cached >= 14


def _filled_memory(n, size, count, seed):
    """A memory of ``size`` pairs after ``count`` random adds, the pairs and the generator."""
    rng = np.random.default_rng(seed)
    memory = CurvatureMemory(size, 0.0, np.ones(n, dtype=bool))
    pairs = []
    for _ in range(count):
        s = rng.normal(size=n)
        y = s + 0.1 * rng.normal(size=n)
        memory.add(s, y)
        pairs.append((s, y))
    return memory, pairs, rng


def test_a_direction_at_another_gradient_is_not_mistaken_for_the_cached_one():
    n = 10
    memory, pairs, rng = _filled_memory(n, size=3, count=4, seed=4)
    g = rng.normal(size=n)
    first = memory.direction(g)
    np.testing.assert_array_equal(memory.direction(g), first)
    # A pair added without the gradients changes the ring: the products
    # cached for g are stale, and a direction at g forms them again.
    s = rng.normal(size=n)
    memory.add(s, 2.0 * s)
    pairs.append((s, 2.0 * s))
    _assert_matches(memory, pairs, g)
    # Another gradient, then a pair whose g_old is not the last direction's
    # gradient: the memory falls back to the direct products.
    g2 = rng.normal(size=n)
    _assert_matches(memory, pairs, g2)
    s = rng.normal(size=n)
    g_new = g + s
    memory.add(s, g_new - g, g_old=g, g_new=g_new)
    pairs.append((s, g_new - g))
    _assert_matches(memory, pairs, g_new)


def test_the_direction_at_the_same_gradient_is_solved_once_until_the_ring_changes():
    # The settle test and the next iteration ask for the direction at the
    # same gradient: the second call returns the first's result; an add or
    # a clear makes it stale.
    n = 12
    memory, pairs, rng = _filled_memory(n, size=4, count=3, seed=5)
    g = rng.normal(size=n)
    assert memory.direction(g.copy()) is not memory.direction(g)  # another array: solved again
    first = memory.direction(g)
    assert memory.direction(g) is first
    s = rng.normal(size=n)
    memory.add(s, 3.0 * s)
    pairs.append((s, 3.0 * s))
    np.testing.assert_allclose(memory.direction(g), _two_loop(pairs, g), rtol=1e-10, atol=1e-12)
    memory.clear()
    np.testing.assert_array_equal(memory.direction(g), -g)


def test_a_pickled_memory_gives_the_same_directions_and_keeps_learning():
    import pickle

    n = 15
    rng = np.random.default_rng(6)
    A = _quadratic(n, seed=6)
    memory = CurvatureMemory(3, 0.0, np.ones(n, dtype=bool))
    pairs = []
    for _ in range(4):
        s = rng.normal(size=n)
        memory.add(s, A @ s)
        pairs.append((s, A @ s))
    copy = pickle.loads(pickle.dumps(memory))
    g = rng.normal(size=n)
    np.testing.assert_allclose(copy.direction(g), memory.direction(g), rtol=1e-12)
    s = rng.normal(size=n)
    copy.add(s, A @ s)
    pairs.append((s, A @ s))
    np.testing.assert_allclose(copy.direction(g), _two_loop(pairs[-3:], g), rtol=1e-10, atol=1e-12)


# -- a diagonal initial matrix (scale) -------------------------------------------------------------


def test_a_scaled_memory_is_the_two_loop_recursion_in_scaled_coordinates():
    # H0 = gamma diag(scale^2): L-BFGS on x / scale, whose pairs are (s / scale, y * scale)
    # and whose gradient is g * scale; its direction, mapped back, is scale * d.
    n, size = 30, 5
    A = _quadratic(n)
    scale = np.logspace(-2, 2, n)
    memory = CurvatureMemory(size, 0.0, np.ones(n, dtype=bool), scale)
    rng = np.random.default_rng(4)
    pairs = []
    for _ in range(size + 3):
        s = rng.normal(size=n)
        memory.add(s, A @ s)
        pairs.append((s, A @ s))
    g = rng.normal(size=n)
    scaled_pairs = [(s / scale, y * scale) for s, y in pairs[-size:]]
    expected = scale * _two_loop(scaled_pairs, g * scale)
    np.testing.assert_allclose(memory.direction(g), expected, rtol=1e-10, atol=1e-12)
    # The pairs read back in the original coordinates.
    S, Y = memory.pairs()
    np.testing.assert_allclose(S, [s for s, _ in pairs[-size:]], rtol=1e-14)
    np.testing.assert_allclose(Y, [y for _, y in pairs[-size:]], rtol=1e-14)
    # Empty, it steps along -scale^2 g, and measures steps in its coordinates.
    empty = CurvatureMemory(size, 0.0, np.ones(n, dtype=bool), scale)
    np.testing.assert_allclose(empty.direction(g), -(scale**2) * g)
    assert empty.length(scale) == pytest.approx(np.sqrt(n))


def test_a_scaled_memory_moved_to_another_l2_strength_drops_its_scale():
    # The scale was measured at one L2 strength: the moved memory keeps the
    # pairs (in the original coordinates), not the scale.
    n = 20
    A = _quadratic(n)
    penalized = np.ones(n)
    penalized[-4:] = 0.0
    scale = np.logspace(-1, 1, n)
    rng = np.random.default_rng(5)
    memory = CurvatureMemory(6, 0.7, penalized, scale)
    measured = CurvatureMemory(6, 0.2, penalized)
    for _ in range(9):
        s = rng.normal(size=n)
        memory.add(s, (A + 0.7 * np.diag(penalized)) @ s)
        measured.add(s, (A + 0.2 * np.diag(penalized)) @ s)
    moved = memory.for_objective(0.2, penalized)
    assert moved.scale is None
    g = rng.normal(size=n)
    np.testing.assert_allclose(moved.direction(g), measured.direction(g), rtol=1e-10)


def test_a_memory_with_a_data_diagonal_scales_each_objective_by_its_own_diagonal():
    # Pairs measured on A + 0.7 P in the coordinates of A's diagonal plus
    # 0.7 P, moved to A + 0.2 P: the two-loop recursion there, in the
    # coordinates of A's diagonal plus 0.2 P.
    n, size = 20, 6
    A = _quadratic(n)
    penalized = np.ones(n)
    penalized[-4:] = 0.0  # the intercepts
    P = np.diag(penalized)
    diagonal = np.diag(A).copy()
    seed = CurvatureMemory.with_data_diagonal(size, penalized, diagonal)
    first = seed.for_objective(0.7, penalized)
    np.testing.assert_allclose(first.scale, 1 / np.sqrt(diagonal + 0.7 * penalized), rtol=1e-15)
    rng = np.random.default_rng(6)
    g = rng.normal(size=n)
    # Empty, it steps along -scale^2 g: Jacobi's step.
    np.testing.assert_allclose(first.direction(g), -g / (diagonal + 0.7 * penalized),
                               rtol=1e-14)
    pairs = []
    for _ in range(size + 3):
        s = rng.normal(size=n)
        first.add(s, (A + 0.7 * P) @ s)
        pairs.append((s, (A + 0.2 * P) @ s))
    moved = first.for_objective(0.2, penalized)
    scale = 1 / np.sqrt(diagonal + 0.2 * penalized)
    np.testing.assert_allclose(moved.scale, scale, rtol=1e-15)
    scaled_pairs = [(s / scale, y * scale) for s, y in pairs[-size:]]
    expected = scale * _two_loop(scaled_pairs, g * scale)
    np.testing.assert_allclose(moved.direction(g), expected, rtol=1e-10)
    # The diagonal travels on; the memory moved from is untouched.
    np.testing.assert_array_equal(moved.data_diagonal, diagonal)
    np.testing.assert_allclose(first.for_objective(0.7, penalized).scale, first.scale)
    assert first.l2_strength == 0.7 and len(first) == size
    # Another layout starts empty, without the diagonal.
    other = first.for_objective(0.2, np.ones(n + 1))
    assert len(other) == 0 and other.scale is None and other.data_diagonal is None


def test_a_data_diagonal_that_is_not_positive_leaves_those_entries_unscaled():
    penalized = np.array([1.0, 1.0, 0.0, 0.0])
    diagonal = np.array([4.0, np.inf, 0.0, 9.0])
    memory = CurvatureMemory.with_data_diagonal(3, penalized, diagonal).for_objective(
        0.0, penalized)
    np.testing.assert_array_equal(memory.scale, [0.5, 1.0, 1.0, 1 / 3])
    # An unpenalized coefficient the data never move gets the L2 term nowhere.
    with_l2 = CurvatureMemory.with_data_diagonal(3, penalized, diagonal).for_objective(
        5.0, penalized)
    np.testing.assert_array_equal(with_l2.scale, [1 / 3, 1.0, 1.0, 1 / 3])


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_a_path_memory_counts_each_feature_as_at_least_a_unit_one(fit_intercept, sparse):
    # A feature nearly always 0 has almost no curvature at the path's start;
    # its entry is floored at the curvature along a feature of mean square 1.
    from softmax_regression._solvers._scipy_bridge import ScipyBridge
    from softmax_regression._solvers.lbfgs import path_curvature

    X, y = make_classification(300, 5, n_informative=3, n_classes=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    X[:, 0] = np.where(np.arange(300) % 50 == 0, 0.1, 0.0)  # rare and small
    X = sp.csr_array(X) if sparse else X
    problem = prepare(SoftmaxClassifier(fit_intercept=fit_intercept), X, y).problem
    coef = problem.initial_coef()
    bridge = ScipyBridge(problem)
    x = bridge.to_flat(coef)
    exact = bridge.hessian_diagonal(x)
    P = bridge.proba(x)
    unit = problem.sample_weight @ (P * (1 - P))
    memory = path_curvature(problem, coef)
    floored = memory.data_diagonal.reshape(exact.shape)
    assert (exact[:, 0] < 1e-3 * unit).all()
    np.testing.assert_allclose(floored[:, 0], unit, rtol=1e-12)
    # Standardized features (mean square 1) are at the floor or above it, as measured.
    np.testing.assert_allclose(floored[:, 1:], np.maximum(exact[:, 1:], unit[:, None]),
                               rtol=1e-12)
    if fit_intercept:
        np.testing.assert_allclose(floored[:, -1], unit, rtol=1e-12)


def _sparse_terms(n=2000, d=400, seed=0):
    # Columns whose frequencies fall as a power law, like the terms of text.
    rng = np.random.default_rng(seed)
    frequency = 0.3 / np.arange(1, d + 1) ** 0.8
    X = sp.csr_array(sp.csr_array(rng.random((n, d)) < frequency)
                     * rng.uniform(0.5, 2.0, (n, d)))
    y = np.argmax(X @ rng.standard_normal((d, 4)) + rng.gumbel(size=(n, 4)), axis=1)
    return X, y


def test_auto_starts_lbfgs_from_the_hessian_diagonal_on_sparse_rows_only():
    X, y = _sparse_terms()
    problem = prepare(SoftmaxClassifier(), X, y).problem
    assert choose_method(problem) == "lbfgs"
    auto = solve_auto(problem, problem.initial_coef(), tol=1e-4, max_iter=100)
    plain = solve_lbfgs(problem, problem.initial_coef(), tol=1e-4, max_iter=100, settle=True)
    assert auto.curvature.scale is not None and plain.curvature.scale is None
    # Terms of very different frequency: fewer iterations from the diagonal
    # (36 against 46 here), to the same tolerance.
    assert auto.converged and auto.n_iter < plain.n_iter
    # Dense rows keep the identity (uncentred columns made the diagonal much
    # worse there).
    rng = np.random.default_rng(0)
    dense_y = np.arange(1500) % 10
    dense = 2 * rng.standard_normal((10, 40))[dense_y] + 3 * rng.standard_normal((1500, 40))
    dense_problem = prepare(SoftmaxClassifier(), dense, dense_y).problem
    assert choose_method(dense_problem) == "lbfgs"
    result = solve_auto(dense_problem, dense_problem.initial_coef(), tol=1e-4, max_iter=100)
    assert result.curvature.scale is None


# -- pairs stored in float32 (a float32 phase) -----------------------------------------------------


def test_a_float32_memory_gives_the_two_loop_direction_to_float32_rounding():
    n, size = 40, 5
    A = _quadratic(n, seed=7)
    scale = np.logspace(-1, 1, n)
    rng = np.random.default_rng(7)
    single = CurvatureMemory(size, 0.0, np.ones(n, dtype=bool), scale, dtype=np.float32)
    pairs = []
    for _ in range(size + 2):
        s = rng.normal(size=n)
        single.add(s, A @ s)
        pairs.append((s, A @ s))
        # Once pairs exist, the next addition reuses the products of the
        # last direction (the difference of two gradients' products).
        single.direction(rng.normal(size=n))
    g = rng.normal(size=n)
    scaled_pairs = [(s / scale, y * scale) for s, y in pairs[-size:]]
    expected = scale * _two_loop(scaled_pairs, g * scale)
    assert single.dtype == np.float32
    d = single.direction(g)
    assert d.dtype == np.float64
    np.testing.assert_allclose(d, expected, rtol=1e-4, atol=1e-4 * np.abs(expected).max())
    S, Y = single.pairs()
    assert S.dtype == Y.dtype == np.float64
    np.testing.assert_allclose(S, [s for s, _ in pairs[-size:]], rtol=1e-6)
    # Taken over in float64, it keeps the pairs and learns on exactly.
    single.astype(np.float64)
    assert single.dtype == np.float64
    np.testing.assert_allclose(single.direction(g), expected, rtol=1e-4,
                               atol=1e-4 * np.abs(expected).max())
    for _ in range(size):  # every float32 pair leaves the ring
        s = rng.normal(size=n)
        single.add(s, A @ s)
        pairs.append((s, A @ s))
    scaled_pairs = [(s / scale, y * scale) for s, y in pairs[-size:]]
    np.testing.assert_allclose(single.direction(g), scale * _two_loop(scaled_pairs, g * scale),
                               rtol=1e-10, atol=1e-12)


def test_a_float32_memorys_products_read_it_without_a_float64_copy():
    # NumPy casts a float32 matrix times a float64 vector to float64 whole: the
    # memory casts the vector instead (a copy of the memory would double it).
    from _data import traced_peak

    n, size = 400_000, 5
    rng = np.random.default_rng(8)
    memory = CurvatureMemory(size, 0.0, np.ones(n, dtype=bool), dtype=np.float32)
    g = rng.normal(size=n)
    for _ in range(size):
        s = rng.normal(size=n)
        g_new = g + 2.0 * s
        memory.direction(g)
        memory.add(s, g_new - g, g_old=g, g_new=g_new)
        g = g_new
    rows = 2 * size * n * 4
    peak = traced_peak(lambda: (memory.direction(g + 1.0), memory.add(g, g + 1.0)))
    assert peak < rows
