"""The regime where the penalty wins: the prior model in closed form, for every solver.

When ``1 / (C * total sample weight)`` is huge (a tiny ``C``, tiny sample
weights), the optimum is the prior model: ``W`` at (or within a first-order
correction of) zero and the intercepts at the log weighted class shares.
The solvers cannot be trusted there: the penalty's gradient ``strength * W``
overflows in float32 long before it does in float64, line searches see no
decrease, and strengths beyond the float range cannot even be formed. So
every fit (any solver, in memory, on dask, along a CV path) first asks
:func:`penalty_dominated_result`, which answers in closed form where that
answer meets ``tol`` and leaves every other problem to the solver.

The closed form, with ``G0`` the loss gradient at the prior model
``(W = 0, b0)``, ``l1`` and ``l2`` the penalty's strengths:

    W1 = -soft_threshold(G0_W, l1) / l2

is the first-order correction (the exact optimum is ``W1 + O(H W1 / l2)``,
``H`` the loss Hessian). Its optimality violation is bounded, to first order,
by the intercept gradient at the start plus ``|H W1|``, which one Hessian
product along ``W1``'s direction measures without forming ``W1`` in the
data's dtype (it underflows in float32). An all-zero ``W1`` (pure L1 with
``l1 >= |G0|``) is the exact optimum.
"""

import numpy as np

from .._solvers import SolverResult
from .._utils.arrays import host_dtype, host_numpy

# Below this total strength the solvers handle the penalty without trouble,
# and the closed form is not worth its two passes over the data.
MIN_STRENGTH = 1.0


def penalty_dominated_result(problem, tol):
    """The closed-form optimum of a penalty-dominated problem, or None.

    Parameters
    ----------
    problem : SoftmaxProblem
        Any problem with ``initial_coef``, ``loss_gradient_hessp`` and a
        penalty (in memory or chunked).
    tol : float
        The solver's tolerance on the optimality measure.

    Returns
    -------
    SolverResult or None
        Zero iterations, converged, when the closed form's optimality
        violation is at most ``tol / 2`` (the other half for the
        second-order remainder) or at the rounding level of the gradient;
        None when the problem is left to the solver.
    """
    penalty = problem.penalty
    l1, l2 = penalty.l1_strength, penalty.l2_strength
    if not l1 + l2 >= MIN_STRENGTH:
        return None
    xp, device = problem.namespace_and_device
    start = problem.initial_coef()
    _, G, hessp = problem.loss_gradient_hessp(start)
    d = problem.n_features
    factor = penalty.factor_row(d)
    if np.any(factor == 0):
        return None  # unpenalized features are not near zero: the solver's job
    G = np.asarray(host_numpy(G), dtype=np.float64)
    shrunk = np.sign(G[:, :d]) * np.maximum(np.abs(G[:, :d]) - l1 * factor, 0.0)
    # The intercepts at the log priors have a zero gradient up to rounding,
    # unless a class has no weight (its optimal intercept is -inf).
    residual = float(np.max(np.abs(G[:, d:]))) if G.shape[1] > d else 0.0
    largest = float(np.max(np.abs(shrunk))) if shrunk.size else 0.0
    correction = np.zeros_like(shrunk)
    if largest > 0:
        if l2 == 0:
            return None  # L1 alone that does not zero every weight: no closed form
        # |W1| = largest / l2 as a Python float, and the Hessian product along
        # the unit direction: neither underflows in the data's dtype.
        step = shrunk / factor  # W1 = -step / l2, the factors included
        size = float(np.max(np.abs(step))) / l2
        direction = step / float(np.max(np.abs(step)))
        V = np.zeros(G.shape)
        V[:, :d] = -direction
        HV = np.asarray(host_numpy(hessp(xp.asarray(V, dtype=problem.dtype, device=device))),
                        dtype=np.float64)
        residual += size * float(np.max(np.abs(HV)))
        correction = -direction * size
    eps = float(np.finfo(host_dtype(problem.dtype)).eps)
    rounding = eps * float(np.max(np.abs(G), initial=0.0))
    if not (residual <= tol / 2 or residual <= rounding):
        return None
    coef = xp.concat(
        [xp.asarray(correction, dtype=problem.dtype, device=device), start[:, d:]], axis=1)
    return SolverResult(
        coef=coef, n_iter=0, converged=True, optimality=residual,
        message="the penalty dominates: the prior model in closed form",
    )


def solve(function, problem, coef0, *, tol, max_iter, **options):
    """Run ``function`` (a solver), or answer a penalty-dominated problem in closed form.

    Every fit goes through here (the estimator, dask, the CV paths and
    refit), so a solver added to the table gets the prior model for free.
    A stateful solver's result carries the state it was given, which the
    closed form leaves as it found it.
    """
    result = penalty_dominated_result(problem, tol)
    if result is None:
        return function(problem, coef0, tol=tol, max_iter=max_iter, **options)
    result.state = options.get("state")
    return result

