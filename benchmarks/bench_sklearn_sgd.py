"""sklearn.linear_model.SGDClassifier(loss="log_loss").

SGDClassifier minimizes ``mean_i loss_i + alpha / 2 ||w||^2`` per class, so
``alpha = 1 / (C n)`` gives the penalty of the other libraries. It is not the
same model, though: with three or more classes it fits one binary logistic
model per class (one-vs-rest) and normalizes their probabilities, so its
coefficients are scored with the shared multinomial objective but cannot
reach the multinomial optimum; expect a positive gap at any tolerance.
Its ``tol`` is a different criterion (no improvement of the training loss
by ``tol`` for ``n_iter_no_change`` epochs). Only epochs (``n_iter_``) are
known; it is traced by refitting with growing ``max_iter``.
"""

import sklearn
from sklearn.linear_model import SGDClassifier

from _harness import FitRecord, quiet, sweep_max_iter, timed

LIBRARY = "sklearn.SGDClassifier"
VERSION = sklearn.__version__


def solvers():
    return ["sgd-ovr"]


def is_stochastic(solver):
    return True


def fit(problem, *, solver, dtype, tol, max_iter, C, trace=False):
    """Fit ``SGDClassifier(loss="log_loss", alpha=1/(C n))`` on the training split."""
    X, y, _, _ = problem.data(dtype)
    if trace:

        def fit_once(k):
            return timed(lambda: fit(problem, solver=solver, dtype=dtype, tol=tol,
                                     max_iter=k, C=C))

        return sweep_max_iter(fit_once, max_iter)

    estimator = SGDClassifier(
        loss="log_loss",
        alpha=1.0 / (C * X.shape[0]),
        tol=tol,
        max_iter=max_iter,
        random_state=0,
    )
    with quiet() as status:
        estimator.fit(X, y)
    return FitRecord(
        library=LIBRARY,
        solver=solver,
        estimator=estimator,
        iterations=int(estimator.n_iter_),
        stochastic=True,
        converged=status.converged,
        note="one-vs-rest model",
    )
