"""L-BFGS for a smooth convex objective, with a curvature memory that travels.

scipy's L-BFGS-B starts every run with an empty memory. Along a
regularization path, the previous run already measured the curvature of an
objective that differs from the new one only in its L2 strength, which moves
each pair by an exact amount. Handing those pairs over saves the iterations
L-BFGS would spend learning the curvature again.

The iteration is the textbook one (Nocedal and Wright, Algorithm 7.5): the
inverse Hessian approximation with the initial scaling ``s'y / y'y`` of the
newest pair, and a line search for the weak Wolfe conditions that tries the
unit step first, interpolates down and doubles up. On a convex objective
every accepted step has ``s'y > 0``, so the memory stays positive definite.
"""

import math

import numpy as np
from scipy.linalg.lapack import dtrtrs

ARMIJO = 1e-4
WOLFE = 0.9
MAX_TRIALS = 20
# Iterations in a row that lower neither the objective nor the largest
# gradient entry (below its best): the iterates only move within rounding.
STALL = 5
# The relative change of a float64 objective that is rounding (scipy's
# L-BFGS-B stops on a decrease this small; here it only widens the line
# search); in general 64 times the precision of the data's dtype.
FTOL = 64 * np.finfo(float).eps


def inverse_sqrt(diagonal):
    """``1 / sqrt(diagonal)``, a Hessian diagonal's scale; 1 where that is not positive and finite."""
    scale = np.ones_like(diagonal)
    usable = (diagonal > 0) & np.isfinite(diagonal)
    scale[usable] = 1.0 / np.sqrt(diagonal[usable])
    return scale


class CurvatureMemory:
    """The newest ``size`` pairs ``(s, y)``: a step and its change of gradient.

    The pairs live in a ring of preallocated rows; the inner products the
    compact form reads are kept up to date, oldest pair first: ``y_i' y_j``
    for all pairs, and ``s_i' y_j`` for pair ``i`` no newer than pair ``j``
    (the rest of that matrix is zero). Adding a pair or computing a direction
    costs a few matrix-vector products and no copy of the memory: the rows
    stay in their ring slots, and only the small matrices of inner products
    move when the oldest pair leaves.

    With a large flat vector these products are bound by reading ``S`` and
    ``Y``, so the memory keeps ``S g`` and ``Y g`` from the last direction.
    An :meth:`add` given the two gradients whose difference is ``y`` forms
    the new inner products from those and from one read of each matrix at
    the new gradient, which the next :meth:`direction` reuses: an iteration
    of :func:`minimize_lbfgs` reads the matrices 4 times instead of 7.

    Parameters
    ----------
    size : int
        Number of pairs kept.
    l2_strength : float
        The L2 strength of the objective the pairs were measured on.
    penalized : ndarray
        How much of the L2 penalty each entry of the flat vector gets (its
        penalty factor; 0 or False where it is unpenalized).
    scale : ndarray or None, default=None
        A positive diagonal scaling: the initial inverse Hessian is
        ``gamma * diag(scale**2)`` instead of ``gamma * I`` (L-BFGS in the
        coordinates ``x / scale``, where the pairs are kept). From the
        Hessian's diagonal, ``scale = 1 / sqrt(diag)`` puts coefficients of
        very different curvature (frequent and rare terms of sparse text)
        on one scale.
    dtype : dtype, default=np.float64
        The dtype the pairs are stored in (see :meth:`astype`); the inner
        products, steps and directions are float64 in either.
    data_diagonal : ndarray or None, default=None
        The Hessian diagonal of the data term (the loss, without penalty)
        somewhere near the solutions: with it, the memory of each objective
        :meth:`for_objective` hands over scales by that objective's diagonal,
        ``scale = 1 / sqrt(data_diagonal + l2_strength * penalized)``, and
        passes it on (see :meth:`with_data_diagonal`).
    """

    def __init__(self, size, l2_strength, penalized, scale=None, dtype=np.float64,
                 data_diagonal=None):
        self.size = size
        self.l2_strength = float(l2_strength)
        self.penalized = penalized
        self.scale = scale
        self.data_diagonal = data_diagonal
        n = penalized.shape[0]
        # S and Y are the two halves of one array, so that a product of both
        # with a vector is one matrix-vector product.
        self._SY_rows = np.zeros((2 * size, n), dtype=dtype)
        self._SY = np.zeros((size, size))  # s_i' y_j, i no newer than j, oldest first
        self._YY = np.zeros((size, size))  # y_i' y_j, oldest first
        self._count = 0
        self._next = 0  # the ring slot the next pair goes to
        # The slots in ring order twice: the kept pairs' slots, oldest first,
        # are a slice of it (see _order).
        self._ring = np.arange(2 * size) % size
        # (g, S @ g, Y @ g) in slot order for the gradient of the last
        # direction, or None once the ring has changed since.
        self._products = None
        # (g, direction) of the last direction, until the ring changes.
        self._direction = None

    def __len__(self):
        return self._count

    # Views, not attributes: a copy of the memory (a pickle) keeps them halves
    # of its own array.
    @property
    def _S(self):
        return self._SY_rows[: self.size]

    @property
    def _Y(self):
        return self._SY_rows[self.size:]

    @property
    def dtype(self):
        return self._SY_rows.dtype

    def astype(self, dtype):
        """Store the pairs in ``dtype`` from now on (in place).

        A float32 phase of a float64 solve keeps its pairs in float32: its
        gradients are accurate to float32's rounding only, and the products
        with the pairs, which read the whole memory twice an iteration, then
        read half the bytes. The float64 phase takes them over in float64.
        """
        if self._SY_rows.dtype != dtype:
            rows = self._SY_rows
            # An empty memory's pages are untouched: allocate, do not copy.
            self._SY_rows = rows.astype(dtype) if self._count else np.zeros(rows.shape, dtype)
            self._products = self._direction = None
        return self

    def _rows_product(self, v):
        """``SY_rows @ v`` in float64, ``v`` cast to the rows' dtype first.

        NumPy would otherwise cast the whole memory to ``v``'s dtype.
        """
        return np.asarray(self._SY_rows @ v.astype(self.dtype, copy=False), dtype=np.float64)

    def _order(self):
        """Ring slots from the oldest pair to the newest (a view)."""
        start = (self._next - self._count) % self.size
        return self._ring[start : start + self._count]

    def inner_products(self):
        """``(triu(S Y^T), Y Y^T)`` of the kept pairs, oldest first (views)."""
        count = self._count
        return self._SY[:count, :count], self._YY[:count, :count]

    def pairs(self):
        """``(S, Y)`` with one pair per row, oldest first (float64 copies)."""
        order = self._order()
        S = self._S[order].astype(np.float64, copy=False)
        Y = self._Y[order].astype(np.float64, copy=False)
        if self.scale is not None:
            S *= self.scale
            Y /= self.scale
        return S, Y

    def length(self, d):
        """The Euclidean length of a step ``d`` in the memory's coordinates."""
        return float(np.linalg.norm(d if self.scale is None else d / self.scale))

    def _scaled(self, g):
        """A gradient (or a change of it) in the memory's coordinates."""
        return g if self.scale is None else g * self.scale

    def _products_at(self, g):
        """``(S @ g, Y @ g)``, from the last direction's when ``g`` is its gradient."""
        if self._products is not None and self._products[0] is g:
            return self._products[1], self._products[2]
        return None

    def add(self, s, y, g_old=None, g_new=None):
        """Keep the pair when its curvature ``s'y`` is safely positive.

        Where ``y = g_new - g_old`` and ``g_old`` is the (unchanged) gradient
        of the last :meth:`direction`, passing both saves a read of ``S`` and
        ``Y``; the result is the same to rounding.
        """
        sy = float(s @ y)
        yy = float(y @ y)
        if not sy > np.finfo(float).eps * yy:
            return
        slot = self._next
        old = self._products_at(g_old) if g_new is not None else None
        if self.scale is not None:
            s, y = s / self.scale, y * self.scale
            yy = float(y @ y)
        self._S[slot] = s
        self._Y[slot] = y
        kept = self._order()
        if self._count == self.size:
            # The oldest pair (in this slot) leaves: the inner products of
            # the others move one place towards the oldest.
            kept = kept[1:]
            self._SY[:-1, :-1] = self._SY[1:, 1:]
            self._YY[:-1, :-1] = self._YY[1:, 1:]
        if not kept.size:
            # No other pair: only the new slot's products exist.
            column = row = np.zeros(0)
            if g_new is not None:
                Sg, Yg = np.zeros(self.size), np.zeros(self.size)
                scaled = self._scaled(g_new)
                Sg[slot], Yg[slot] = float(s @ scaled), float(y @ scaled)
                self._products = (g_new, Sg, Yg)
            else:
                self._products = None
        elif old is not None:
            # s_i' y = s_i' g_new - s_i' g_old (and so for y_i' y): a read of
            # S and Y at g_new, which the next direction needs anyway,
            # replaces reading them against y. The difference cancels where
            # |y| << |g|: the relative error of an entry is about
            # eps |g| / |y| instead of eps. Each entry is formed once, when
            # its pair arrives, so nothing accumulates; the diagonal (the
            # curvature test and the scaling gamma) is a direct dot product.
            both = self._rows_product(self._scaled(g_new))
            Sg, Yg = both[: self.size], both[self.size:]
            column, row = Sg[kept] - old[0][kept], Yg[kept] - old[1][kept]
            self._products = (g_new, Sg, Yg)
        else:
            both = self._rows_product(y)
            column, row = both[: self.size][kept], both[self.size:][kept]
            self._products = None
        # The new pair is the newest: its row of S Y^T lies below the
        # diagonal, which the compact form never reads; keeping it would cost
        # a read of Y against s at every pair.
        new = kept.size
        self._SY[:new, new], self._SY[new, :new] = column, 0.0
        self._YY[:new, new] = self._YY[new, :new] = row
        self._SY[new, new], self._YY[new, new] = sy, yy
        self._next = (slot + 1) % self.size
        self._count = new + 1
        self._direction = None

    def clear(self):
        self._count = 0
        self._products = None
        self._direction = None

    @classmethod
    def with_data_diagonal(cls, size, penalized, data_diagonal):
        """An empty memory that scales every objective by its Hessian diagonal.

        Along a regularization path the data term is the same at every point
        and only the L2 strength moves the diagonal, by an exact amount: one
        diagonal of the data term, measured once, gives each point's scale
        (see :meth:`for_objective`).
        """
        return cls(size, 0.0, penalized, data_diagonal=np.asarray(data_diagonal, dtype=float))

    def _scale_for(self, l2_strength, penalized):
        """``1 / sqrt`` of the data diagonal plus the L2 penalty's; 1 where that is not positive."""
        if self.data_diagonal is None:
            return None
        return inverse_sqrt(self.data_diagonal + float(l2_strength) * penalized)

    def for_objective(self, l2_strength, penalized):
        """The memory of an objective with another L2 strength (a copy).

        The gradient of ``f + delta/2 ||x_P||^2`` changes by ``delta * s_P``
        more over a step ``s``, so each pair moves by exactly that. Pairs whose
        curvature would no longer be positive are dropped, as is everything
        when the layout differs. A memory with a ``data_diagonal`` gives its
        copy the scale of the new objective's diagonal (the pairs are kept in
        its coordinates); otherwise the copy has no scale: a diagonal measured
        at one L2 strength would misjudge another's.
        """
        same_layout = penalized.shape == self.penalized.shape and np.array_equal(
            penalized, self.penalized)
        data_diagonal = self.data_diagonal if same_layout else None
        other = CurvatureMemory(self.size, l2_strength, penalized, data_diagonal=data_diagonal)
        other.scale = other._scale_for(l2_strength, penalized)
        if not same_layout or not self._count:
            return other
        S, Y = self.pairs()
        delta = float(l2_strength) - self.l2_strength
        if delta:
            Y += delta * (S * penalized)
        if other.scale is not None:
            S /= other.scale
            Y *= other.scale
        SY, YY = np.triu(S @ Y.T), Y @ Y.T
        keep = np.diag(SY) > np.finfo(float).eps * np.diag(YY)
        if not keep.all():
            S, Y, SY, YY = S[keep], Y[keep], SY[np.ix_(keep, keep)], YY[np.ix_(keep, keep)]
        k = S.shape[0]
        other._S[:k], other._Y[:k], other._SY[:k, :k], other._YY[:k, :k] = S, Y, SY, YY
        other._count, other._next = k, k % self.size
        return other

    def direction(self, g):
        """``-H g`` for the inverse Hessian approximation ``H``.

        The compact form of Byrd, Nocedal and Schnabel (1994), equal to the
        two-loop recursion with ``H0 = gamma I`` (in the scaled coordinates)
        but in a few matrix-vector products rather than a Python loop over
        the pairs.
        """
        count = self._count
        if not count:
            return -g if self.scale is None else -(self.scale**2) * g
        # The settle test of a converged iteration asks for the direction
        # that the next iteration then takes: the same gradient, one solve.
        if self._direction is not None and self._direction[0] is g:
            return self._direction[1]
        order = self._order()
        SY, YY = self._SY[:count, :count], self._YY[:count, :count]
        gamma = SY[-1, -1] / YY[-1, -1]
        products = self._products_at(g)
        if products is None:
            both = self._rows_product(self._scaled(g))
            products = both[: self.size], both[self.size:]
            self._products = (g, *products)
        Sg, Yg = products
        # dtrtrs reads only the upper triangle of S Y^T.
        u, _ = dtrtrs(SY, Sg[order])
        v = SY.diagonal() * u
        v += gamma * (YY @ u - Yg[order])
        top, _ = dtrtrs(SY, v, trans=1)
        # -H g = -gamma g + gamma Y^T u - S^T top, the last two as one product.
        coefficients = np.zeros(2 * self.size)
        coefficients[order] = -top
        coefficients[self.size + order] = gamma * u
        d = np.asarray(self._SY_rows.T @ coefficients.astype(self.dtype), dtype=np.float64)
        d -= gamma * self._scaled(g)
        if self.scale is not None:
            d *= self.scale
        self._direction = (g, d)
        return d


class LineSearchFailure(Exception):
    """No step along a descent direction decreased the objective enough.

    ``overflowed`` says whether every trial overflowed, which points at the
    data; ``at_rounding`` whether the trials came within the objective's
    rounding, which points at the resolution of floating point.
    """

    def __init__(self, overflowed, at_rounding):
        super().__init__("the line search found no decrease")
        self.overflowed = overflowed
        self.at_rounding = at_rounding


def _trial(fun, x, d, alpha):
    """``(f, g)`` at ``x + alpha d``; ``None`` where the evaluation overflows."""
    try:
        f, g = fun(x + alpha * d)
    except FloatingPointError:
        return None
    if not math.isfinite(f):
        return None
    return f, g


def line_search(fun, x, f, g, d, alpha, resolution=FTOL):
    """A step ``alpha`` along ``d`` with the weak Wolfe conditions.

    Returns ``(alpha, f, g)`` at the accepted point: the Armijo point of
    lowest objective when the trials run out before the curvature condition
    holds. Raises :class:`LineSearchFailure` when no trial decreased the
    objective enough. ``resolution`` is the relative rounding of ``f``.
    """
    slope = float(g @ d)
    rounding = resolution * max(abs(f), 1.0)
    low, high = 0.0, math.inf
    f_low, slope_low = f, slope  # the objective and slope along d at ``low``
    best = None
    finite = False  # whether any trial could be evaluated
    at_rounding = False
    for _ in range(MAX_TRIALS):
        trial = _trial(fun, x, d, alpha)
        if trial is None:
            high = alpha
            alpha = low + 0.1 * (high - low)
            continue
        finite = True
        f_t, g_t = trial
        slope_t = float(g_t @ d)
        if f_t > f + ARMIJO * alpha * slope:
            at_rounding = at_rounding or f_t <= f + rounding
            if f_t <= f + rounding and WOLFE * slope <= slope_t <= (2 * ARMIJO - 1) * slope:
                # Approximate Wolfe conditions (Hager and Zhang, 2005): where
                # the objective is flat to rounding, the slope still shows
                # the step at the minimum along d.
                return alpha, f_t, g_t
            high = alpha
            alpha = _shorter(low, high, f_low, slope_low, f, slope, f_t, slope_t, alpha)
            continue
        if best is None or f_t <= best[1]:
            best = (alpha, f_t, g_t)
        if slope_t >= WOLFE * slope:
            return best
        low, f_low, slope_low = alpha, f_t, slope_t
        alpha = 2.0 * alpha if math.isinf(high) else 0.5 * (low + high)
    if best is None:
        raise LineSearchFailure(not finite, at_rounding)
    return best


def _shorter(low, high, f_low, slope_low, f, slope, f_t, slope_t, alpha):
    """The next trial inside ``(low, high)`` after ``alpha = high`` failed Armijo.

    The smaller of two estimates of the minimizer along d: the quadratic
    through ``f``, ``slope`` and ``f_t`` (kept at least a tenth of the bracket
    in), and the point where the tangents at ``low`` and at ``alpha`` cross,
    which a convex objective puts inside the bracket. The tangents matter on a
    nearly piecewise-linear objective (saturated softmax, features of 1e9):
    their crossing is the kink, a cut of many orders of magnitude at once
    where the quadratic would cut by a third per trial. At most half of the
    bracket.
    """
    width = high - low
    curvature = f_t - f - slope * alpha
    guess = -slope * alpha * alpha / (2.0 * curvature) if curvature > 0 else low
    guess = max(guess, low + 0.1 * width)
    if slope_t > slope_low:
        crossing = (f_t - f_low - slope_t * alpha + slope_low * low) / (slope_low - slope_t)
        guess = min(guess, max(crossing, low + 1e-12 * width))
    return min(guess, low + 0.5 * width)


def minimize_lbfgs(fun, x0, memory, *, max_iter, on_iteration, resolution=FTOL):
    """Minimize a smooth convex ``fun`` from ``x0`` with L-BFGS.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (f, g)``, float and flat float64 gradient.
    x0 : ndarray
        Flat float64 start.
    memory : CurvatureMemory
        Pairs to start from (possibly empty); updated in place.
    max_iter : int
        Maximum number of iterations (accepted steps).
    on_iteration : callable
        ``on_iteration(x, f, g) -> bool`` after every accepted step; true stops.
    resolution : float, default=FTOL
        Relative rounding of ``f``: a float32 objective is flat to rounding
        at a far larger change than a float64 one.

    Returns
    -------
    x : ndarray
        The last accepted point.
    reason : str
        ``"stopped"`` (``on_iteration`` asked), ``"precision"`` (no step
        along a descent direction decreases the objective beyond rounding),
        ``"line search"`` (no step decreased it, far from rounding) or
        ``"max_iter"``.
    """
    x = np.array(x0, dtype=float, copy=True)
    f, g = fun(x)
    best_gradient = math.inf
    stalled = 0
    for _ in range(max_iter):
        d = memory.direction(g)
        if not float(g @ d) < 0.0:
            # Rounding made the model's direction useless: restart from the gradient.
            memory.clear()
            d = -g
        if memory:
            alpha = 1.0
        else:
            norm = memory.length(d)
            alpha = min(1.0, 1.0 / norm) if norm > 0 else 1.0
        try:
            alpha, f_new, g_new = line_search(fun, x, f, g, d, alpha, resolution)
        except LineSearchFailure as failure:
            if failure.overflowed:
                raise FloatingPointError("overflow at every step the line search tried")
            return x, "precision" if failure.at_rounding else "line search"
        step = alpha * d
        memory.add(step, g_new - g, g_old=g, g_new=g_new)
        x = x + step
        gradient = float(np.max(np.abs(g_new))) if g_new.size else 0.0
        progress = f_new < f or gradient < best_gradient
        stalled = 0 if progress else stalled + 1
        best_gradient = min(best_gradient, gradient)
        f, g = f_new, g_new
        if on_iteration(x, f, g):
            return x, "stopped"
        if stalled >= STALL:
            return x, "precision"
    return x, "max_iter"
