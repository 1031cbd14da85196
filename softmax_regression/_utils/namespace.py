"""A fast lookup of an array's namespace for the inner loops.

scikit-learn's ``get_namespace`` inspects its configuration and library
versions on every call (tens of microseconds), which adds up over the dozen
calls of each loss evaluation. Inside a fit the answer depends only on the
array's type and on whether array-API dispatch is on, so it is memoized on
those.
"""

import numpy as np
from sklearn import get_config
from .compat import get_namespace

_cache = {}


def namespace(array):
    """The array-API namespace of ``array`` (as ``get_namespace(array)[0]``)."""
    key = (type(array), get_config()["array_api_dispatch"])
    xp = _cache.get(key)
    if xp is None:
        xp = _cache[key] = get_namespace(array)[0]
    return xp


def clip(array, low, high):
    """``array`` clipped to ``[low, high]`` in its namespace.

    NumPy arrays take numpy's own function: the namespace's wrapped one costs
    more than the clipping itself on the held-out rows of a CV path.
    """
    if isinstance(array, np.ndarray):
        return np.clip(array, low, high)
    return namespace(array).clip(array, min=low, max=high)
