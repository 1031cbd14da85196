"""Small conversions between an input's array namespace and the host."""

import numpy as np
import scipy.sparse as sp

from .compat import _convert_to_numpy, get_namespace

# What every entry point accepts as X: sparse stays sparse, float32 stays float32.
ACCEPTED_SPARSE = ["csr", "csc"]


def float_dtypes(X):
    """The floating dtypes kept as they are, in X's array namespace."""
    xp, _ = get_namespace(X)
    return [xp.float64, xp.float32]


def host_dtype(dtype):
    """The NumPy float dtype of the same precision as ``dtype`` (any namespace's)."""
    return np.float32 if "float32" in str(dtype) else np.float64


def host_numpy(array):
    """``array`` as a NumPy array on the host (labels, K class totals, ...)."""
    return _convert_to_numpy(array, get_namespace(array)[0])


def same_labels(a, b):
    """Whether two label arrays (any namespace) hold the same labels in order."""
    a, b = host_numpy(a), host_numpy(b)
    return a.shape == b.shape and bool(np.all(a == b))


def is_dask_collection(obj):
    """Whether ``obj`` is a dask array or data frame (without importing dask)."""
    return type(obj).__module__.partition(".")[0] == "dask" or (
        type(obj).__module__.startswith("dask_expr")
    )


def take_rows(A, rows, xp, device=None):
    """Rows ``rows`` of a dense, sparse or array-API ``A``, along axis 0.

    ``rows`` is an integer index array on the host or already in A's
    namespace; sparse and NumPy ``A`` are indexed on the host, other
    namespaces on ``device``. A column-major NumPy ``A`` gives column-major
    rows: the K-major passes read the targets' transpose, and a strided
    one cost them a fifth of a pass (digits' folds: 20 of 110 us).
    """
    if sp.issparse(A) or isinstance(A, np.ndarray):
        rows = _convert_to_numpy(rows, xp) if not isinstance(rows, np.ndarray) else rows
        if isinstance(A, np.ndarray) and A.ndim == 2 and not A.flags.c_contiguous \
                and A.flags.f_contiguous:
            return np.take(A.T, rows, axis=1).T
        return A[rows]
    if isinstance(rows, np.ndarray):
        rows = xp.asarray(rows, device=device)
    return xp.take(A, rows, axis=0)


def transposed_rows(X, rows, block=4096):
    """``X[rows].T`` of a dense NumPy ``X`` as a C-contiguous array.

    Gathered a block of rows at a time, so that no temporary of the whole
    selection's size exists beside the result.
    """
    out = np.empty((X.shape[1], len(rows)), dtype=X.dtype)
    for start in range(0, len(rows), block):
        out[:, start:start + block] = X[rows[start:start + block]].T
    return out


def transpose_into(out, A, block=512):
    """Write ``A.T`` into ``out`` (NumPy, ``A.T``'s shape), ``block`` rows or columns at a time.

    A long ``A`` of few columns (or rows) transposed in one assignment
    writes ``out`` with a stride of a whole row per element; blocks along
    the long axis keep both sides in cache (measured 50,000 x 20 float32:
    0.54 ms against 2.5 ms).
    """
    rows, columns = A.shape
    for start in range(0, max(rows, columns), block):
        if rows >= columns:
            stop = min(start + block, rows)
            out[:, start:stop] = A[start:stop].T
        else:
            stop = min(start + block, columns)
            out[start:stop] = A[:, start:stop].T
    return out


def with_values(X, values):
    """CSR/CSC ``X``'s structure with other ``values``, sharing X's index arrays.

    A sparse array, whatever X's class: a sparse matrix would copy int64
    indices that fit in int32.
    """
    array = sp.csr_array if X.format == "csr" else sp.csc_array
    return array((values, X.indices, X.indptr), shape=X.shape)
