"""Every private scikit-learn helper the package uses, with fallbacks per version.

Supported: scikit-learn 1.7, 1.8 and 1.9. Names that a release lacks get a
local equivalent here, so that no other module imports from a private
scikit-learn module (``grep -rn "sklearn\\.[a-z_.]*\\._" softmax_regression``
finds only this file).
"""

import scipy.sparse as sp
from sklearn import get_config
from sklearn.base import _fit_context  # noqa: F401  (re-exported)
from sklearn.linear_model._base import (  # noqa: F401  (re-exported)
    LinearClassifierMixin,
    SparseCoefMixin,
)
from sklearn.utils._array_api import (  # noqa: F401  (re-exported)
    _convert_to_numpy,
    _is_numpy_namespace,
    device,
    get_namespace,
    get_namespace_and_device,
)
from sklearn.utils._param_validation import (  # noqa: F401  (re-exported)
    Interval,
    InvalidParameterError,
    StrOptions,
)
from sklearn.utils.validation import (  # noqa: F401  (re-exported)
    _check_sample_weight,
    _get_feature_names,
)

__all__ = [
    "Interval", "InvalidParameterError", "LinearClassifierMixin", "SparseCoefMixin", "StrOptions",
    "_check_sample_weight", "_convert_to_numpy", "_get_feature_names", "_fit_context", "check_same_namespace",
    "device", "get_namespace", "get_namespace_and_device", "move_to",
    "CallbackSupportMixin", "HAS_CALLBACKS",
]


try:  # scikit-learn >= 1.9: the public callback API (``set_callbacks``)
    from sklearn.callback import CallbackSupportMixin

    HAS_CALLBACKS = True
except ImportError:  # scikit-learn 1.7, 1.8

    class CallbackSupportMixin:
        """Nothing: without ``sklearn.callback`` there is no ``set_callbacks``."""

    HAS_CALLBACKS = False


try:  # scikit-learn >= 1.9
    from sklearn.utils._array_api import move_to
except ImportError:  # scikit-learn 1.7, 1.8

    def move_to(array, *, xp, device):
        """``array`` in namespace ``xp`` on ``device`` (None and sparse pass through)."""
        if array is None or sp.issparse(array):
            return array
        source, _ = get_namespace(array)
        if source is xp or _is_numpy_namespace(xp) and _is_numpy_namespace(source):
            return array if _is_numpy_namespace(xp) else xp.asarray(array, device=device)
        # Across namespaces, go through the host: the only route every
        # namespace supports on these releases.
        return xp.asarray(_convert_to_numpy(array, source), device=device)


try:  # scikit-learn >= 1.9
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # scikit-learn 1.7, 1.8

    def check_same_namespace(X, estimator, *, attribute, method):
        """Raise if ``X`` is not in the namespace and device of the fitted ``attribute``."""
        if not get_config()["array_api_dispatch"]:
            return
        a_xp, _, a_device = get_namespace_and_device(getattr(estimator, attribute))
        X_xp, _, X_device = get_namespace_and_device(X)
        same = X_xp == a_xp and X_device == a_device
        if same or _is_numpy_namespace(a_xp) and _is_numpy_namespace(X_xp):
            return
        raise ValueError(
            f"Inputs passed to {type(estimator).__name__}.{method}() must use the same "
            "namespace and the same device as those passed to fit(): fitted with "
            f"{a_xp.__name__} on {a_device}, got {X_xp.__name__} on {X_device}."
        )


