"""L-BFGS on the smooth objective, L-BFGS-B on the bound-constrained split L1 one."""

import math

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize

from .._model.hessian import host_float64
from .._model.problem import TRANSPOSED_BYTES
from .._utils.threads import solver_threads
from ._curvature import CurvatureMemory, inverse_sqrt
from ._lbfgs_core import minimize_lbfgs
from ._scipy_bridge import ScipyBridge
from ._overflow import overflow_is_an_error
from ._trace import MESSAGES, IterationTrace, settled


# The tolerance of a float32 first phase: about where float32 gradients stop
# being accurate to a few digits; a smaller tol is the float64 phase's work.
SINGLE_PRECISION_TOL = 1e-5
# The float32 phase pays where a pass's products (n x d x K, sparse: stored
# values x K) are at least this large. Measured (one thread, default fits,
# time against float64 only): 1.07x at 100 x 50 x 10 and 1.04x at 200 x 64
# x 10, where the copy and the float64 check cost more than the cheaper
# passes save; 0.95x at 400 x 64 x 10, 0.74x at 1,500 x 40 x 10.
SINGLE_PRECISION_WORK = 250_000
# The float32 phase hands over to float64 once its objective has gained less
# than FLAT_ULPS float32 units per iteration over FLAT_ITERATIONS iterations:
# features of 1e3-1e5 put float32 gradient errors above tol, and the phase
# would then wander at float32's rounding (hundreds of iterations measured).
FLAT_ITERATIONS = 5
FLAT_ULPS = 4
# Curvature pairs kept.
MEMORY = 20


def solve_lbfgs(problem, coef0, *, tol, max_iter, verbose=0, memory=MEMORY, callback=None,
                curvature=None, settle=False, single_precision=False, precondition=False,
                single_precision_bytes=TRANSPOSED_BYTES, start_loss=None):
    """Minimize ``problem``'s objective with L-BFGS.

    Value and gradient come from one pass over the data. A smooth objective
    (no L1 part) is minimized by the L-BFGS of :mod:`._lbfgs_core`, which can
    start from the curvature pairs of a nearby problem. An L1 part of the
    penalty is handled exactly by scipy's L-BFGS-B through the split
    ``W = W+ - W-`` with bounds ``W+, W- >= 0``, so coefficients that are zero
    at the optimum come out as exact zeros.

    Parameters
    ----------
    problem : SoftmaxProblem
    coef0 : ndarray
        Starting coefficients, 2-D.
    tol : float
        Stop when :meth:`SoftmaxProblem.optimality` is at most ``tol``.
    max_iter : int
        Maximum number of L-BFGS iterations.
    verbose : int, default=0
        Print one line per iteration when positive.
    memory : int, default=20
        Number of correction pairs kept by L-BFGS.
    callback : callable or None, default=None
        ``callback(coef) -> bool`` after each iteration; true stops the solver
        (see :class:`~._trace.IterationTrace`).
    curvature : CurvatureMemory or None, default=None
        Pairs from a run on the same data with another L2 strength (the
        previous point of a regularization path) to start from, or the
        empty memory of :func:`path_curvature` at a path's first point;
        smooth objectives only.
    settle : bool, default=False
        Smooth objectives: once optimality is within ``tol``, go on until
        the next L-BFGS step would also lower the objective negligibly
        (:func:`~._trace.settled`), as the Newton methods do.
    single_precision : bool, default=False
        Smooth float64 objectives on dense X of at most
        ``single_precision_bytes`` or on sparse X whose
        passes are large enough (:data:`SINGLE_PRECISION_WORK`): iterate on a
        float32 copy of the problem first (passes at half to two thirds the
        cost) until it meets ``max(tol, 1e-5)`` or stalls at float32's
        rounding, then go on in float64 from its point and curvature pairs
        until the float64 problem meets ``tol``
        (:meth:`SoftmaxProblem.single_precision`). Every
        iteration counts towards ``max_iter``; the stop is judged in float64.
        The start is checked on the float32 copy, and in float64 only where
        it meets ``tol`` there.
    single_precision_bytes : int, default=TRANSPOSED_BYTES
        The largest dense float64 X (in bytes) that ``single_precision``
        copies: 4 MiB for one fit; a path of fits, whose points share the
        copy, allows more (see :data:`~._solvers.SOLVERS`).
    precondition : bool, default=False
        Smooth objectives on sparse X without ``curvature``: start L-BFGS
        from the inverse of the objective's Hessian diagonal at ``coef0``
        instead of a multiple of the identity (see :class:`CurvatureMemory`'s
        ``scale``), at the cost of that diagonal (about a pass). Measured:
        sparse text-like rows, whose terms differ in frequency by orders of
        magnitude, 57 -> 45 iterations; on dense X it took 1.3x-2x the
        iterations of standardized features and far more on uncentred ones
        (a column of 5000 +- 1 beside the intercept), so dense X keeps the
        identity.
    start_loss : tuple of (float, ndarray) or None, default=None
        The loss's value and gradient alone at ``coef0``, known from an
        earlier evaluation (a :class:`SolverResult`'s ``loss_at_coef`` on
        the same data, such as the previous point of a path): the start is
        judged from them on ``problem`` itself (in its own precision, not on
        a float32 copy) without a pass over the data.

    Returns
    -------
    SolverResult
        With ``curvature`` set for a smooth objective.
    """
    smooth = problem.penalty.is_smooth
    bridge = ScipyBridge(problem, split_l1=not smooth)
    trace = IterationTrace(bridge, tol, verbose, "lbfgs", callback)
    x0 = bridge.to_flat(coef0)
    pairs = None
    twin_bridge = None
    if smooth and max_iter > 0:
        worth_it = _pass_products(problem.X) * problem.coef_shape[0] >= SINGLE_PRECISION_WORK
        twin = (problem.single_precision(single_precision_bytes)
                if single_precision and worth_it else None)
        twin_bridge = None if twin is None else ScipyBridge(twin)
        if precondition and curvature is None and sp.issparse(problem.X):
            # Before the start's check, which then reuses this evaluation.
            pairs = _memory_for(problem, curvature, memory)
            pairs.scale = _diagonal_scale(problem, bridge, x0, twin_bridge)
    if start_loss is not None:
        bridge.remember(x0, *start_loss)  # the check on problem itself then costs no pass
    if trace.start(x0, first=twin_bridge if start_loss is None else None):
        return trace.result(x0, message="optimal at the start",
                            curvature=_unmoved(pairs, curvature, problem, memory, smooth))
    if max_iter == 0:
        return trace.result(x0, message="max_iter=0: no iteration",
                            curvature=_unmoved(pairs, curvature, problem, memory, smooth))
    if smooth:
        pairs = _memory_for(problem, curvature, memory) if pairs is None else pairs
        if twin_bridge is not None:
            return _solve_in_two_precisions(problem, twin_bridge, bridge, trace, x0, pairs,
                                            max_iter, settle)
        return _solve_smooth(problem, bridge, trace, x0, pairs, max_iter, settle)

    with solver_threads(), overflow_is_an_error():
        res = minimize(
            bridge.value_gradient,
            x0,
            method="L-BFGS-B",
            jac=True,
            bounds=bridge.bounds(),
            callback=trace,
            options={
                "maxiter": max_iter,
                "maxcor": memory,
                "maxls": 50,
                # Convergence is judged by the callback on the optimality
                # measure; scipy's own tests only stop at machine precision.
                "gtol": 0.0,
                "ftol": 64 * np.finfo(float).eps,
            },
        )
    # Status 0 with gtol=0: the relative reduction of the objective fell below
    # ftol, i.e. to the resolution of floating point; 2: the line search failed.
    reason = "line search" if res.status == 2 else "max_iter"
    return trace.result(res.x, at_precision_limit=res.status == 0, message=str(res.message),
                        reason=reason)


def _pass_products(X):
    """Products of X's entries in a pass, per logit: its stored values if sparse."""
    return X.nnz if sp.issparse(X) else X.shape[0] * X.shape[1]


def _penalized(problem):
    """How much of the L2 penalty each entry of the flat coefficients gets (its factor)."""
    return problem.coefficient_factors.ravel()


def _diagonal_scale(problem, bridge, x0, twin_bridge=None):
    """``1 / sqrt`` of the smooth objective's Hessian diagonal at ``x0``.

    1 where the diagonal is 0 (a coefficient the data never move) or beyond
    the float range (squares of features past ~1e154, which the solve then
    reports as an overflow). From the float32 copy's ``twin_bridge`` where
    given and its logits at ``x0`` are finite: the scale needs no more
    digits, and that evaluation is the float32 phase's first.
    """
    if twin_bridge is not None:
        try:
            return _diagonal_scale(twin_bridge.problem, twin_bridge, x0)
        except FloatingPointError:
            pass  # the float32 phase will hand the fit to float64 as well
    with np.errstate(over="ignore", invalid="ignore"):
        diagonal = bridge.hessian_diagonal(x0).ravel()
        diagonal += problem.penalty.l2_strength * _penalized(problem)
    bridge.n_hessian_products += 1  # about the work of one
    return inverse_sqrt(diagonal)


def path_curvature(problem, coef, memory=MEMORY):
    """An empty curvature memory that scales each point of a path by its Hessian diagonal.

    The diagonal of the data term is measured once, at ``coef`` (a path's
    start); each point's L2 strength then adds its exact part (see
    :meth:`CurvatureMemory.with_data_diagonal`). Pass it as the first
    point's ``curvature`` and each result's ``curvature`` to the next point.
    Where the penalty is strong, the intercepts' curvature (the data's
    alone) is far below the penalized weights', and no multiple of the
    identity serves both; features of very different scales are evened
    out. Each weight's entry is at least its class's curvature along a
    feature of mean square 1 (the intercept's): a feature nearly always 0
    (a border pixel scaled to [0, 1]) has a tiny curvature at the path's
    start, and a scale from it overshoots once the penalty weakens.
    Measured (``benchmarks/cv_diagonal.py``, L-BFGS iterations along
    ``SoftmaxClassifierCV``'s paths, identity -> this diagonal without that
    floor -> with it): digits in [0, 1] 724 -> 846 -> 687 (tol=1e-8: 9,412
    -> 13,400 -> 9,294); unscaled breast_cancer 23,696 -> 17,934 -> 4,384;
    standardized digits 358 -> 301 -> 301. Sparse rows (3,000 x 400 CSR at
    2% density) gain without the floor at tol=1e-4 and lose at tol=1e-8:
    345 -> 287 -> 362 and 2,797 -> 3,926 -> 2,817; with it they stay within
    5% of the identity.
    """
    bridge = ScipyBridge(problem)
    x = bridge.to_flat(coef)
    with np.errstate(over="ignore", invalid="ignore"):
        diagonal = bridge.hessian_diagonal(x)
        P = host_float64(bridge.proba(x))
        unit = host_float64(problem.sample_weight) @ (P * (1.0 - P))
    d = problem.n_features
    diagonal[:, :d] = np.maximum(diagonal[:, :d], unit[:, None])
    return CurvatureMemory.with_data_diagonal(memory, _penalized(problem), diagonal.ravel())


def _unmoved(pairs, curvature, problem, size, smooth):
    """The curvature a run that took no step hands on (None for an L1 objective).

    A neighbour's pairs go on as they are: the next objective moves them
    from their own L2 strength, and moving them for a run that takes no step
    (a path's known starts) would be wasted work.
    """
    if not smooth or pairs is not None:
        return pairs
    return curvature if curvature is not None else _memory_for(problem, None, size)


def _memory_for(problem, curvature, size):
    penalized = _penalized(problem)
    l2_strength = problem.penalty.l2_strength
    if curvature is None:
        return CurvatureMemory(size, l2_strength, penalized)
    return curvature.for_objective(l2_strength, penalized)


def _minimize(problem, bridge, trace, x0, pairs, max_iter, settle, flat=None):
    """L-BFGS from ``x0`` on ``bridge``'s problem, recording into ``trace``: ``(x, reason)``.

    ``flat(value) -> bool``, when given, also ends the run (reason ``"stopped"``).
    """
    def on_iteration(x, value, g):
        optimality = problem.optimality(bridge.host_coef(x), g.reshape(bridge.shape))
        stop = trace.record(x, value, optimality)
        if stop and settle and not trace.stopped_by_callback:
            return _settles(pairs, g, trace.tol, value)
        return stop or (flat is not None and flat(value))

    xp, _ = problem.namespace_and_device
    resolution = 64 * max(float(xp.finfo(problem.dtype).eps), float(np.finfo(np.float64).eps))
    return minimize_lbfgs(bridge.value_gradient, x0, pairs, max_iter=max_iter,
                          on_iteration=on_iteration, resolution=resolution)


def _solve_in_two_precisions(problem, twin_bridge, bridge, trace, x0, pairs, max_iter, settle):
    """L-BFGS on ``twin_bridge``'s problem (float32) to a looser tol, then on ``problem``.

    The float32 phase records its iterations into ``trace`` (the callback sees
    them as float64 coefficients); the curvature pairs it measured carry over,
    so the float64 phase starts where it stopped, usually already within
    ``tol``. The float32 phase keeps them in float32 (half the reads of the
    memory's products), the float64 phase in float64. A float32 phase that
    overflows leaves the float64 one to start from ``x0``.
    """
    twin = twin_bridge.problem
    tol = trace.tol
    trace.tol = max(tol, SINGLE_PRECISION_TOL)
    if trace.verbose:
        print(f"[{trace.name}] float32 first, to optimality {trace.tol:.0e}")
    x = x0
    pairs.astype(np.float32)
    try:
        with solver_threads(), np.errstate(over="raise", invalid="raise"):
            x, _ = _minimize(twin, twin_bridge, trace, x0, pairs, max_iter, settle,
                             flat=_flat_objective(np.finfo(np.float32).eps))
    except FloatingPointError:
        pass  # float32's range is too small for these logits: float64 from x0
    finally:
        trace.tol, trace.converged = tol, False
    used = len(trace.history)
    if trace.verbose:
        print(f"[{trace.name}] float64 from iteration {used}")
    with solver_threads(), overflow_is_an_error():
        done = trace.stopped_by_callback or _settled_at(problem, bridge, trace, x, pairs, settle)
    if done:
        result = trace.result(x, message=MESSAGES["stopped"], curvature=pairs, reason="stopped")
    elif used >= max_iter:
        result = trace.result(x, message=MESSAGES["max_iter"], curvature=pairs)
    else:
        pairs.astype(np.float64)
        result = _solve_smooth(problem, bridge, trace, x, pairs, max_iter - used, settle)
    result.n_evaluations += twin_bridge.n_evaluations
    result.n_hessian_products += twin_bridge.n_hessian_products
    return result


def _flat_objective(eps):
    """``flat(value)``: whether the objective has stalled at rounding ``eps``.

    True once :data:`FLAT_ITERATIONS` iterations have passed since the
    objective last stood :data:`FLAT_ULPS` units of ``eps`` (relative) per
    iteration below its previous mark: a slow crawl counts as a stall.
    """
    mark, since = math.inf, 0  # the value where progress was last enough

    def flat(value):
        nonlocal mark, since
        since += 1
        if value < mark - FLAT_ULPS * since * eps * abs(value):
            mark, since = value, 0
        return since >= FLAT_ITERATIONS

    return flat


def _settled_at(problem, bridge, trace, x, pairs, settle):
    """Whether ``x`` already meets ``tol`` (and is settled, with ``settle``) in float64."""
    value, optimality = bridge.state_at(x)
    if optimality > trace.tol:
        return False
    return not settle or _settles(pairs, bridge.value_gradient(x)[1], trace.tol, value)


def _settles(pairs, g, tol, value):
    """Whether the next L-BFGS step from gradient ``g`` would lower the objective negligibly."""
    return settled(-float(g @ pairs.direction(g)), tol, value)


def _solve_smooth(problem, bridge, trace, x0, pairs, max_iter, settle=False):
    with solver_threads(), overflow_is_an_error():
        x, reason = _minimize(problem, bridge, trace, x0, pairs, max_iter, settle)
    return trace.result(
        x, at_precision_limit=reason == "precision", message=MESSAGES[reason], curvature=pairs,
        reason=reason,
    )
