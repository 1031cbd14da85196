"""The curvature memory's reuse of ``S g`` and ``Y g`` between a direction and the next pair."""

import numpy as np

from softmax_regression._solvers._lbfgs_core import CurvatureMemory


def _two_loop(pairs, g):
    """Nocedal and Wright's Algorithm 7.4: ``-H g`` from the pairs, oldest first."""
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


def _assert_matches(memory, pairs, g):
    """The memory's inner products and direction at ``g`` equal ones formed from scratch."""
    kept = pairs[-memory.size:]
    assert len(memory) == len(kept)
    S, Y = memory.pairs()
    np.testing.assert_array_equal(S, np.reshape([s for s, _ in kept], S.shape))
    np.testing.assert_array_equal(Y, np.reshape([y for _, y in kept], Y.shape))
    order = memory._order()
    block = np.ix_(order, order)
    # The compact form reads the upper triangle of S Y^T (oldest first) and all of Y Y^T.
    np.testing.assert_allclose(memory._SY[block], np.triu(S @ Y.T), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(memory._YY[block], Y @ Y.T, rtol=1e-10, atol=1e-12)
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


def test_a_direction_at_another_gradient_is_not_mistaken_for_the_cached_one():
    n = 10
    rng = np.random.default_rng(4)
    memory = CurvatureMemory(3, 0.0, np.ones(n, dtype=bool))
    pairs = []
    for _ in range(4):
        s = rng.normal(size=n)
        y = s + 0.1 * rng.normal(size=n)
        memory.add(s, y)
        pairs.append((s, y))
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
