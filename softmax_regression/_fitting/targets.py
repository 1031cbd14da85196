"""Soft targets, offsets and penalty factors: checked and put in the problem's form.

Soft targets are an ``(n_samples, K)`` matrix of non-negative numbers per row
(probabilities or counts). Row ``i`` adds ``sum_k y_ik * -log p_ik`` to the
loss, which is ``t_i * CE(y_i / t_i)`` with the row total ``t_i``: the loss
sees each row normalized to a distribution, and the total goes into the
sample weight. Class weights scale the columns (``y_ik * class_weight_k``),
so a one-hot row weighs what its label weighs.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.utils.validation import check_consistent_length

from .._utils.arrays import host_dtype, host_numpy, is_dask_collection
from .._utils.compat import _check_sample_weight, get_namespace_and_device, move_to


def is_soft_targets(y):
    """Whether ``y`` is a matrix of soft targets (2-D with at least 2 columns)."""
    if y is None or is_dask_collection(y):
        return False
    shape = getattr(y, "shape", None)
    if shape is None:
        try:
            shape = np.shape(y)
        except (ValueError, TypeError):  # ragged nested lists: left to the label checks
            return False
    return len(shape) == 2 and shape[1] >= 2


def soft_target_classes(y):
    """The sorted labels of the columns of soft targets: a data frame's, else ``0..K-1``."""
    columns = getattr(y, "columns", None)
    if columns is None:
        return np.arange(np.shape(y)[1])
    labels = np.asarray(list(columns))
    if len(np.unique(labels)) != len(labels):
        raise ValueError(
            f"y (soft targets) must have one column per class, but its column labels "
            f"repeat: {labels.tolist()}."
        )
    return np.sort(labels)


def in_class_order(Y, y, classes):
    """The columns of ``Y`` in the order of ``classes``: a data frame's by label."""
    columns = getattr(y, "columns", None)
    if columns is None:
        return Y
    labels = list(columns)
    wanted = host_numpy(classes).tolist()
    if sorted(map(repr, labels)) != sorted(map(repr, wanted)):
        raise ValueError(
            f"y (soft targets) has the columns {labels}, but the classes are {wanted}."
        )
    position = {repr(label): i for i, label in enumerate(labels)}
    return Y[:, [position[repr(label)] for label in wanted]]


def soft_target_matrix(y, X):
    """``y`` as a host float64 matrix, checked: finite, non-negative, one row per sample."""
    try:
        Y = np.asarray(host_numpy(y.to_numpy() if hasattr(y, "to_numpy") else y),
                       dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            "y with 2 or more columns is read as soft targets (non-negative numbers per "
            f"class), but its entries are not numbers: {error}"
        ) from None
    check_consistent_length(X, Y)
    bad = ~np.all(np.isfinite(Y) & (Y >= 0), axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"y (soft targets) must be finite and non-negative, but row {i} is "
            f"{Y[i].tolist()} ({int(bad.sum())} such rows)."
        )
    return Y


def soft_sample_weight(estimator, X, Y, classes, sample_weight, class_weights):
    """Sample weights and row-normalized targets of soft targets ``Y``.

    ``class_weights(class_weight, classes)`` gives a dict's weight per class.

    Returns
    -------
    weights : array of shape (n_samples,)
        ``sample_weight * row total`` (class weights applied to the columns),
        divided by its largest value, in X's dtype, namespace and device.
    scale : float
        That largest value.
    Y : ndarray of shape (n_samples, K)
        Each row divided by its total (uniform where the total is 0), host float64.
    """
    xp, _, device = get_namespace_and_device(X)
    weights = _check_sample_weight(sample_weight, X, dtype=None, ensure_non_negative=True)
    weights = np.asarray(host_numpy(weights), dtype=np.float64)
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight contains NaN or infinity.")
    row_total = Y.sum(axis=1)
    empty = (row_total == 0) & (weights > 0)
    if empty.any():
        i = int(np.flatnonzero(empty)[0])
        raise ValueError(
            f"y (soft targets): row {i} sums to zero but has a positive sample weight "
            f"({int(empty.sum())} such rows); give each row a target, or a sample weight of 0."
        )
    largest = float(np.max(weights)) if weights.size else 0.0
    if not largest > 0:
        raise ValueError("The sample weights are all zero: nothing to fit.")
    weights = weights / largest
    if estimator.class_weight is not None:
        Y = Y * _soft_class_weights(estimator.class_weight, classes, Y, weights, class_weights)
        row_total = Y.sum(axis=1)
    with np.errstate(over="ignore"):
        # Row totals are divided by the largest first: counts near the
        # largest float keep every later sum finite.
        row_scale = float(np.max(row_total))
        combined = weights * (row_total / row_scale) if row_scale > 0 else weights * 0.0
    relative = float(np.max(combined))
    if not relative > 0:
        raise ValueError("The sample weights times the soft targets are all zero: "
                         "nothing to fit.")
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = Y / row_total[:, None]
    normalized[row_total == 0] = 1.0 / Y.shape[1]
    weights = np.asarray(combined / relative, dtype=host_dtype(X.dtype))
    weights = move_to(weights, xp=xp, device=device)
    return weights, largest * row_scale * relative, normalized


def _soft_class_weights(class_weight, classes, Y, weights, class_weights):
    """One weight per column; ``"balanced"`` from the weighted column totals."""
    if isinstance(class_weight, str):  # "balanced"
        totals = weights @ Y
        with np.errstate(divide="ignore", invalid="ignore"):
            per_class = np.sum(totals) / (len(totals) * totals)
        return np.where(totals > 0, per_class, 0.0)
    return class_weights(class_weight, classes)


def free_targets(loss, Y, X):
    """Row-normalized soft targets over the loss's free logits, in X's arrays.

    Laid out by columns for NumPy and sparse X, as one-hot targets are (see
    :meth:`~.._model.loss.LinearSoftmaxLoss.one_hot`): the K-major passes read
    ``Y^T``.
    """
    xp, _, device = get_namespace_and_device(X)
    free = loss.free_targets(Y)
    if isinstance(X, np.ndarray) or sp.issparse(X):
        return np.asfortranarray(free, dtype=host_dtype(X.dtype))
    return move_to(np.ascontiguousarray(free, dtype=host_dtype(X.dtype)), xp=xp, device=device)


def checked_offset(offset, n_samples, n_classes, X):
    """``offset`` as ``(n_samples, n_logits)`` in X's dtype and arrays, or None.

    For three or more classes it must be ``(n_samples, n_classes)``: an
    ``(n_samples,)`` offset would add the same number to every logit, which
    changes no probability. A binary model takes ``(n_samples,)`` (its single
    logit, that of ``classes_[1]``) or ``(n_samples, 2)`` (both classes'
    logits; only their difference matters).
    """
    if offset is None:
        return None
    xp, _, device = get_namespace_and_device(X)
    try:
        O = np.asarray(host_numpy(offset), dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"offset must be an array of numbers, got {type(offset).__name__}.") from None
    check_offset_shape(O.shape, n_samples, n_classes)
    if not np.all(np.isfinite(O)):
        raise ValueError("offset contains NaN or infinity.")
    if n_classes == 2:
        O = (O if O.ndim == 1 else O[:, 1] - O[:, 0])[:, None]
    return move_to(np.ascontiguousarray(O, dtype=host_dtype(X.dtype)), xp=xp, device=device)


def check_offset_shape(shape, n_samples, n_classes):
    """A ValueError naming the expected shapes unless ``shape`` is an offset's."""
    shape = tuple(shape)
    if n_classes == 2:
        expected = f"({n_samples},) or ({n_samples}, 2)"
        fits = shape in ((n_samples,), (n_samples, 2))
    else:
        expected = f"({n_samples}, {n_classes})"
        fits = shape == (n_samples, n_classes)
    if not fits:
        why = ""
        if n_classes > 2 and shape == (n_samples,):
            why = (" A 1-D offset would add the same number to every class's logit, "
                   "which changes no probability; give one column per class.")
        raise ValueError(
            f"offset must have shape {expected} for {n_samples} samples and {n_classes} "
            f"classes (one column per class logit), got shape {shape}.{why}"
        )


def checked_penalty_factor(penalty_factor, n_features):
    """``penalty_factor`` as a host float64 vector of ``n_features`` entries, or None."""
    if penalty_factor is None:
        return None
    try:
        factor = np.asarray(host_numpy(penalty_factor) if hasattr(penalty_factor, "shape")
                            else penalty_factor, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("penalty_factor must be None or an array of n_features numbers, "
                         f"got {penalty_factor!r}.") from None
    if factor.shape != (n_features,):
        raise ValueError(
            f"penalty_factor must have one entry per feature, shape ({n_features},), got "
            f"shape {factor.shape}."
        )
    if not np.all(np.isfinite(factor) & (factor >= 0)):
        raise ValueError(
            f"penalty_factor must be finite and non-negative, got {factor.tolist()[:10]}."
        )
    return factor


def inference_soft_targets(model, y, X):
    """Soft targets ``y``: row-normalized, their arg-max, and their row totals.

    A row of soft targets enters as one observation whose score is scaled by
    its total (as a class weight scales it).
    """
    if model.class_weight is not None:
        raise ValueError("inference with soft targets y is not available for a model "
                         "fitted with class_weight.")
    Y = soft_target_matrix(y, X)
    if Y.shape[1] != len(model.classes_):
        raise ValueError(f"y has {Y.shape[1]} columns (soft targets), but the model has "
                         f"{len(model.classes_)} classes.")
    Y = in_class_order(Y, y, model.classes_)
    total = Y.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        normalized = np.where(total[:, None] > 0, Y / total[:, None], 1.0 / Y.shape[1])
    return normalized, np.argmax(normalized, axis=1), total
