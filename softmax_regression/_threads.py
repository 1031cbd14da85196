"""Keep scipy's own BLAS pool from competing with numpy's.

NumPy and SciPy wheels each ship an OpenBLAS with its own thread pool. The
optimizers in ``scipy.optimize`` call BLAS on vectors the size of the
coefficients, between numpy's large matrix products; with both pools busy
waiting on few cores, each can stall the other by orders of magnitude. Only
scipy's pool is limited, so numpy's products keep all their threads.
"""

import os
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_controllers = None
_lock = threading.Lock()
_users = 0
_saved = []


def _scipy_only_blas():
    global _controllers
    if _controllers is None:
        _controllers = [
            lib
            for lib in ThreadpoolController().lib_controllers
            if lib.user_api == "blas"
            and "scipy" in os.path.dirname(lib.filepath)
            and "numpy" not in os.path.dirname(lib.filepath)
        ]
    return _controllers


@contextmanager
def scipy_blas_single_threaded():
    """Run the body with scipy's private BLAS (if it has one) on one thread.

    Safe to enter from several threads at once: the first to enter saves the
    setting and limits the pool, the last to leave restores it. (OpenBLAS
    applies a limit set from any thread process-wide, or ignores it,
    depending on the version; either way the body runs correctly.)
    """
    global _users, _saved
    with _lock:
        if _users == 0:
            libs = _scipy_only_blas()
            _saved = [(lib, lib.num_threads) for lib in libs]
            for lib in libs:
                lib.set_num_threads(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0:
                for lib, n in _saved:
                    lib.set_num_threads(n)
