"""From a solver's result to the estimator's fitted attributes, in one step."""

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._utils.atomic import store_fitted
from .._solvers import SOLVERS
from .._solvers._trace import stop_advice
from .._utils.caller import warn

# What a stateful solver's fit leaves behind: its state, the samples
# processed and the validation scores. Another solver's fit removes them.
_STREAM_ATTRIBUTES = tuple(
    sorted({spec.state_attribute for spec in SOLVERS.values() if spec.state_attribute})
) + ("t_", "validation_scores_")


def convergence_message(estimator, spec, result, dtype=None):
    """The ConvergenceWarning's text for ``result``, a stop that is not convergence.

    What happened, then the advice for the stop's reason (``result.stop``,
    see :data:`~.._solvers._trace.ADVICE`), said once: a stop at ``max_iter``
    asks for more iterations, a stop at the limit of floating-point precision
    for a larger ``tol``, a failed line search for scaling.
    """
    reason = result.stop or ("max_iter" if result.n_iter >= estimator.max_iter else "")
    measure = (
        "" if np.isnan(result.optimality)
        else f": optimality {result.optimality:.3g} > tol={estimator.tol:g}"
    )
    head = f"{type(estimator).__name__}(solver={estimator.solver!r})"
    if reason == "max_iter":
        what = f"{head} did not converge in max_iter={estimator.max_iter} {spec.unit}"
    else:
        what = (f"{head} stopped after {result.n_iter} of max_iter={estimator.max_iter} "
                f"{spec.unit} because {result.message}")
    return f"{what}{measure}. {stop_advice(reason, dtype)}"


def warn_if_not_converged(estimator, spec, problem, result):
    """A ConvergenceWarning for any stop that is not convergence, at the user's line.

    A stop that a callback asked for (``result.stopped_by_callback``) is the
    user's choice, not the solver's failure: it does not warn. The warning
    about separable data with ``C=inf`` is about the data, and stays.
    """
    name = type(estimator).__name__
    if not result.converged and not result.stopped_by_callback:
        warn(convergence_message(estimator, spec, result, problem.dtype), ConvergenceWarning)
    if problem.penalty.is_zero and problem.separates(result.coef):
        warn(
            f"{name}: with C=inf the training data are linearly separated by the "
            "fitted model, so the unpenalized objective has no minimizer and the "
            "coefficients only stay finite because the solver stopped. Use a finite C.",
            ConvergenceWarning,
        )


def store_result(estimator, spec, prepared, result, *, continuing=False):
    """Set every fitted attribute from ``result`` at once.

    ``continuing=True`` (a ``partial_fit`` after the first) adds to
    ``n_iter_``, ``loss_curve_`` and ``validation_scores_`` instead of
    replacing them.
    """
    problem = prepared.problem
    xp, device = problem.namespace_and_device
    coef, intercept = problem.loss.weights_and_intercept(
        result.coef, problem.n_features, center_weights=problem.penalty.is_smooth
    )
    n_iter = result.n_iter + (int(estimator.n_iter_[0]) if continuing else 0)
    history = [float(v) for v in result.objective_history]
    attributes = {
        "classes_": prepared.classes,
        "coef_": coef,
        "intercept_": intercept,
        "n_iter_": xp.asarray([n_iter], dtype=xp.int32, device=device),
        "loss_curve_": (list(estimator.loss_curve_) if continuing else []) + history,
        **prepared.features,
    }
    drop = [name for name, value in prepared.features.items() if value is None]
    for name in drop:
        del attributes[name]
    if spec.state_attribute is None or result.state is None:
        drop += _STREAM_ATTRIBUTES
    else:
        attributes[spec.state_attribute] = result.state
        attributes["t_"] = result.state.n_samples_seen
        scores = None
        if estimator.early_stopping:
            previous = getattr(estimator, "validation_scores_", None) if continuing else None
            scores = list(previous or []) + list(result.validation_scores)
        attributes["validation_scores_"] = scores
    store_fitted(estimator, attributes, drop)

