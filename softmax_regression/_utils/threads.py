"""The BLAS thread pools, and how many threads a pass over the data may use.

NumPy and SciPy wheels each ship an OpenBLAS with its own thread pool. The
optimizers in ``scipy.optimize`` call BLAS on vectors the size of the
coefficients, between numpy's large matrix products; with both pools busy
waiting on few cores, each can stall the other by orders of magnitude. So
scipy's pool is kept to one thread inside the scipy solvers.

A pass over the data runs its row blocks on as many threads as numpy's BLAS
limit allows (``pass_threads``); while it does, numpy's BLAS is on one thread
(``numpy_blas_single_threaded``), so that the blocks' small products do not
oversubscribe the cores. The full-batch solvers hold both pools at one
thread for their whole run (``solver_threads``), with the passes' thread
budget read when they start.
"""

import os
import threading
from contextlib import contextmanager, nullcontext

from threadpoolctl import ThreadpoolController


class _OneThread:
    """A context that holds some BLAS pools at one thread, counted across threads.

    Safe to enter from several threads at once and nested: the first to
    enter saves the setting and limits the pools, the last to leave restores
    it. (OpenBLAS applies a limit set from any thread process-wide, or ignores
    it, depending on the version; either way the body runs correctly.)

    Parameters
    ----------
    select : callable
        ``select(folder) -> bool`` on the folder of each BLAS library that
        threadpoolctl finds: the pools to hold. They are looked up once, on
        first use.
    """

    def __init__(self, select):
        self._select = select
        self._libraries = None
        self._lock = threading.Lock()
        self._users = 0
        self._saved = []

    def libraries(self):
        if self._libraries is None:
            self._libraries = [
                lib for lib in ThreadpoolController().lib_controllers
                if lib.user_api == "blas" and self._select(os.path.dirname(lib.filepath))
            ]
        return self._libraries

    @contextmanager
    def held(self):
        with self._lock:
            if self._users == 0:
                libs = self.libraries()
                self._saved = [(lib, lib.num_threads) for lib in libs]
                for lib in libs:
                    lib.set_num_threads(1)
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    for lib, n in self._saved:
                        lib.set_num_threads(n)


_scipy_pool = _OneThread(lambda folder: "scipy" in folder and "numpy" not in folder)
_numpy_pool = _OneThread(lambda folder: "numpy" in folder)


def scipy_blas_single_threaded():
    """Run the body with scipy's private BLAS (if it has one) on one thread."""
    return _scipy_pool.held()


# -- numpy's own BLAS, for passes that run blocks on several threads ---------
def _numpy_blas():
    return _numpy_pool.libraries()


def usable_cores():
    """Cores this process may run on (its CPU affinity where the OS tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_solving = threading.local()


def pass_threads():
    """Threads one pass over the data may use: numpy's BLAS limit, at most the cores.

    A limit the caller set on numpy's BLAS (``threadpoolctl.threadpool_limits``,
    ``OPENBLAS_NUM_THREADS``) is the caller's say on how many cores a fit uses,
    so the block scheduler follows it. Inside :func:`solver_threads` it is the
    limit read when the solver started; elsewhere it is read on every pass (a
    C call). Outside the main thread it is 1.
    """
    budget = getattr(_solving, "threads", None)
    if budget is not None:
        return budget
    if threading.current_thread() is not threading.main_thread():
        # Already one of several threads (dask's threaded scheduler, joblib,
        # a user's pool): no pool of our own inside, and no change of numpy's
        # BLAS setting while other threads may be inside a BLAS call.
        return 1
    libs = _numpy_blas()
    limit = min((lib.num_threads for lib in libs), default=usable_cores())
    return max(1, min(limit, usable_cores()))


def numpy_blas_single_threaded():
    """Run the body with numpy's BLAS on one thread (blocks run on our threads).

    Each block's two products are small; on a BLAS pool of its own every one
    would oversubscribe the cores that the other blocks already use. Nested
    and concurrent entries are counted as in :class:`_OneThread`.
    """
    return _numpy_pool.held()


@contextmanager
def solver_threads():
    """Run a solver with both BLAS pools on one thread, its passes on :func:`pass_threads`.

    The thread budget of the passes is read once, on entry; then (on the main
    thread) numpy's BLAS goes to one thread for the whole solve, not only for passes over several
    blocks: a pass over a single block (small data) would otherwise run its
    small products on a BLAS pool that, on a busy machine, stalls for
    milliseconds at a time (measured on digits with a second process on one of
    two cores: 0.17 ms median, 49 ms worst pass, against 0.6 ms worst on one
    thread).
    """
    threads = pass_threads()
    previous = getattr(_solving, "threads", None)
    _solving.threads = threads
    # Off the main thread other threads may be inside numpy's BLAS (dask,
    # joblib, a user's pool): its setting is theirs too, and stays as it is.
    main = threading.current_thread() is threading.main_thread()
    try:
        with numpy_blas_single_threaded() if main else nullcontext(), \
                scipy_blas_single_threaded():
            yield
    finally:
        _solving.threads = previous
