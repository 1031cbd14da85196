"""From ``fit(X, y)`` on dask collections to a :class:`~._prepare.Prepared` problem.

The same steps as :func:`~._prepare.prepare` (validate, encode, weigh, build),
with every pass over the data done by dask on the workers: the input is
persisted once, one map-reduce checks it and collects the labels, a second
one counts the (weighted) samples per class, and the targets and normalized
weights are built chunk by chunk beside X. The client only ever holds
per-class and per-chunk summaries. The checks reuse scikit-learn's own on
those summaries, so bad input raises the errors an in-memory fit raises.
"""

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp
from sklearn.utils import assert_all_finite, check_consistent_length, column_or_1d
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from .._utils.compat import _check_sample_weight, _get_feature_names
from .problem import ChunkedSoftmaxProblem, chunk_parts, tree_reduce
from .._model.loss import LinearSoftmaxLoss
from .._model.penalties import penalty_from_params
from .._fitting.targets import check_offset_shape, checked_offset, checked_penalty_factor
from .._fitting.prepare import Prepared, _check_weighted_classes, check_solver_penalty, class_weights


def as_dask_array(data):
    """A dask array from a dask array, DataFrame or Series (row lengths known)."""
    if hasattr(data, "to_dask_array"):
        return data.to_dask_array(lengths=True)
    if np.isnan(data.shape[0]):
        return data.compute_chunk_sizes()
    return data


def is_sparse_array(X):
    """Whether the chunks of dask array ``X`` are scipy sparse matrices."""
    return sp.issparse(getattr(X, "_meta", None))


def _to_csr(block, dtype):
    # Row slicing (sgd) and the loss's transposed products want CSR; COO and
    # other formats become CSR as scikit-learn's validation makes them.
    return sp.csr_matrix(block, dtype=dtype)


def empty_frame(X):
    """The empty pandas frame that describes a dask DataFrame's columns (else None)."""
    return getattr(X, "_meta", None) if hasattr(X, "columns") else None


def feature_matrix(estimator, X, *, reset):
    """X as a float dask array chunked along rows only, checked like in memory.

    The shape, feature count and feature names are checked by scikit-learn's
    ``validate_data`` on an empty stand-in (an empty frame with X's columns,
    or a zero-size array of X's shape), so the messages are the in-memory ones.
    """
    frame = empty_frame(X)
    X = as_dask_array(X)
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2-dimensional dask array or DataFrame for X, got {X.ndim} "
            f"dimension(s) (shape={X.shape}). Reshape your data."
        )
    sparse = is_sparse_array(X)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    if 0 in X.shape:
        validate_data(estimator, np.empty(X.shape, dtype=dtype), reset=reset)
    stand_in = frame if frame is not None else np.empty((0, X.shape[1]), dtype=dtype)
    validate_data(estimator, stand_in, reset=reset, ensure_min_samples=0)
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    if sparse:
        X = X.map_blocks(_to_csr, dtype, dtype=dtype, meta=sp.csr_matrix((0, 0), dtype=dtype))
    elif X.dtype != dtype:
        X = X.astype(dtype)
    return X


def row_vector(data, X):
    """``y`` or ``sample_weight`` as a 1-D dask array with X's row chunks."""
    if not dask.is_dask_collection(data):
        data = da.from_array(np.asarray(data), chunks=X.chunks[0] if np.ndim(data) == 1
                             else (X.chunks[0],) + tuple((s,) for s in np.shape(data)[1:]))
    data = as_dask_array(data)
    if data.ndim != 1:
        # scikit-learn's message for a 2-D y (and its warning for a column),
        # raised on a stand-in of y's shape that takes no memory.
        column_or_1d(np.broadcast_to(np.zeros((), dtype=data.dtype), data.shape), warn=True)
        data = data.reshape(-1)
    check_consistent_length(X, data)
    if data.chunks[0] != X.chunks[0]:
        data = data.rechunk({0: X.chunks[0]})
    return data


# -- the checking pass ----------------------------------------------------------
def _block_summary(X, y, sample_weight):
    """What the checks need from one chunk: non-finite values, labels, weights."""
    values = X.data if sp.issparse(X) else X
    finite = np.array([np.nan if np.isnan(values).any() else 0.0,
                       np.inf if np.isinf(values).any() else 0.0])
    labels = np.unique(y)
    if sample_weight is None:
        return finite, labels, np.zeros(0)
    w = np.asarray(sample_weight, dtype=np.float64)
    # The smallest and largest weight, and one NaN or infinity if there is one, stand for
    # the chunk in scikit-learn's sample_weight check.
    worst = [w.min(), w.max()] if w.size else []
    worst += [np.nan] if np.isnan(w).any() else []
    worst += [np.inf] if np.isinf(w).any() else []
    return finite, labels, np.asarray(worst, dtype=np.float64)


def _merge_summaries(*summaries):
    flags = np.stack([s[0] for s in summaries])
    finite = np.array([np.nan if np.isnan(flags[:, 0]).any() else 0.0,
                       np.inf if np.isinf(flags[:, 1]).any() else 0.0])
    labels = np.unique(np.concatenate([s[1] for s in summaries]))
    return finite, labels, np.concatenate([s[2] for s in summaries])


def check_and_collect_labels(estimator, X, y, sample_weight):
    """One map-reduce: refuse non-finite X or bad weights.

    Returns the sorted labels, and the smallest and largest weight of each
    chunk (None without weights).
    """
    weight_parts = (chunk_parts(sample_weight) if sample_weight is not None
                    else [None] * X.numblocks[0])
    summary = dask.delayed(_block_summary, pure=True)
    parts = [summary(Xc, yc, wc) for Xc, yc, wc in zip(chunk_parts(X), chunk_parts(y),
                                                       weight_parts)]
    finite, labels, worst_weights = dask.compute(tree_reduce(parts, _merge_summaries))[0]
    if sample_weight is None:
        worst_weights = None
    assert_all_finite(finite[~(finite == 0)], estimator_name=type(estimator).__name__,
                      input_name="X")
    if sample_weight is not None:
        _check_sample_weight(worst_weights, np.zeros((worst_weights.shape[0], 1)),
                             ensure_non_negative=True)
    if labels.dtype.kind == "f":
        assert_all_finite(labels, input_name="y")
    check_classification_targets(labels)
    if labels.shape[0] < 2:
        raise ValueError(
            f"{type(estimator).__name__} needs samples of at least 2 classes in the "
            f"data, but the data contains only one class: {labels[0]!r}."
        )
    return labels, worst_weights


# -- weights and targets ---------------------------------------------------------
def _block_class_weight_sums(y_index, sample_weight, n_classes, scale):
    """Per class: the sum and the largest of ``sample_weight / scale`` (or of ones)."""
    if sample_weight is None:
        weights = np.ones(len(y_index))
    else:
        weights = np.asarray(sample_weight, dtype=np.float64) / scale
    largest = np.zeros(n_classes)
    np.maximum.at(largest, y_index, weights)
    return (np.bincount(y_index, weights=weights, minlength=n_classes).astype(np.float64),
            largest)


def _add_and_max(*results):
    return (sum(r[0] for r in results), np.maximum.reduce([r[1] for r in results]))


def _block_encode(y, classes):
    # What LabelEncoder.transform does once the labels are known to be in classes.
    return np.searchsorted(classes, y)


def _block_weights(y_index, sample_weight, per_class, scale, total, dtype):
    # The in-memory order: divided by the largest weight first, so that no
    # factor leaves [0, 1] before the division by the (relative) total.
    weights = per_class[y_index]
    if sample_weight is not None:
        weights = weights * (np.asarray(sample_weight, dtype=np.float64) / scale)
    return (weights / total).astype(dtype)


def class_weight_sums(y_index, sample_weight, n_classes, scale=1.0):
    """Per class, float64 on the host: the sum and the largest of the weights / ``scale``.

    One map-reduce. Dividing by ``scale`` (the largest weight) before summing
    keeps the sums finite for weights anywhere in the float range, as the
    in-memory :func:`~._fitting.prepare.effective_sample_weight` does.
    """
    weight_parts = (chunk_parts(sample_weight) if sample_weight is not None
                    else [None] * y_index.numblocks[0])
    block = dask.delayed(_block_class_weight_sums, pure=True)
    parts = [block(yc, wc, n_classes, scale)
             for yc, wc in zip(chunk_parts(y_index), weight_parts)]
    return dask.compute(tree_reduce(parts, _add_and_max))[0]


def _largest_weight(worst_weights):
    """The largest sample weight (1 without weights); a ValueError if they are all zero."""
    if worst_weights is None:
        return 1.0
    scale = float(np.max(worst_weights, initial=0.0))
    if not scale > 0:
        raise ValueError("The sample weights are all zero: nothing to fit.")
    return scale


def effective_class_weights(estimator, classes, sums, largest):
    """Factors per class that turn ``sample_weight / scale`` into weights in ``[0, 1]``.

    The in-memory rule: ``class_weight`` multiplies the scaled weights, and
    the product is divided by its largest value, which comes back as the
    second result (the relative scale).
    """
    per_class = np.ones(classes.shape[0])
    if estimator.class_weight is not None:
        # The in-memory rule, given the per-class sums as one sample per class.
        per_class = class_weights(estimator.class_weight, classes, np.arange(classes.shape[0]),
                                  sums)
    with np.errstate(over="ignore", invalid="ignore"):
        relative = float(np.max(per_class * largest))
    if not np.isfinite(relative):
        raise ValueError(
            "sample_weight times class_weight overflows: the class weights are too "
            "large; divide them all by the same factor (only their ratios and C "
            "matter)."
        )
    if not relative > 0:
        raise ValueError("The sample weights times the class weights are all zero: "
                         "nothing to fit.")
    return per_class / relative, relative


def offset_matrix(offset, X, n_classes):
    """A dask ``offset`` as ``(n_samples, n_logits)`` chunks aligned with X's rows.

    The shape is checked at once, the values (finite) chunk by chunk where
    they are computed, with the in-memory rules and messages.
    """
    if not dask.is_dask_collection(offset):
        offset = np.asarray(offset)
        offset = da.from_array(offset, chunks=(X.chunks[0],) + tuple(
            (s,) for s in offset.shape[1:]))
    offset = as_dask_array(offset)
    check_offset_shape(offset.shape, X.shape[0], n_classes)
    if offset.ndim == 1:
        offset = offset[:, None]
    offset = offset.rechunk({0: X.chunks[0], 1: -1})
    n_logits = 1 if n_classes == 2 else n_classes
    return offset.map_blocks(_block_offset, n_classes, X.dtype, dtype=X.dtype,
                             chunks=(X.chunks[0], (n_logits,)))


def _block_offset(O, n_classes, dtype):
    O = O[:, 0] if O.shape[1] == 1 else O
    return checked_offset(O, O.shape[0], n_classes, np.empty((0, 0), dtype=dtype))


def prepare_dask(estimator, X, y, sample_weight=None, offset=None):
    """Validate, encode and weigh dask ``X, y`` into a persisted :class:`Prepared` problem.

    Parameters
    ----------
    estimator : SoftmaxClassifier
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Dense or scipy-sparse chunks.
    y : dask array or Series of shape (n_samples,)
        Rechunked to X's row chunks if they differ.
    sample_weight : dask array or Series of shape (n_samples,), or None
    offset : dask array of shape (n_samples, n_classes) or (n_samples,), or None
        Rechunked to X's row chunks if they differ (see :func:`offset_matrix`).

    Returns
    -------
    Prepared
        ``problem`` is a :class:`~._dask_problem.ChunkedSoftmaxProblem`;
        ``classes`` a host NumPy array.
    """
    check_solver_penalty(estimator)
    frame = empty_frame(X)
    features = {"feature_names_in_": None if frame is None else _get_feature_names(frame)}
    X = feature_matrix(estimator, X, reset=True)
    features["n_features_in_"] = X.shape[1]
    if len(getattr(y, "shape", ())) == 2 and y.shape[1] >= 2:
        raise ValueError(
            f"y of shape {y.shape} (soft targets, one column per class) is not available "
            "for a fit on dask input; pass labels, or fit in memory."
        )
    y = row_vector(y, X)
    if sample_weight is not None:
        sample_weight = row_vector(sample_weight, X)
    # Persisted once: every later pass (checks, counts, each evaluation of
    # the solver) reads the chunks where they are.
    X, y, sample_weight = dask.persist(X, y, sample_weight)
    classes, worst_weights = check_and_collect_labels(estimator, X, y, sample_weight)
    y_index = y.map_blocks(_block_encode, classes, dtype=np.intp)
    # As in memory: the weights divided by the largest one, then the class
    # weights, then the product divided by its largest value; the two
    # scales come back as factors of the total, so no sum overflows.
    scale = _largest_weight(worst_weights)
    sums, largest = class_weight_sums(y_index, sample_weight, classes.shape[0], scale)
    per_class, relative = effective_class_weights(estimator, classes, sums, largest)
    relative_total = float(np.sum(per_class * sums))
    if not relative_total > 0:
        raise ValueError("The sample weights times the class weights are all zero: "
                         "nothing to fit.")
    total = scale * relative * relative_total  # inf near the largest float: no penalty
    loss = LinearSoftmaxLoss(classes.shape[0], estimator.fit_intercept)
    dtype = X.dtype
    weights = da.map_blocks(_block_weights, y_index, sample_weight, per_class, scale,
                            relative_total, dtype, dtype=dtype)
    Y = y_index.map_blocks(loss.one_hot, dtype, new_axis=1, dtype=dtype,
                           chunks=(y_index.chunks[0], (loss.n_logits,)))
    if offset is not None:
        offset = offset_matrix(offset, X, classes.shape[0])
    Y, weights, offset = dask.persist(Y, weights, offset)
    problem = ChunkedSoftmaxProblem(
        X=X, Y=Y, sample_weight=weights, loss=loss, offset=offset,
        penalty=penalty_from_params(estimator.C, estimator.l1_ratio, scale, relative,
                                    relative_total, factor=checked_penalty_factor(
                                        getattr(estimator, "penalty_factor", None), X.shape[1])),
    )
    _check_weighted_classes(problem, classes)
    return Prepared(problem=problem, classes=classes, total=total, features=features,
                    total_factors=(scale, relative, relative_total))
