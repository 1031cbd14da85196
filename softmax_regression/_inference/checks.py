"""The checks ``inference`` makes of its arguments before any arithmetic."""

import numpy as np
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .result import check_alpha

COV_TYPES = ("nonrobust", "HC0", "cluster")


def check_groups(groups, n_samples):
    """``groups`` as a 1-D array of sortable labels, one per sample, none missing."""
    groups = column_or_1d(groups)
    if groups.shape[0] != n_samples:
        raise ValueError(f"groups has {groups.shape[0]} entries but X has {n_samples} samples.")
    if groups.dtype.kind == "f":
        missing = np.isnan(groups)
    elif groups.dtype.kind == "O":
        missing = np.array([_is_missing(g) for g in groups], dtype=bool)
    else:
        missing = np.zeros(n_samples, dtype=bool)
    if missing.any():
        raise ValueError(
            f"groups has missing labels (NaN or None) at {int(missing.sum())} sample(s), the "
            f"first at index {int(np.flatnonzero(missing)[0])}: every sample needs a cluster."
        )
    if groups.dtype.kind == "O":
        try:
            np.unique(groups)
        except TypeError as error:
            types = sorted({type(g).__name__ for g in groups})
            raise ValueError(
                f"groups labels cannot be sorted (mixed types: {', '.join(types)}); give "
                "labels of one type."
            ) from error
    return groups


def _is_missing(label):
    """None, NaN (not equal to itself) or pandas' NA (whose comparisons have no truth value)."""
    if label is None:
        return True
    try:
        return bool(label != label)
    except TypeError:
        return True


def check_options(cov_type, groups, alpha):
    if cov_type not in COV_TYPES:
        raise ValueError(f"cov_type must be one of {COV_TYPES}, got {cov_type!r}.")
    if cov_type == "cluster" and groups is None:
        raise ValueError("cov_type='cluster' needs groups: one cluster label per sample.")
    if cov_type != "cluster" and groups is not None:
        raise ValueError(
            f"groups is only used with cov_type='cluster', not with cov_type={cov_type!r}."
        )
    check_alpha(alpha)


def _how_to_pass(model, SoftmaxClassifier):
    """What to pass instead of ``model``: a pipeline's last step, a CV's choice refitted."""
    from sklearn.pipeline import Pipeline

    from .._cv.estimator import SoftmaxClassifierCV

    if isinstance(model, Pipeline) and isinstance(model.steps[-1][1], SoftmaxClassifier):
        return (" For a pipeline, pass its last step and X transformed by the steps "
                "before it: inference(pipe[-1], pipe[:-1].transform(X), y).")
    if isinstance(model, SoftmaxClassifierCV):
        return (" Refit the chosen model as a SoftmaxClassifier: inference(SoftmaxClassifier("
                "C=cv.C_, l1_ratio=cv.l1_ratio_).fit(X, y), X, y).")
    return ""


def check_model(model):
    from .._estimator import SoftmaxClassifier

    if not isinstance(model, SoftmaxClassifier):
        raise TypeError(f"inference needs a fitted SoftmaxClassifier, got "
                        f"{type(model).__name__}.{_how_to_pass(model, SoftmaxClassifier)}")
    check_is_fitted(model)
    if not np.isinf(model.C) and model.l1_ratio > 0:
        raise ValueError(
            f"inference is not available for a model with an L1 penalty "
            f"(l1_ratio={model.l1_ratio}, C={model.C}): coefficients at exact zeros "
            "have no valid standard errors. Refit with l1_ratio=0 or C=np.inf."
        )
