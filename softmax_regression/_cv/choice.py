"""The grid of a SoftmaxClassifierCV and the choice of its point.

The choice follows LogisticRegressionCV: with ``refit=True`` the point of best
score summed over the folds; with ``refit=False`` each fold's own best point,
whose ``C`` and ``l1_ratio`` are averaged, and whose models are averaged into
the final one. Ties go to the smaller ``C``, then the earlier ``l1_ratio``:
LogisticRegressionCV's (and GridSearchCV's) order of the candidates. A point
with a NaN score (on any fold, for the summed score) ranks last, as in
GridSearchCV; when no point has a score, there is nothing to choose.
"""

from numbers import Integral

import numpy as np

from .._solvers import SOLVERS


def check_grid(Cs, l1_ratios, solver):
    """``(Cs, l1_ratios)`` as 1-D float arrays, checked against each other and ``solver``.

    An int ``Cs`` is ``np.logspace(-4, 4, Cs)``, as in LogisticRegressionCV.
    Booleans are refused: ``Cs=True`` is a mistake, not a grid of one point.
    """
    if isinstance(Cs, (bool, np.bool_)) or np.asarray(Cs).dtype == bool:
        raise ValueError(
            f"Cs must be an int or a non-empty list of numbers > 0 (np.inf allowed), not "
            f"booleans; got Cs={Cs!r}."
        )
    if isinstance(Cs, Integral):
        C_values = np.logspace(-4, 4, Cs)
    else:
        C_values = _float_vector(Cs, "Cs")
        if C_values.size == 0 or not np.all(C_values > 0):
            raise ValueError(
                f"Cs must be an int or a non-empty list of numbers > 0 (np.inf allowed); "
                f"got Cs={Cs!r}."
            )
    ratios = _float_vector(l1_ratios, "l1_ratios")
    if ratios.size == 0 or not np.all((ratios >= 0) & (ratios <= 1)):
        raise ValueError(
            f"l1_ratios must be a non-empty list of numbers in [0, 1]; "
            f"got l1_ratios={l1_ratios!r}."
        )
    # With C = inf there is no penalty, so no L1 part, whatever l1_ratio says.
    needs_l1 = np.any(ratios > 0) and np.any(np.isfinite(C_values))
    if needs_l1 and not SOLVERS[solver].supports_l1:
        working = sorted(name for name, spec in SOLVERS.items() if spec.supports_l1)
        raise ValueError(
            f"solver={solver!r} does not support an L1 penalty, but "
            f"l1_ratios={ratios.tolist()} asks for one (values above 0); use "
            f"l1_ratios=(0.0,) or one of the solvers {working}."
        )
    return C_values, ratios


def _float_vector(values, name):
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must contain numbers; got {name}={values!r}.") from error
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D; got {name}={values!r}.")
    return array


def best_point(scores, where="the folds"):
    """``(C index, l1_ratio index)`` of the best of ``scores`` (n_l1_ratios, n_Cs).

    NaN ranks last (``np.argmax`` would pick the first NaN); ``where`` names
    the scores in the error raised when all are NaN.
    """
    by_C = scores.T  # (n_Cs, n_l1_ratios): row-major order is the candidates' order
    if np.isnan(by_C).all():
        raise ValueError(
            f"Every point of the grid has a NaN score on {where}: there is no C and l1_ratio "
            "to choose. A test fold whose samples all have zero weight, or a scorer undefined "
            "on the folds (a class missing from a test fold), gives NaN; use other folds."
        )
    i, j = np.unravel_index(np.argmax(np.where(np.isnan(by_C), -np.inf, by_C)), by_C.shape)
    return int(i), int(j)


def best_summed_point(scores):
    """``best_point`` of the scores (n_folds, n_l1_ratios, n_Cs) summed over the folds."""
    empty_folds = np.flatnonzero(np.isnan(scores).all(axis=(1, 2)))
    where = (f"fold {empty_folds[0]}" if empty_folds.size else
             "some fold (every point is NaN on at least one)")
    return best_point(scores.sum(axis=0), where=where)


def nan_warning(scores, Cs, l1_ratios, shown=10):
    """The message about NaN fold scores, or None when there is none.

    ``scores`` has shape (n_folds, n_l1_ratios, n_Cs).
    """
    nan = np.isnan(scores)
    if not nan.any():
        return None
    parts = []
    for fold in np.flatnonzero(nan.any(axis=(1, 2))):
        points = [f"(C={Cs[i]:g}, l1_ratio={l1_ratios[j]:g})"
                  for i in range(len(Cs)) for j in range(len(l1_ratios)) if nan[fold, j, i]]
        more = f" and {len(points) - shown} more" if len(points) > shown else ""
        parts.append(f"fold {fold} at {', '.join(points[:shown])}{more}")
    return (
        f"{int(nan.sum())} of the {nan.size} fold scores are NaN: {'; '.join(parts)}; these "
        "points rank last. A test fold whose samples all have zero weight, or a scorer "
        "undefined on a fold (a class missing from it), gives NaN."
    )


def fold_average(problem, coefs_paths, scores, Cs, l1_ratios):
    """``refit=False``: the fitted attributes from each fold's best model.

    Returns ``C_``, ``l1_ratio_`` (the means of the folds' best values) and
    ``coef_``, ``intercept_`` (the average of the folds' best models) in the
    problem's dtype, namespace and device.
    """
    best = [best_point(fold, where=f"fold {f}") for f, fold in enumerate(scores)]
    xp, device = problem.namespace_and_device
    coef = np.mean([coefs_paths[f, j, i] for f, (i, j) in enumerate(best)], axis=0)
    coef = xp.asarray(coef, dtype=problem.dtype, device=device)
    d = problem.n_features
    if problem.loss.fit_intercept:
        weights, intercept = coef[:, :d], coef[:, d]
    else:
        weights = coef
        intercept = xp.zeros(coef.shape[0], dtype=coef.dtype, device=device)
    return {
        "C_": float(np.mean([Cs[i] for i, _ in best])),
        "l1_ratio_": float(np.mean([l1_ratios[j] for _, j in best])),
        "coef_": xp.asarray(weights, copy=True),
        "intercept_": xp.asarray(intercept, copy=True),
    }
