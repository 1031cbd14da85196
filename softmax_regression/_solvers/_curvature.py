"""The curvature memory of L-BFGS: pairs that can travel to a nearby objective.

scipy's L-BFGS-B starts every run with an empty memory. Along a
regularization path, the previous run already measured the curvature of an
objective that differs from the new one only in its L2 strength, which moves
each pair by an exact amount (:meth:`CurvatureMemory.for_objective`). Handing
those pairs over saves the iterations L-BFGS would spend learning the
curvature again. :mod:`._lbfgs_core` iterates with it.
"""

import numpy as np
from scipy.linalg.lapack import dtrtrs

_EPS = float(np.finfo(float).eps)


def inverse_sqrt(diagonal):
    """``1 / sqrt(diagonal)``, a Hessian diagonal's scale; 1 where that is not positive and finite."""
    usable = (diagonal > 0) & (diagonal < np.inf)  # False for NaN
    return 1.0 / np.sqrt(np.where(usable, diagonal, 1.0))


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
        if not sy > _EPS * yy:
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
        # The pairs move in their ring slots, in the coordinates of both
        # scales at once (old ``o``, new ``w``; 1 where there is none): the
        # stored pair (S, Y) is (s / o, y * o), so the new one is
        # (S o / w, (Y / o + delta P S o) w). A path moves its memory at every
        # point: a few passes over the rows, no reordering copy.
        rows = self._SY_rows.astype(np.float64)  # a copy: this memory stays as it is
        size = self.size
        S, Y = rows[:size], rows[size:]
        old, new = self.scale, other.scale
        delta = float(l2_strength) - self.l2_strength
        if old is not None or new is not None:
            o = 1.0 if old is None else old
            w = 1.0 if new is None else new
            if delta:
                Y += S * (delta * penalized * o * o)  # still in the old coordinates
            Y *= w / o
            S *= o / w
        elif delta:
            Y += S * (delta * penalized)
        order = self._order()
        if self._count == size:
            # A full ring: the products of the rows in their slots, reordered
            # (size x size numbers) instead of the rows (size x n).
            oldest_first = np.ix_(order, order)
            SY, YY = (S @ Y.T)[oldest_first], (Y @ Y.T)[oldest_first]
        else:
            S_kept, Y_kept = S[order], Y[order]
            SY, YY = S_kept @ Y_kept.T, Y_kept @ Y_kept.T
        SY = np.triu(SY)
        keep = SY.diagonal() > _EPS * YY.diagonal()
        k = int(np.count_nonzero(keep))
        if k == self._count:
            other._SY_rows = rows
            other._next = self._next
        else:
            SY, YY = SY[np.ix_(keep, keep)], YY[np.ix_(keep, keep)]
            other._S[:k], other._Y[:k] = S[order[keep]], Y[order[keep]]
            other._next = k % size
        other._SY[:k, :k], other._YY[:k, :k] = SY, YY
        other._count = k
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
