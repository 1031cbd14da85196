"""Schedulers of one pass over the data: a sum over row blocks.

A pass (value, gradient, Hessian product) is a sum over rows, so it is a sum
over row blocks of the same evaluation. The loss writes that evaluation once
(``evaluate(start, stop)``); this module only decides the blocks and where
they run:

- **cache-sized blocks on one thread**: the block's logits (at most
  ``BLOCK_BYTES``) stay in cache while the softmax, the loss and the residual
  run over them, one pass over memory instead of one per elementwise step, and
  the temporary memory of a pass is a few blocks, not ``n x K``;
- **blocks over a thread pool** when numpy's BLAS limit allows more than one
  thread: numpy releases the GIL, and each block's
  products run on one BLAS thread (:func:`~._threads.numpy_blas_single_threaded`);
- **one block** for array namespaces other than NumPy (a GPU wants one large
  kernel, not many small ones), for sparse X, and for small data;
- dask chunks on workers are the third scheduler (``_dask_problem.py``), over
  the same loss methods.

Partial results are summed in float64 as they come (temporary memory: one
block per thread), in an order that depends only on the number of threads.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._utils.threads import numpy_blas_single_threaded, pass_threads

# Rows of one block: at most MAX_BLOCK_ROWS, with logits of at most
# BLOCK_BYTES and rows of X of at most X_BLOCK_BYTES (the second product
# re-reads the block of X: from cache, if it is small enough). Measured (one
# thread, value + gradient over the two-product floor, K-major blocks):
# medium 1.11x (float64) and 1.19x (float32) at 8,192 rows, 1.22x-1.33x at
# 1,024; tall 1.24x / 1.43x at 8,192, 1.30x / 1.46x at 16,384; wide float32
# 0.79x at 1,024 rows (4 MB of X) against 0.97x at 8,192 (32 MB of X).
BLOCK_BYTES = 1024 * 1024
X_BLOCK_BYTES = 4 * 1024 * 1024
MAX_BLOCK_ROWS = 8192
MIN_BLOCK_ROWS = 512

_pool = None
_pool_size = 0
_pool_lock = threading.Lock()


def _reset_pool_after_fork():
    global _pool, _pool_size
    _pool, _pool_size = None, 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_pool_after_fork)


def _thread_pool(size):
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < size:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(size, thread_name_prefix="softmax_regression")
            _pool_size = size
        return _pool


def block_rows(n_logits, itemsize, n_features=0):
    """Rows per block: ``MAX_BLOCK_ROWS``, fewer where the block's logits would
    pass ``BLOCK_BYTES`` or its rows of X ``X_BLOCK_BYTES``."""
    rows = min(
        MAX_BLOCK_ROWS,
        BLOCK_BYTES // max(1, n_logits * itemsize),
        X_BLOCK_BYTES // max(1, n_features * itemsize),
    )
    return max(MIN_BLOCK_ROWS, rows)


def plan(X, n_logits):
    """``(blocks, threads)`` for one pass over ``X``.

    ``blocks`` is a list of ``(start, stop)`` row ranges covering ``X``:
    one block for at most ``MIN_BLOCK_ROWS`` rows.
    """
    n = X.shape[0]
    if n <= MIN_BLOCK_ROWS or not isinstance(X, np.ndarray):
        # Sparse X: slicing a CSR block copies its indices, and the products
        # of small sparse blocks lose their efficiency (measured on the
        # 100,000 x 50,000 benchmark: 1.26x the floor in one block, 1.6x in
        # blocks of 32,768 rows, 4.9x in cache-sized ones).
        return [(0, n)], 1
    rows = block_rows(n_logits, X.dtype.itemsize, X.shape[1])
    blocks = [(start, min(start + rows, n)) for start in range(0, n, rows)] or [(0, n)]
    threads = min(len(blocks), pass_threads()) if len(blocks) > 1 else 1
    return blocks, threads


class _Sum:
    """Running float64 sum of block results ``(value, array or None)``."""

    def __init__(self):
        self.value = 0.0
        self.array = None

    def add(self, value, array):
        self.value += value
        if array is not None:
            if self.array is None:
                self.array = np.zeros(array.shape, dtype=np.float64)
            self.array += array
        return self


def sum_over_blocks(evaluate, blocks, threads):
    """Sum of ``evaluate(start, stop) -> (value, array or None)`` over ``blocks``.

    Returns ``(value, array)`` with ``array`` in float64 (None when every
    block returned None). Partial sums are added as they come, so a pass holds
    one block's temporaries per thread, whatever ``n``. On several threads the
    blocks are dealt in turn into ``threads`` runs, one task each (so exactly
    ``threads`` threads work whatever the pool's size), each summing its own
    blocks; the runs' sums are added in run order, so the result does not
    depend on timing.
    """
    if threads <= 1:
        total = _Sum()
        for start, stop in blocks:
            total.add(*evaluate(start, stop))
        return total.value, total.array
    # numpy's floating-point error state is per thread: the workers take the
    # caller's (a solver's overflow_is_an_error must see their overflows).
    errors = np.geterr()

    def run(part):
        total = _Sum()
        with np.errstate(**errors):
            for start, stop in part:
                total.add(*evaluate(start, stop))
        return total

    with numpy_blas_single_threaded():
        runs = list(_thread_pool(threads).map(run, [blocks[i::threads] for i in range(threads)]))
    total = _Sum()
    for part in runs:
        total.add(part.value, part.array)
    return total.value, total.array


class RowSlices:
    """Row slices ``(X, Y, sample_weight, offset)[start:stop]`` of one pass's arrays.

    The whole range hands back the arrays themselves (no copy of a sparse X);
    a missing offset stays None. With ``XT``, a C-contiguous copy of ``X.T``,
    :meth:`transposed` gives the block's columns of it.
    """

    def __init__(self, X, Y, sample_weight, offset=None, XT=None):
        self.arrays = (X, Y, sample_weight, offset)
        self.n = X.shape[0]
        self.XT = XT

    def __call__(self, start, stop):
        if start == 0 and stop == self.n:
            return self.arrays
        return tuple(None if a is None else a[start:stop] for a in self.arrays)

    def transposed(self, start, stop):
        """Columns ``start:stop`` of the copy of ``X.T``, or None without one."""
        if self.XT is None or (start == 0 and stop == self.n):
            return self.XT
        return self.XT[:, start:stop]
