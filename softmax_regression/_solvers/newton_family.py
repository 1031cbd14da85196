"""Newton's method with a line search: one loop, three ways to solve the Newton system.

:class:`NewtonSolver` holds what every variant shares: value and gradient
from one pass over all the rows, the weak Wolfe line search of
:mod:`._lbfgs_core` (which accepts the full Newton step almost always), the
optimality test on the full data in the data's precision, and the record of
each iteration. A variant only says how it solves ``H d = -g``:

- :class:`ExactNewton` forms the full Hessian (``p x p`` for ``p``
  coefficients) and solves by Cholesky: a handful of iterations, each costing
  about ``p / 4`` passes to form the Hessian; it pays where ``p`` is small.
- :class:`SubsampledNewtonCG` runs preconditioned conjugate gradients on
  Hessian-vector products over a fixed random sample of the rows, at the
  current iterate's probabilities (Byrd, Chin, Neveitt and Nocedal, 2011):
  each product costs the sample's share of a pass, and a Jacobi
  preconditioner undoes the scale of each feature.
- :class:`NewtonCG` is the same on all the rows: exact Hessian products,
  robust to badly scaled features through the preconditioner.

The softmax model is unchanged when the same number is added to every
logit's coefficient of one column: along that direction the loss's Hessian is
zero. Columns the penalty does not reach (the intercept; every column when
``C = inf``) are solved in the subspace of zero sum over the logits, which is
where the gradient lies.
"""

import math

import numpy as np
import scipy.linalg
from scipy.linalg.lapack import dpotrf as potrf, dpotrs as potrs
from sklearn.utils import check_random_state

from .._model.hessian import HessianForm, hessian_diagonal
from .._utils.arrays import take_rows, transposed_rows
from .._utils.threads import solver_threads
from ._lbfgs_core import LineSearchFailure, line_search
from ._overflow import overflow_is_an_error
from ._scipy_bridge import ScipyBridge
from ._trace import MESSAGES, IterationTrace, settled

# Iterations without progress in the objective or the gradient before a stop
# at the precision limit (as in L-BFGS).
STALL = 3
# An iteration that leaves more than this share of the gradient is slow.
SLOW = 0.5


def full_hessian_cost(coef_shape):
    """What forming the full Hessian costs, in passes over the same rows.

    A pass is about ``4 n d K`` flops, the Hessian about ``n (K width)^2``.
    """
    n_logits, width = coef_shape
    return max(1.0, n_logits * width / 4)


# A coefficient whose curvature is explained by the earlier ones up to this
# share is linearly dependent on them (a constant column beside the intercept,
# a duplicated feature, without a penalty): rounding, not data, sets its pivot.
DEPENDENT = 1e-10


def dependent_pivots(factor, H):
    """Which pivots of the Cholesky ``factor`` of ``H`` are rounding, scale-free.

    ``R_ii^2 / H_ii`` is the share of coefficient ``i``'s curvature that the
    earlier coefficients do not explain; feature scales cancel in it. Where it
    is at rounding level, a Cholesky solve would divide rounding by rounding
    and step far along a direction the data do not determine.
    """
    # A coefficient without curvature (H_ii = 0) counts as dependent too.
    return np.diagonal(factor) ** 2 <= DEPENDENT * np.diagonal(H)


def least_norm_step(H, rhs):
    """The least-norm solution of ``H step = rhs`` in coordinates of unit curvature.

    Scaled by the diagonal, so that badly scaled features are not taken for
    dependent ones; directions of curvature below :data:`DEPENDENT` of the
    largest are left alone.
    """
    diagonal = np.diagonal(H)
    scale = 1.0 / np.sqrt(np.where(diagonal > 0, diagonal, 1.0))
    scaled = H * scale[:, None] * scale[None, :]
    return scale * scipy.linalg.lstsq(scaled, rhs * scale, cond=DEPENDENT)[0]


class NewtonSolver:
    """Newton iterations with a line search over a :class:`SoftmaxProblem`.

    Parameters
    ----------
    problem : SoftmaxProblem
        With a smooth penalty: in memory (any array namespace, scipy sparse),
        or chunked on dask for :class:`NewtonCG`.
    tol, max_iter, verbose, callback
        As for every solver (see :mod:`softmax_regression._solvers`).
    """

    name = "newton"

    def __init__(self, problem, *, tol, max_iter, verbose=0, callback=None):
        self.problem = problem
        self.max_iter = max_iter
        self.tol = tol
        self.bridge = ScipyBridge(problem)
        self.trace = IterationTrace(self.bridge, tol, verbose, self.name, callback)
        self.shape = problem.coef_shape
        # The L2 weight of each entry: l2 times the feature's penalty factor.
        self.l2_weights = problem.smooth_strengths
        self.null_columns = self._null_columns()
        self.has_null_columns = bool(self.null_columns.any())
        # Flat indices of the null columns' entries: one column of this
        # (n_logits, n_null) array per null column. A projection is then one
        # gather and one scatter (these solves run on small tables, where the
        # number of numpy calls is the cost).
        n_logits, width = self.shape
        self.null_index = (np.arange(n_logits)[:, None] * width
                           + np.flatnonzero(self.null_columns)[None, :])
        # What one Hessian product or factorization costs, in passes, and the
        # work done beyond the evaluations, in passes.
        self.hessian_cost = 1.0
        self.work = 0.0
        # Value and gradient at a point, for the iterations and the line search.
        self.evaluate = self.bridge.value_gradient

    def _null_columns(self):
        """Columns along which a common shift of all logits leaves the objective unchanged."""
        mask = np.zeros(self.shape[1], dtype=bool)
        if self.problem.loss.n_logits < 3:
            return mask  # a pinned reference logit: nothing is shift invariant
        mask[self.l2_weights[0] == 0] = True  # the L2 penalty does not reach them
        return mask

    def project(self, V):
        """``V`` (2-D, or flat) with zero sum over the logits in the null columns (a copy)."""
        if not self.has_null_columns:
            return V
        flat = V.reshape(-1).copy()
        columns = flat[self.null_index]
        columns -= columns.sum(axis=0) / columns.shape[0]
        flat[self.null_index] = columns
        return flat.reshape(V.shape)

    def setup(self, x):
        """Prepare the variant's state before the first iteration."""

    def after_iteration(self, before, after):
        """Adapt to an iteration that took optimality from ``before`` to ``after``."""

    def inner_solve(self, x, g):
        """A descent direction from the Newton system at ``x`` (flat, float64)."""
        raise NotImplementedError

    def solve(self, coef0):
        """Run from ``coef0``; returns a :class:`SolverResult`."""
        bridge, trace, problem = self.bridge, self.trace, self.problem
        x = bridge.to_flat(coef0)
        # Evaluated first with what the Newton step needs (the probabilities),
        # so that the start's check reuses it instead of a pass of its own.
        self.evaluate(x)
        if trace.start(x):
            return self._result(x, "optimal at the start")
        if self.max_iter == 0:
            return self._result(x, "max_iter=0: no iteration")
        xp, _ = problem.namespace_and_device
        resolution = 64 * max(float(xp.finfo(problem.dtype).eps), float(np.finfo(np.float64).eps))
        reason = "max_iter"
        with solver_threads(), overflow_is_an_error():
            self.setup(x)
            f, g = self.evaluate(x)
            f = self.objective(x, f)
            best_gradient, stalled = math.inf, 0
            previous = trace.optimality
            for _ in range(self.max_iter):
                outcome = self.iterate(x, f, g, resolution)
                if isinstance(outcome, str):
                    reason = outcome
                    break
                x, f_new, g, last = outcome
                optimality = problem.optimality(bridge.host_coef(x), g.reshape(self.shape))
                trace.record(x, f_new, optimality)
                if trace.stopped_by_callback:
                    reason = "stopped"
                    break
                # Steps accepted within rounding that lower neither the
                # objective nor the gradient: the precision limit.
                progress = f_new < f or optimality < best_gradient
                stalled = 0 if progress else stalled + 1
                self.after_iteration(previous, optimality)
                previous = optimality
                best_gradient, f = min(best_gradient, optimality), f_new
                if last and trace.converged:
                    # The settled step stayed within tol; one that left it
                    # (rounding near a tight tol) goes on from there.
                    reason = "stopped"
                    break
                if stalled >= STALL:
                    reason = "precision"
                    break
        return self._result(x, MESSAGES[reason], at_precision_limit=reason == "precision",
                            reason=reason)

    def objective(self, x, f):
        """The objective at ``x`` from its smooth part's value ``f`` (all of it here)."""
        return f

    def iterate(self, x, f, g, resolution):
        """One Newton step from ``x``: ``(x, f, g, last)``, or the reason to stop.

        ``last`` says that the step was taken within tol and settled: the
        fit ends a whole Newton step past the threshold rather than on it,
        where two fits of the same problem (rows repeated or weighted) would
        stop on either side of it.
        """
        d = self.inner_solve(x, g)
        decrement = -float(g @ d)
        last = self.trace.converged and settled(decrement, self.tol, f)
        if not decrement > 0.0:
            # Rounding spoiled the model's direction: fall back to the gradient.
            d = -g
        try:
            alpha, f_new, g_new = line_search(self.evaluate, x, f, g, d, 1.0, resolution)
        except LineSearchFailure as failure:
            if failure.overflowed:
                raise FloatingPointError("overflow at every step the line search tried")
            return "precision" if failure.at_rounding else "line search"
        return x + alpha * d, f_new, g_new, last

    def _result(self, x, message, at_precision_limit=False, reason="max_iter"):
        result = self.trace.result(x, at_precision_limit=at_precision_limit, message=message,
                                   reason=reason)
        result.pass_equivalents = (
            self.bridge.n_evaluations + self.work
        )
        if self.trace.verbose:
            print(f"[{self.name}] {result.n_iter} iterations, {result.pass_equivalents:.1f} "
                  f"pass-equivalents: {message}")
        return result


class ExactNewton(NewtonSolver):
    """Newton steps from the full Hessian, solved by Cholesky."""

    name = "newton-exact"

    def __init__(self, problem, **kwargs):
        super().__init__(problem, **kwargs)
        n_logits, width = self.shape
        p = n_logits * width
        self.hessian_cost = full_hessian_cost(self.shape)
        # The Hessian is formed from the probabilities of the evaluation at
        # the iterate (no pass of its own to recompute them).
        self.evaluate = self.bridge.value_gradient_with_hessp
        # Adding a multiple of the projector onto the shift direction of each
        # null column makes H definite without changing the step in the
        # subspace the gradient lies in. The projector has 1 / n_logits
        # between any two entries of the same null column: these flat
        # positions of H.
        index = self.null_index
        self.shift_positions = (index[:, None, :] * p + index[None, :, :]).ravel()
        self.l2_diagonal = self.l2_weights.ravel()

    def setup(self, x):
        # Within the solve's floating-point checks: squares of huge features
        # overflow here first.
        problem = self.problem
        self.form = HessianForm(problem.loss, problem.X, problem.sample_weight)

    def inner_solve(self, x, g):
        # Contiguous, so that its flat view below writes into it.
        H = np.ascontiguousarray(self.form.at(self.bridge.proba(x)))
        self.bridge.n_hessian_products += 1
        self.work += self.hessian_cost
        p = H.shape[0]
        flat = H.reshape(-1)
        flat[:: p + 1] += self.l2_diagonal
        if self.has_null_columns:
            shift = max(float(np.trace(H)) / p, np.finfo(float).tiny) / self.shape[0]
            flat[self.shift_positions] += shift
        # The gradient lies in the subspace already (to rounding); the
        # projector's term sends any rounding outside it along the shift
        # direction, which the projection of the step removes.
        rhs = -g
        factor, info = potrf(H, lower=False, clean=False, overwrite_a=False)
        singular = info != 0 or dependent_pivots(factor, H).any()
        if not singular:
            step, info = potrs(factor, rhs, lower=False)
            singular = info != 0 or not np.isfinite(step).all()
        if singular:
            # Singular along a direction the data do not determine (a constant
            # or duplicated feature without a penalty): the least-norm step.
            step = least_norm_step(H, rhs)
        return self.project(step)


class SubsampledNewtonCG(NewtonSolver):
    """Newton-CG whose Hessian products use a fixed random sample of the rows.

    Parameters
    ----------
    problem : SoftmaxProblem
    random_state : int, RandomState or None
        Draws the sample; None draws it from a fixed stream, so that the same
        data give the same fit on every run.
    **kwargs
        As for :class:`NewtonSolver`.
    """

    name = "newton-cg-sampled"
    # Share of the rows in the sample, and the smallest sample worth drawing.
    # Measured on the benchmark problems: a twentieth of 100,000 and 500,000
    # rows took 7-19% less time than a tenth, to the same objective.
    FRACTION = 0.05
    MIN_ROWS = 5000
    # Conjugate-gradient steps per Newton step on the sample. Measured on the
    # 100,000 x 100 x 10 problem (4 sample seeds): 10 steps left the inner
    # solve short on its correlated features (14 iterations, 33 passes), 15-20
    # took 12 iterations and 26 passes, 25-30 fitted the sample's noise (13-16
    # iterations, 30-43 passes); the 500,000 x 54 x 7 problem was unchanged.
    MAX_CG = 20
    CG_RTOL = 0.1

    def __init__(self, problem, *, random_state=None, **kwargs):
        super().__init__(problem, **kwargs)
        self.random_state = 0 if random_state is None else random_state
        # A C-contiguous copy of the sample's X.T, for dense NumPy X.
        self.XT = None

    @classmethod
    def sample_size(cls, n_samples):
        """Rows in the sample: a twentieth, and at least :attr:`MIN_ROWS`."""
        return min(n_samples, max(cls.MIN_ROWS, math.ceil(cls.FRACTION * n_samples)))

    def setup(self, x):
        self.rng = check_random_state(self.random_state)
        self.slow = 0
        self._draw(self.sample_size(self.problem.X.shape[0]))

    def after_iteration(self, before, after):
        # Where the curvature sits in few rows (nearly separated classes), a
        # sample misses them and the steps shrink the gradient slowly: twice
        # in a row by less than half, the sample doubles, up to all the rows
        # (Bollapragada, Byrd and Nocedal, 2018, grow the sample likewise).
        self.slow = self.slow + 1 if after > SLOW * before else 0
        n = self.problem.X.shape[0]
        if self.slow >= 2 and self.X.shape[0] < n:
            self.slow = 0
            self._draw(2 * self.X.shape[0])

    def _draw(self, m):
        """Sample ``m`` rows (all of them once that is half or more)."""
        problem = self.problem
        n = problem.X.shape[0]
        weight = problem.sample_weight
        xp, device = problem.namespace_and_device
        rows = None
        if 2 * m <= n:
            rows = np.sort(self.rng.choice(n, size=m, replace=False))
            sampled = take_rows(weight, rows, xp, device)
            total = float(xp.sum(sampled))
            if not total > 0:
                rows = None  # every sampled row has weight 0: use them all
        if rows is None:
            self.X, self.weight, self.offset = problem.X, weight, problem.offset
            self.XT = problem.transposed_X
        else:
            # One copy of the sampled rows of X for the whole solve; the weights are
            # rescaled to the full data's total, so that the sampled Hessian
            # estimates the full one. Dense NumPy rows are kept transposed (X
            # is then a view of the copy): the products take the passes'
            # K-major layout.
            if isinstance(problem.X, np.ndarray):
                self.XT = transposed_rows(problem.X, rows)
                self.X = self.XT.T
            else:
                self.X = take_rows(problem.X, rows, xp, device)
            self.weight = sampled * (float(xp.sum(weight)) / total)
            self.offset = (None if problem.offset is None
                           else take_rows(problem.offset, rows, xp, device))
        self.hessian_cost = self.X.shape[0] / n

    def cg_rtol(self, g):
        """The inner solve's relative residual: fixed, the sample's noise rules below it."""
        if self.X is self.problem.X:
            # The sample has grown to all the rows: the products are exact,
            # and the step is solved as newton-cg solves it.
            return NewtonCG.cg_rtol(self, g)
        return self.CG_RTOL

    def max_cg(self):
        """Conjugate-gradient steps per Newton step: few on a sample, newton-cg's on all rows."""
        return NewtonCG.MAX_CG if self.X is self.problem.X else self.MAX_CG

    def _hessian_product(self, x, V, P):
        bridge = self.bridge
        bridge.n_hessian_products += 1
        self.work += self.hessian_cost
        HV = bridge._to_host(self.problem.loss.hessian_product(
            bridge._to_problem(V), self.X, P, self.weight, XT=self.XT))
        return HV + self.l2_weights * V

    def _proba_and_diagonal(self, x):
        """The probabilities the products use, and the Hessian's diagonal there."""
        # The sample's probabilities at x: its share of a pass, no n x K array.
        P = self.problem.loss.proba(self.bridge.to_coef(x), self.X, self.offset)
        self.work += self.hessian_cost
        return P, hessian_diagonal(self.problem.loss, self.X, P, self.weight)

    def inner_solve(self, x, g):
        P, diagonal = self._proba_and_diagonal(x)
        diagonal = diagonal + self.l2_weights
        floor = 1e-12 * max(float(diagonal.max()), 1e-300)
        inverse = 1.0 / np.maximum(diagonal, floor)
        r = self.project(-g.reshape(self.shape))
        target = self.cg_rtol(g) * float(np.linalg.norm(r))
        step = np.zeros(self.shape)
        z = self.project(inverse * r)
        direction = z
        rz = float(np.sum(r * z))
        for _ in range(self.max_cg()):
            Hd = self._hessian_product(x, direction, P)
            curvature = float(np.sum(direction * Hd))
            if not curvature > 0:
                break  # flat or rounding: keep the step so far
            alpha = rz / curvature
            step += alpha * direction
            r -= alpha * Hd
            if float(np.linalg.norm(r)) <= target:
                break
            z = self.project(inverse * r)
            rz_new = float(np.sum(r * z))
            if not rz_new > 0:
                break  # the residual vanished to rounding
            direction = z + (rz_new / rz) * direction
            rz = rz_new
        if not step.any():
            step = self.project(inverse * -g.reshape(self.shape))
        return step.ravel()


class NewtonCG(SubsampledNewtonCG):
    """Newton-CG on exact Hessian products over all the rows (``solver="newton-cg"``).

    Works on any problem whose Hessian-vector closure also gives the
    Hessian's diagonal (in memory and chunked dask data alike), which
    preconditions the inner solve.
    """

    name = "newton-cg"
    MAX_CG = 200

    def __init__(self, problem, **kwargs):
        super().__init__(problem, **kwargs)
        # The probabilities of each evaluation are kept for the products.
        self.evaluate = self.bridge.value_gradient_with_hessp

    def setup(self, x):
        """All the rows: no sample to draw."""

    def after_iteration(self, before, after):
        """All the rows already: nothing to grow."""

    def max_cg(self):
        return self.MAX_CG

    def cg_rtol(self, g):
        # Exact products: a forcing term that shrinks with the gradient makes
        # the outer iterations converge quadratically at the end (Dembo,
        # Eisenstat and Steihaug, 1982), the few-iterations-to-tight-tol
        # behaviour newton-cg is chosen for.
        return min(0.1, float(np.max(np.abs(g))) if g.size else 0.0)

    def _hessian_product(self, x, V, P):
        self.work += self.hessian_cost
        return self.bridge.hessp(x, V.ravel()).reshape(self.shape)

    def _proba_and_diagonal(self, x):
        # The products read the probabilities kept with the evaluation at x.
        return None, self.bridge.hessian_diagonal(x)
