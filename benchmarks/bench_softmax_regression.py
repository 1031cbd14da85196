"""softmax_regression.SoftmaxClassifier, every solver in ``SOLVERS``.

Evaluations are counted by patching ``LinearSoftmaxLoss.loss_gradient``,
``loss_gradient_hessian_product`` (and the Hessian-product closure it
returns) and ``loss`` for the duration of the fit only. For full-batch
solvers each counted call is one pass over the data; for stochastic solvers
(minibatch calls) the pass count is the number of epochs instead.
"""

import numpy as np
import softmax_regression
from softmax_regression import SoftmaxClassifier
from softmax_regression._model.loss import LinearSoftmaxLoss
from softmax_regression._solvers import SOLVERS

from _harness import CallCounter, FitRecord, quiet, sweep_max_iter, timed

LIBRARY = "softmax_regression"
VERSION = softmax_regression.__version__

# Solvers that draw minibatches: their iterations are epochs, their calls to
# the loss are not passes over the data, and they are traced by refitting.
_STOCHASTIC_NAMES = {"sgd"}


def solvers():
    """The solver names, read from the library's table when called."""
    return list(SOLVERS)


def is_stochastic(solver):
    spec = SOLVERS[solver]
    default = getattr(spec, "stateful", False) or solver in _STOCHASTIC_NAMES
    return bool(getattr(spec, "stochastic", default))


def _methods():
    return {
        "loss_gradient": (LinearSoftmaxLoss, "loss_gradient", "value"),
        "loss_gradient_hessian_product": (
            LinearSoftmaxLoss,
            "loss_gradient_hessian_product",
            "value+hessp",
        ),
        "loss": (LinearSoftmaxLoss, "loss", "value"),
    }


def _objective_from_loss(C, n_samples):
    """The loss is ``sum_i s_i CE_i`` with ``s`` summing to 1; add ``||W||^2 / (2Cn)``."""

    def value_of(args, kwargs, value):
        coef, X = args[1], args[2]
        W = np.asarray(coef[:, : X.shape[1]], dtype=np.float64)
        if np.isfinite(C):
            value += float(np.sum(W * W)) / (2.0 * C * n_samples)
        return value

    return value_of


def _estimator(solver, tol, max_iter, C):
    return SoftmaxClassifier(C=C, solver=solver, tol=tol, max_iter=max_iter, random_state=0)


def fit(problem, *, solver, dtype, tol, max_iter, C, trace=False):
    """Fit ``SoftmaxClassifier(solver=...)`` on the problem's training split."""
    X, y, _, _ = problem.data(dtype)
    stochastic = is_stochastic(solver)

    if stochastic and trace:

        def fit_once(k):
            return timed(lambda: fit(problem, solver=solver, dtype=dtype, tol=tol,
                                     max_iter=k, C=C))

        return sweep_max_iter(fit_once, max_iter)

    counter = CallCounter(
        _methods(), value_of=_objective_from_loss(C, X.shape[0]), trace=trace and not stochastic
    )
    estimator = _estimator(solver, tol, max_iter, C)
    with quiet() as status, counter.active():
        estimator.fit(X, y)
    n_iter = int(estimator.n_iter_[0])
    evaluations = sum(counter.counts.values())
    return FitRecord(
        library=LIBRARY,
        solver=solver,
        estimator=estimator,
        iterations=n_iter,
        evaluations=None if stochastic else evaluations,
        hessian_products=None if stochastic else counter.hessp_calls,
        stochastic=stochastic,
        converged=status.converged,
        trace=counter.trace,
    )
