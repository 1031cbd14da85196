"""L-BFGS for a smooth convex objective, with a curvature memory that travels.

The iteration is the textbook one (Nocedal and Wright, Algorithm 7.5): the
inverse Hessian approximation with the initial scaling ``s'y / y'y`` of the
newest pair (a :class:`~._curvature.CurvatureMemory`, which a path hands from
one objective to the next), and a line search for the weak Wolfe conditions
that tries the unit step first, interpolates down and doubles up. On a
convex objective every accepted step has ``s'y > 0``, so the memory stays
positive definite.
"""

import math

import numpy as np

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
