import os

# scikit-learn's array-API support needs scipy's, which is switched on by this
# variable before scipy is first imported.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np
import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="session", autouse=True)
def _single_threaded_blas():
    # numpy and scipy each ship an OpenBLAS; on a small shared machine their
    # two pools stall each other. One thread each keeps the suite fast and
    # its timings irrelevant.
    with threadpool_limits(limits=1, user_api="blas"):
        yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)
