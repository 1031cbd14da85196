"""L-BFGS-B on the smooth (or bound-constrained split L1) objective."""

import numpy as np
from scipy.optimize import minimize

from .._threads import scipy_blas_single_threaded
from ._scipy_bridge import ScipyBridge
from ._overflow import overflow_is_an_error
from ._trace import IterationTrace


def solve_lbfgs(problem, coef0, *, tol, max_iter, verbose=0, memory=10, callback=None):
    """Minimize ``problem``'s objective with scipy's L-BFGS-B.

    Value and gradient come from one pass over the data. An L1 part of the
    penalty is handled exactly through the split ``W = W+ - W-`` with bounds
    ``W+, W- >= 0``, so coefficients that are zero at the optimum come out as
    exact zeros.

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
    memory : int, default=10
        Number of correction pairs kept by L-BFGS.
    callback : callable or None, default=None
        ``callback(coef) -> bool`` after each iteration; true stops the solver
        (see :class:`~._trace.IterationTrace`).

    Returns
    -------
    SolverResult
    """
    bridge = ScipyBridge(problem, split_l1=not problem.penalty.is_smooth)
    trace = IterationTrace(bridge, tol, verbose, "lbfgs", callback)
    x0 = bridge.to_flat(coef0)
    if trace.start(x0):
        return trace.result(x0, message="optimal at the start")
    if max_iter == 0:
        return trace.result(x0, message="max_iter=0: no iteration")

    with scipy_blas_single_threaded(), overflow_is_an_error():
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
    # ftol, i.e. to the resolution of floating point.
    return trace.result(res.x, at_precision_limit=res.status == 0, message=str(res.message))
