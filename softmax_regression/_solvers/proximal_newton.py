"""Proximal Newton for an L1 part of the penalty (the default for L1 and elastic net).

Each iteration minimizes, by coordinate descent, the quadratic model of the
smooth part (loss plus L2) plus the exact L1 term,

    g' d + d' H d / 2 + l1 * |W + d_W|_1,

then backtracks along ``d`` until the whole objective decreases by a share of
what the model predicted (Lee, Sun and Saunders, 2014; Yuan, Ho and Lin,
2012, for the same idea in newGLMNET). The model sees the kink of ``|w|`` at
zero exactly, so coefficients reach exact zeros and stay there in a few
iterations, where L-BFGS-B on the split weights ``W+ - W-`` crawls along the
bounds (measured on the L1 benchmark: 100 iterations still 8e-6 above the
optimum).

``H`` is the full Hessian, formed over all the rows where that is cheap and
over a fixed random sample of them elsewhere (see
:class:`~.newton_family.SubsampledNewtonCG`); every value, gradient and
stop uses all the rows.
"""

import math

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import daxpy

from .._model.hessian import HessianForm, host_float64
from .._utils.namespace import namespace
from ._trace import settled
from .newton_family import SubsampledNewtonCG, full_hessian_cost

# Armijo's share of the predicted decrease, and the backtracking factor.
ARMIJO = 1e-4
BACKTRACK = 0.5
MAX_TRIALS = 30
# Coordinate-descent sweeps per model, and the stop of the sweeps: the
# largest coordinate move, relative to the largest move of the first sweep.
MAX_SWEEPS = 50
SWEEP_RTOL = 1e-3
# ... or the model's decrease in a sweep, relative to its decrease so far.
SWEEP_FTOL = 1e-6
# Eigenvalues of the Gram matrix of [X 1] below this share of the largest
# mark linearly dependent columns.
NULL_RTOL = 1e-10


class ProximalNewton(SubsampledNewtonCG):
    """Proximal Newton steps on a problem with an L1 part in its penalty.

    Parameters
    ----------
    problem : SoftmaxProblem
        In memory (NumPy or scipy sparse X).
    sample : bool
        Whether the Hessian comes from a sample of the rows (as
        :class:`~.newton_family.SubsampledNewtonCG` draws it) or all of them.
    random_state : int, RandomState or None
        Draws the sample; None uses a fixed stream.
    **kwargs
        ``tol``, ``max_iter``, ``verbose``, ``callback``.
    """

    name = "newton-proximal"

    def __init__(self, problem, *, sample, random_state=None, **kwargs):
        super().__init__(problem, random_state=random_state, **kwargs)
        self.sample = sample
        self.evaluate = self.bridge.value_gradient_with_hessp
        n_logits = self.shape[0]
        d = problem.n_features
        # The L1 and L2 strengths of each feature (penalty factors included),
        # and the L1 strength of each flat coefficient (0 for the intercepts).
        self.l1_of = (float(problem.penalty.l1_strength) * problem.coefficient_factors).ravel()
        self.l1_column = self.l1_of[:d]
        self.l2_column = self.l2_weights[0, :d]
        # A common shift of one feature's weights over all the classes moves
        # only the penalty (three or more classes, all with a logit).
        self.shiftable = n_logits >= 3 and problem.n_features > 0
        if not sample:
            self.hessian_cost = full_hessian_cost(self.shape)

    def setup(self, x):
        if self.sample:
            super().setup(x)  # draws the sample, see _draw
        else:
            self.X, self.weight = self.problem.X, self.problem.sample_weight
            self.form = HessianForm(self.problem.loss, self.X, self.weight)
        # Each flat direction with what its line minimizations read of it.
        self.flat = [(v, self._along(v)) for v in self._flat_directions()]

    def _flat_directions(self):
        """Directions along which the loss does not change: dependent columns of ``[X 1]``.

        For each null vector ``c`` of ``[X 1]`` (features that are linear
        combinations of others, as redundant features are) and each logit
        ``k``, moving row ``k`` of the coefficients along ``c`` changes no
        logit. The model is flat along them but for the penalty, and
        coordinate descent would crawl; :meth:`direction` minimizes along
        each of them exactly. Found once, from the Gram matrix of the rows
        the Hessian is formed on.
        """
        X = self.X
        if sp.issparse(X):
            gram = np.asarray((X.T @ X).toarray(), dtype=np.float64)
            sums = np.asarray(X.sum(axis=0), dtype=np.float64).ravel()
        else:
            xp = namespace(X)
            gram, sums = host_float64(X.T @ X), host_float64(xp.sum(X, axis=0))
        if self.problem.loss.fit_intercept:
            gram = np.block([[gram, sums[:, None]], [sums[None, :], np.array([[X.shape[0]]])]])
        values, vectors = np.linalg.eigh(gram)
        null = vectors[:, values <= NULL_RTOL * max(float(values[-1]), 1e-300)]
        directions = []
        for c in null.T:
            c = np.where(np.abs(c) > 1e-9 * np.abs(c).max(), c, 0.0)
            for k in range(self.shape[0]):
                v = np.zeros(self.shape)
                v[k] = c
                directions.append(v.ravel())
        return directions

    def _draw(self, m):
        super()._draw(m)
        self.form = HessianForm(self.problem.loss, self.X, self.weight)
        # Forming the Hessian on the sample: its share of p / 4 passes.
        self.hessian_cost *= full_hessian_cost(self.shape)

    def after_iteration(self, before, after):
        if self.sample:
            super().after_iteration(before, after)

    def objective(self, x, f):
        """The whole objective from the smooth part's value ``f``."""
        return f + float(self.l1_of @ np.abs(x))

    def hessian(self, x):
        """The smooth part's Hessian at ``x``, from the sample or all the rows."""
        if self.sample and self.X is not self.problem.X:
            P = self.problem.loss.proba(self.bridge.to_coef(x), self.X, self.offset)
        else:
            P = self.bridge.proba(x)
        self.bridge.n_hessian_products += 1
        self.work += self.hessian_cost
        H = self.form.at(P)
        H.flat[:: H.shape[0] + 1] += self.l2_weights.ravel()
        return H

    def direction(self, x, g):
        """The minimizer ``u`` of the model around ``x``.

        Coordinate descent sweeps, each followed by exact minimizations along
        the directions where single coordinates would crawl: a common shift
        of one feature's weights over the classes, the dependent columns of
        ``[X 1]``, and the sweep's own move. The sweeps stop when a sweep
        moves little or lowers the model little; a model left unsolved after
        :data:`MAX_SWEEPS` only makes the step shorter, never wrong, since
        the line search checks it on the whole objective.
        """
        H = np.asarray(self.hessian(x), dtype=np.float64)
        # Python floats and row views for the coordinate loop: numpy scalars
        # and a temporary per update cost more than the arithmetic, and
        # BLAS's axpy adds a row to r in place (a third of ``r += H[j] * delta``).
        diagonal = np.diag(H).tolist()
        floor = 1e-12 * max(max(diagonal), 1e-300)
        rows = list(H)
        u = x.copy()
        r = g.copy()  # the model's gradient at u: g + H (u - x)
        l1_of = self.l1_of
        l1_list = l1_of.tolist()
        u_at = u.item
        everything = range(x.shape[0])
        coordinates, full_sweep = everything, True
        first = None
        previous = None
        # The curvature along each flat direction: the same for every sweep.
        flat = [(v, H @ v, along) for v, along in self.flat]
        q_start = q_before = float(l1_of @ np.abs(x))
        for _ in range(MAX_SWEEPS):
            largest = 0.0
            active = []
            r_at = r.item
            for j in coordinates:
                a = diagonal[j]
                if a <= floor:
                    continue  # a coordinate the data do not determine
                uj, lam, rj = u_at(j), l1_list[j], r_at(j)
                t = uj - rj / a
                if lam:
                    t = math.copysign(max(abs(t) - lam / a, 0.0), t)
                delta = t - uj
                if t != 0.0 or lam == 0.0 or abs(rj) > lam:
                    active.append(j)
                if delta:
                    u[j] = t
                    r = daxpy(rows[j], r, a=delta)
                    r_at = r.item
                    largest = max(largest, abs(delta))
            moved = self._best_shifts(u, x, H) if self.shiftable else 0.0
            if moved:
                r = g + H @ (u - x)
            for v, Hv, along in self._valleys(u, previous, flat, H):
                step = self._line_minimum(u, v, Hv, r, along)
                if step:
                    moved = max(moved, step)
                    r = g + H @ (u - x)
            previous = u.copy()
            largest = max(largest, moved)
            first = largest if first is None else first
            step = u - x
            q = float(g @ step + 0.5 * step @ (r - g) + l1_of @ np.abs(u))
            gained, q_before = q_before - q, q
            if largest <= SWEEP_RTOL * first or gained <= SWEEP_FTOL * (q_start - q):
                if full_sweep:
                    break
                # Settled on the active coordinates: one sweep over all of
                # them checks that no coordinate at zero wants to move.
                coordinates, full_sweep = everything, True
                continue
            # Later sweeps visit the coordinates that can move: nonzero, free
            # or with a model gradient beyond the L1 threshold.
            coordinates, full_sweep = active, False
        return u

    def _valleys(self, u, previous, flat, H):
        """Directions along which coordinate descent would crawl, read as ``u`` moves.

        ``(v, H v, _along(v))``: the dependent columns of ``[X 1]`` (``flat``,
        formed once per model), then the sweep's own move: along a valley of
        the model (collinear features) the sweeps repeat the same move, which
        is followed to the model's minimum along it.
        """
        yield from flat
        if previous is not None:
            move = u - previous  # after the moves along the columns above
            if move.any():
                yield move, H @ move, self._along(move)

    def _along(self, v):
        """What the model's L1 term reads of a direction ``v``.

        ``(support, v there, L1 strengths there, their L1 weights along v,
        the weights' sum)``: the coefficients that ``v`` moves and the L1
        term sees.
        """
        support = np.flatnonzero((v != 0) & (self.l1_of > 0))
        v_s, l1_s = v[support], self.l1_of[support]
        weights = l1_s * np.abs(v_s)
        return support, v_s, l1_s, weights, float(weights.sum())

    def _line_minimum(self, u, v, Hv, r, along):
        """Move ``u`` to the model's minimum along ``v``; returns the largest move.

        Along ``u + t v`` the model is ``a t^2 / 2 + b t`` plus the L1 term,
        whose kinks are where a coordinate of ``u + t v`` crosses zero; the
        minimum of this convex piecewise quadratic is at a kink or at the
        stationary point of a piece. ``along`` is :meth:`_along` of ``v``.
        """
        # The curvature along a flat direction is zero but for rounding.
        a, b = max(float(v @ Hv), 0.0), float(r @ v)
        support, v_s, l1_s, weights, total = along
        if support.size == 0 or abs(b) >= total and a <= 0:
            return 0.0  # no kink, or a model without a minimum along v
        u_s = u[support]
        # Already at the minimum when the slopes on both sides of t = 0 have
        # the right signs: b, plus the L1 term's slope where u is not zero,
        # plus or minus its weight where u is zero (most calls end here).
        slope = b + float(l1_s @ (np.sign(u_s) * v_s))
        if abs(slope) <= float(weights @ (u_s == 0)):
            return 0.0
        kinks = np.sort(-u_s / v_s)
        candidates = [kinks]
        if a > 0:
            # On the piece with m kinks to its left the slope is
            # a t + b + (weight left of t) - (weight right of t).
            order = np.argsort(-u_s / v_s)
            left = np.concatenate([[0.0], np.cumsum(weights[order])])
            offsets = 2 * left - total
            low = np.concatenate([[-np.inf], kinks])
            high = np.concatenate([kinks, [np.inf]])
            candidates.append(np.clip(-(b + offsets) / a, low, high))
        T = np.concatenate(candidates)
        T = T[np.isfinite(T)]
        phi = 0.5 * a * T**2 + b * T + (
            l1_s * np.abs(u_s[None, :] + T[:, None] * v_s[None, :])
        ).sum(axis=1)
        current = float(l1_s @ np.abs(u_s))
        best = int(np.argmin(phi))
        if not phi[best] < current - 1e-12 * max(current, 1e-300):
            return 0.0
        t = float(T[best])
        u += t * v
        return float(np.abs(t * v).max())

    def _best_shifts(self, u, x, H):
        """Move each weight column of ``u`` along the shift that minimizes the model.

        The loss does not change when the same number is added to every
        class's weight of one feature, so the model is flat along that
        direction but for the penalty: coordinate descent, one class at a
        time, crawls along it (measured: 50 sweeps moving the objective by
        1e-6 per iteration). Its exact minimum, per column, is a 1-D convex
        piecewise quadratic. Returns the largest move.
        """
        n_logits = self.shape[0]
        d = self.problem.n_features
        U = u.reshape(self.shape)
        W = U[:, :d]
        # The model along a shift t of column j: the L2 ridge's
        # (a_j t^2 / 2 + b_j t) around u, plus l1_j * sum_k |W_kj + t|.
        l1 = self.l1_column
        a = self.l2_column * n_logits
        b = self.l2_column * W.sum(axis=0)
        breaks = -W  # (K, d): where one |W_kj + t| has its kink
        # Candidates: every kink, and the stationary point of each piece
        # between kinks (with a = 0 the minimum is at a kink).
        candidates = [breaks]
        if np.any(a > 0):
            ordered = np.sort(breaks, axis=0)
            safe = np.where(a > 0, a, 1.0)
            for m in range(n_logits + 1):
                # On the piece with m kinks to the left: slope a t + b + l1 (2m - K).
                t = np.where(a > 0, -(b + l1 * (2 * m - n_logits)) / safe, 0.0)
                low = ordered[m - 1] if m > 0 else -np.inf
                high = ordered[m] if m < n_logits else np.inf
                candidates.append(np.clip(t, low, high)[None, :])
        T = np.concatenate(candidates, axis=0)  # (candidates, d)
        phi = 0.5 * a * T**2 + b * T + l1 * np.abs(W[None, :, :] + T[:, None, :]).sum(axis=1)
        best = T[np.argmin(phi, axis=0), np.arange(d)]
        # Move only where the model decreases by more than rounding.
        current = l1 * np.abs(W).sum(axis=0)
        improves = phi.min(axis=0) < current - 1e-12 * np.maximum(current, 1e-300)
        best = np.where(improves, best, 0.0)
        if not best.any():
            return 0.0
        W += best
        return float(np.abs(best).max())

    def iterate(self, x, F, g, resolution):
        """One proximal Newton step from ``x``: ``(x, F, g, last)``, or the reason to stop."""
        u = self.direction(x, g)
        d = u - x
        # The model's decrease bound: negative unless x is optimal.
        predicted = float(g @ d) + float(self.l1_of @ (np.abs(u) - np.abs(x)))
        last = self.trace.converged and settled(-predicted, self.tol, F)
        if not predicted < 0.0:
            return "precision"
        step = self._backtrack(x, F, d, predicted, resolution)
        if step is None:
            return "precision"
        x, _, g, F_new = step
        return x, F_new, g, last

    def _backtrack(self, x, F, d, predicted, resolution):
        """``(x, f, g, F)`` at the first step with Armijo's decrease, or None."""
        rounding = resolution * max(abs(F), 1.0)
        alpha, finite = 1.0, False
        for _ in range(MAX_TRIALS):
            trial = x + alpha * d
            try:
                f, g = self.evaluate(trial)
            except FloatingPointError:
                alpha *= BACKTRACK
                continue
            finite = True
            F_trial = self.objective(trial, f)
            if F_trial <= F + ARMIJO * alpha * predicted:
                return trial, f, g, F_trial
            if -alpha * predicted <= rounding:
                # Steps this short change the objective only within rounding.
                return None
            alpha *= BACKTRACK
        if not finite:
            raise FloatingPointError("overflow at every step the line search tried")
        return None
