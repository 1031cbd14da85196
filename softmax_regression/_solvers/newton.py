"""Trust-region Newton-CG with the exact Hessian-vector product."""

import numpy as np
from scipy.optimize import minimize

from .._utils.threads import solver_threads
from ._scipy_bridge import ScipyBridge
from ._overflow import overflow_is_an_error
from ._trace import IterationTrace


def solve_newton_cg(problem, coef0, *, tol, max_iter, verbose=0, callback=None):
    """Minimize ``problem``'s smooth objective with scipy's ``trust-ncg``.

    Each outer iteration evaluates value, gradient and the probabilities once;
    every inner conjugate-gradient step is one exact Hessian-vector product
    (two more matrix products) at those probabilities.

    Parameters
    ----------
    problem : SoftmaxProblem
        Its penalty must be smooth (no L1 part).
    coef0 : ndarray
        Starting coefficients, 2-D.
    tol : float
        Stop when :meth:`SoftmaxProblem.optimality` is at most ``tol``.
    max_iter : int
        Maximum number of outer (Newton) iterations.
    verbose : int, default=0
        Print one line per iteration when positive.
    callback : callable or None, default=None
        ``callback(coef) -> bool`` after each iteration; true stops the solver
        (see :class:`~._trace.IterationTrace`).

    Returns
    -------
    SolverResult
    """
    if not problem.penalty.is_smooth:
        raise ValueError("newton-cg needs a smooth penalty (l1_ratio=0).")
    bridge = ScipyBridge(problem)
    trace = IterationTrace(bridge, tol, verbose, "newton-cg", callback)
    x0 = bridge.to_flat(coef0)
    if trace.start(x0):
        return trace.result(x0, message="optimal at the start")
    if max_iter == 0:
        return trace.result(x0, message="max_iter=0: no iteration")

    with solver_threads(), overflow_is_an_error():
        res = minimize(
            bridge.value_gradient_with_hessp,
            x0,
            method="trust-ncg",
            jac=True,
            hessp=bridge.hessp,
            callback=trace,
            # The callback stops on the optimality measure (largest gradient
            # entry); scipy's own test on the gradient's 2-norm is stricter,
            # and kept positive so that it also ends a run with tol=0.
            options={"maxiter": max_iter, "gtol": max(tol, np.finfo(float).tiny)},
        )
    # Status 0: gradient norm below tol. Status 2: the quadratic model of a
    # positive semi-definite Hessian no longer predicts a decrease, which only
    # happens when rounding dominates the step, i.e. at floating-point precision.
    return trace.result(res.x, at_precision_limit=res.status in (0, 2), message=str(res.message))
