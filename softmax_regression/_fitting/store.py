"""From a solver's result to the estimator's fitted attributes, in one step."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._utils.atomic import store_fitted
from .._solvers import SOLVERS

# What a stateful solver's fit leaves behind: its state, the samples
# processed and the validation scores. Another solver's fit removes them.
_STREAM_ATTRIBUTES = tuple(
    sorted({spec.state_attribute for spec in SOLVERS.values() if spec.state_attribute})
) + ("t_", "validation_scores_")


def warn_if_not_converged(estimator, spec, problem, result):
    """A ConvergenceWarning for any stop that is not convergence.

    A stop that a callback asked for (``result.stopped_by_callback``) is the
    user's choice, not the solver's failure: it does not warn. The warning
    about separable data with ``C=inf`` is about the data, and stays.
    """
    name = type(estimator).__name__
    if not result.converged and not result.stopped_by_callback:
        reason = (
            f"did not converge in max_iter={estimator.max_iter} {spec.unit}"
            if result.n_iter >= estimator.max_iter
            else f"stopped after {result.n_iter} {spec.unit} ({result.message})"
        )
        measure = (
            "" if np.isnan(result.optimality)
            else f": optimality {result.optimality:.3g} > tol={estimator.tol:g}"
        )
        warnings.warn(
            f"{name}(solver={estimator.solver!r}) {reason}{measure}. "
            "Increase max_iter, or standardize the features.",
            ConvergenceWarning,
        )
    if problem.penalty.is_zero and problem.separates(result.coef):
        warnings.warn(
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

