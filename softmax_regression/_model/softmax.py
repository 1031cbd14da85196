"""Stable softmax and log-softmax in any array namespace, and the binary model's reference column."""

from .._utils.namespace import namespace


def _as_float_array(z, xp):
    z = xp.asarray(z)
    if not xp.isdtype(z.dtype, "real floating"):
        z = xp.astype(z, xp.float64)
    return z


def softmax(z, axis=-1):
    """Softmax of ``z`` along ``axis``, stable for any finite input.

    ``softmax(z)_k = exp(z_k) / sum_j exp(z_j)``, computed after shifting by the
    maximum along ``axis`` so that no exponential overflows.

    Parameters
    ----------
    z : array-like
        Logits. Integer input is converted to float64; float32 stays float32.
    axis : int, default=-1
        Axis along which the probabilities sum to one.

    Returns
    -------
    p : ndarray
        Same shape as ``z``; entries in [0, 1] that sum to 1 along ``axis``.

    Examples
    --------
    >>> from softmax_regression import softmax
    >>> softmax([1000.0, 1000.0]).tolist()
    [0.5, 0.5]
    """
    xp = namespace(z)
    z = _as_float_array(z, xp)
    e = xp.exp(z - xp.max(z, axis=axis, keepdims=True))
    e /= xp.sum(e, axis=axis, keepdims=True)
    return e


def log_softmax(z, axis=-1):
    """Logarithm of :func:`softmax`, computed without forming the softmax.

    ``log_softmax(z)_k = z_k - logsumexp(z)``, so a logit gap of 1e4 gives
    ``-1e4`` and not ``-inf``.

    Parameters
    ----------
    z : array-like
        Logits. Integer input is converted to float64; float32 stays float32.
    axis : int, default=-1
        Axis along which to normalize.

    Returns
    -------
    log_p : ndarray
        Same shape as ``z``, all entries <= 0.

    Examples
    --------
    >>> from softmax_regression import log_softmax
    >>> log_softmax([0.0, 1e4]).tolist()
    [-10000.0, 0.0]
    """
    xp = namespace(z)
    z = _as_float_array(z, xp)
    shifted = z - xp.max(z, axis=axis, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def all_class_scores(scores):
    """Decision scores with one column per class.

    A binary model's ``decision_function`` is 1-D (the logit of the second
    class); the first class is the reference with logit 0.
    """
    if scores.ndim != 1:
        return scores
    xp = namespace(scores)
    return xp.stack([xp.zeros_like(scores), scores], axis=1)
