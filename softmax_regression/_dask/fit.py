"""``fit`` and the predict methods on dask arrays and DataFrames.

Imported only when an estimator method receives a dask collection, so the
package itself never imports dask.

- ``fit``: the input is validated and persisted on the workers
  (:mod:`._dask_input`); ``lbfgs`` and ``newton-cg`` run unchanged in the
  client on a :class:`~._dask_problem.ChunkedSoftmaxProblem`, whose every
  value-and-gradient (and Hessian product) is one map-reduce over the chunks;
  ``sgd`` walks the chunks on their workers (:mod:`._dask_sgd`). The result is
  stored exactly as an in-memory fit stores it.
- ``decision_function``, ``predict_proba``, ``predict_log_proba``,
  ``predict``: lazy dask arrays, each chunk computed by the in-memory method
  on the worker that holds it. ``score``: a float, from two dask sums.

Everything runs on the active ``distributed.Client``, else on dask's local
threaded scheduler (whatever ``dask.compute`` uses).
"""

import copy

import dask
import dask.array as da
import numpy as np

from .input import feature_matrix, prepare_dask, row_vector
from .sgd import solve_sgd_chunked
from .._fitting.prepare import starting_point
from .._fitting.targets import check_offset_shape
from .._fitting.prior_model import solve
from .._solvers import SOLVERS
from .._fitting.store import store_result, warn_if_not_converged


def _check_supported(estimator):
    spec = SOLVERS[estimator.solver]
    if spec.stateful and estimator.early_stopping:
        raise ValueError(
            f"early_stopping=True is not supported with solver={estimator.solver!r} on dask "
            "input: scoring the held-out rows after every epoch is not implemented for "
            "chunked data. Use early_stopping=False, or an in-memory X."
        )


def fit_dask(estimator, X, y, sample_weight=None, offset=None):
    """Fit ``estimator`` on dask collections without gathering them.

    The caller (``SoftmaxClassifier.fit``) restores the estimator if this
    raises.

    Parameters
    ----------
    estimator : SoftmaxClassifier
    X : dask array or dask DataFrame of shape (n_samples, n_features)
        Dense or scipy-sparse chunks, chunked along rows.
    y : dask array or Series of shape (n_samples,)
    sample_weight : dask array or Series of shape (n_samples,), default=None
    offset : dask array of shape (n_samples, n_classes) or (n_samples,), default=None
        Rechunked to X's row chunks if they differ.

    Returns
    -------
    estimator : SoftmaxClassifier
        Fitted, with the attributes an in-memory fit sets.
    """
    _check_supported(estimator)
    prepared = prepare_dask(estimator, X, y, sample_weight, offset)
    problem = prepared.problem
    spec = SOLVERS[estimator.solver]
    coef0, options = starting_point(estimator, prepared, spec)
    # The in-memory epoch slices rows of X; here each chunk's epoch runs where
    # the chunk is.
    function = solve_sgd_chunked if spec.stateful else spec.function
    result = solve(function, problem, coef0, tol=estimator.tol, max_iter=estimator.max_iter,
                      verbose=estimator.verbose, **options)
    warn_if_not_converged(estimator, spec, problem, result)
    store_result(estimator, spec, prepared, result)
    return estimator


# -- prediction ------------------------------------------------------------------
def _block_method(X, estimator, name, offset=None):
    """``estimator.name`` on one chunk: the in-memory method, bit for bit."""
    if offset is None:
        return getattr(estimator, name)(X)
    return getattr(estimator, name)(X, offset=offset[:, 0] if offset.shape[1] == 1 else offset)


def _chunk_model(estimator):
    """A copy of the fitted estimator for the chunks' tasks.

    Without ``feature_names_in_``: the chunks are bare arrays, and the names
    were checked once, on the whole collection.
    """
    model = copy.copy(estimator)
    model.__dict__.pop("feature_names_in_", None)
    return model


def _output_shape(estimator, name):
    """``(extra axes, dtype)`` of method ``name``'s output per row."""
    n_classes = len(estimator.classes_)
    if name == "predict":
        return (), np.asarray(estimator.classes_).dtype
    if name == "decision_function" and estimator.coef_.shape[0] == 1:
        return (), estimator.coef_.dtype
    return (n_classes,), estimator.coef_.dtype


def predict_lazily(estimator, name, X, offset=None):
    """The lazy dask array of ``estimator.name(X)``, one task per row chunk."""
    X = feature_matrix(estimator, X, reset=False)
    extra, dtype = _output_shape(estimator, name)
    meta = np.empty((0,) * (1 + len(extra)), dtype=dtype)
    model = dask.delayed(_chunk_model(estimator), pure=True)
    arrays = (X,)
    if offset is not None:
        # The offset's chunks go with X's, as a 2-D array (a 1-D one would be
        # aligned with X's columns); each chunk's method checks its values.
        offset = da.asarray(offset) if dask.is_dask_collection(offset) else da.from_array(
            np.asarray(offset), chunks=(X.chunks[0],) + tuple(
                (s,) for s in np.shape(offset)[1:]))
        check_offset_shape(offset.shape, X.shape[0], len(estimator.classes_))
        offset = (offset[:, None] if offset.ndim == 1 else offset).rechunk(
            {0: X.chunks[0], 1: -1})
        arrays = (X, offset)
    if extra:
        return da.map_blocks(_block_method, *arrays[:1], model, name, *arrays[1:],
                             chunks=(X.chunks[0], extra), dtype=dtype, meta=meta)
    return da.map_blocks(_block_method, *arrays[:1], model, name, *arrays[1:], drop_axis=1,
                         chunks=(X.chunks[0],), dtype=dtype, meta=meta)


def _accuracy(y_pred, y, sample_weight):
    """Weighted accuracy from two dask sums (``accuracy_score``'s ``np.average``)."""
    correct = (y_pred == y).astype(np.float64)
    if sample_weight is None:
        return float(correct.mean().compute())
    sample_weight = sample_weight.astype(np.float64)
    hits, total = dask.compute((correct * sample_weight).sum(), sample_weight.sum())
    return float(hits / total)


def dask_method(estimator, name, X, *args, offset=None):
    """Prediction method ``name`` of a fitted estimator on dask input.

    Parameters
    ----------
    estimator : SoftmaxClassifier
        Fitted.
    name : {"decision_function", "predict_proba", "predict_log_proba", "predict", "score"}
    X : dask array or dask DataFrame
    *args
        ``y, sample_weight`` for ``score`` (dask or in-memory, rechunked like X).
    offset : dask or in-memory array, default=None
        Added to the logits, rechunked like X.

    Returns
    -------
    dask.array.Array or float
        A lazy array chunked like X's rows; ``score`` returns a float.
    """
    if name != "score":
        return predict_lazily(estimator, name, X, offset)
    y, sample_weight = args
    y_pred = predict_lazily(estimator, "predict", X, offset)
    y = row_vector(y, y_pred)
    if sample_weight is not None:
        sample_weight = row_vector(sample_weight, y_pred)
    return _accuracy(y_pred, y, sample_weight)

