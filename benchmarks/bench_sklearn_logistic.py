"""sklearn.linear_model.LogisticRegression: lbfgs, newton-cg, newton-cholesky, saga.

Same objective and ``C`` as SoftmaxClassifier (multinomial for three or more
classes). For the solvers built on scikit-learn's ``LinearModelLoss``
(lbfgs, newton-cg, newton-cholesky) its methods are patched during the fit
to count passes over the data; ``LinearModelLoss`` already returns the
objective divided by ``n`` with the L2 penalty included, which is what the
trace records. saga is a compiled loop: only its epochs (``n_iter_``) are
known, and it is traced by refitting with growing ``max_iter``.

newton-cholesky forms the full Hessian, ``(K (d + 1))^2`` entries; it is
skipped when that exceeds :data:`MAX_NEWTON_CHOLESKY_PARAMS` squared.
"""

import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.linear_model._linear_loss import LinearModelLoss

from _harness import CallCounter, FitRecord, SkipFit, quiet, sweep_max_iter, timed

LIBRARY = "sklearn.LogisticRegression"
VERSION = sklearn.__version__
MAX_NEWTON_CHOLESKY_PARAMS = 2_000

_SOLVERS = ("lbfgs", "newton-cg", "newton-cholesky", "saga")


def solvers():
    return list(_SOLVERS)


def is_stochastic(solver):
    return solver == "saga"


def _methods():
    return {
        name: (LinearModelLoss, name, kind)
        for name, kind in [
            ("loss", "value"),
            ("loss_gradient", "value"),
            ("gradient", "plain"),
            ("gradient_hessian_product", "hessp"),
            ("gradient_hessian", "plain"),
        ]
    }


def _check_supported(problem, solver, dtype):
    X, y, _, _ = problem.data(dtype)
    n_params = (int(y.max()) + 1) * (X.shape[1] + 1)
    if solver == "newton-cholesky" and n_params > MAX_NEWTON_CHOLESKY_PARAMS:
        raise SkipFit(
            f"full Hessian of {n_params:,} x {n_params:,} "
            f"({n_params**2 * 8 / 2**30:.1f} GiB in float64) is too large"
        )


def fit(problem, *, solver, dtype, tol, max_iter, C, trace=False):
    """Fit ``LogisticRegression(solver=...)`` on the problem's training split."""
    _check_supported(problem, solver, dtype)
    X, y, _, _ = problem.data(dtype)
    stochastic = is_stochastic(solver)

    if stochastic and trace:

        def fit_once(k):
            return timed(lambda: fit(problem, solver=solver, dtype=dtype, tol=tol,
                                     max_iter=k, C=C))

        return sweep_max_iter(fit_once, max_iter)

    counter = CallCounter(_methods(), trace=trace and not stochastic)
    estimator = LogisticRegression(
        C=C, solver=solver, tol=tol, max_iter=max_iter, random_state=0
    )
    with quiet() as status, counter.active():
        estimator.fit(X, y)
    counts = counter.counts
    if stochastic:
        evaluations = hessian = None
        note = ""
    elif solver == "newton-cholesky":
        # gradient_hessian forms the full Hessian (and the gradient): one pass
        # plus the n * (K d)^2 work of the Hessian itself.
        evaluations = counts["loss"] + counts["loss_gradient"] + counts["gradient"]
        hessian = counts["gradient_hessian"]
        note = "hessian_products are full Hessians"
    else:
        evaluations = counts["loss"] + counts["loss_gradient"] + counts["gradient"]
        evaluations += counts["gradient_hessian_product"]
        hessian = counter.hessp_calls
        note = ""
    return FitRecord(
        library=LIBRARY,
        solver=solver,
        estimator=estimator,
        iterations=int(estimator.n_iter_.max()),
        evaluations=evaluations,
        hessian_products=hessian,
        stochastic=stochastic,
        converged=status.converged,
        trace=counter.trace,
        note=note,
    )
