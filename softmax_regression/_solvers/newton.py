"""Newton-CG: preconditioned conjugate gradients on exact Hessian-vector products."""

from .newton_family import NewtonCG


def solve_newton_cg(problem, coef0, *, tol, max_iter, verbose=0, callback=None):
    """Minimize ``problem``'s smooth objective by line-search Newton-CG.

    Each outer iteration evaluates value and gradient once; every inner
    conjugate-gradient step is one exact Hessian-vector product (two more
    matrix products) at the iterate's probabilities, preconditioned by the
    Hessian's diagonal, so that a feature's scale does not slow it down.

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
    return NewtonCG(problem, tol=tol, max_iter=max_iter, verbose=verbose,
                    callback=callback).solve(coef0)
