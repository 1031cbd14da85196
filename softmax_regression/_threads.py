"""Keep scipy's own BLAS pool from competing with numpy's.

NumPy and SciPy wheels each ship an OpenBLAS with its own thread pool. The
optimizers in ``scipy.optimize`` call BLAS on vectors the size of the
coefficients, between numpy's large matrix products; with both pools busy
waiting on few cores, each can stall the other by orders of magnitude. Only
scipy's pool is limited, so numpy's products keep all their threads.
"""

import os
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_controllers = None


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
    """Run the body with scipy's private BLAS (if it has one) on one thread."""
    libs = _scipy_only_blas()
    previous = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, previous):
            lib.set_num_threads(n)
