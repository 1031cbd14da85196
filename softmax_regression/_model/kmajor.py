"""The softmax residual of NumPy logits laid out classes x rows (K-major).

With one contiguous row per free class, the maximum, sum and normalizer
over classes are K - 1 vectorized operations along rows instead of
reductions along rows of K numbers (see ``LinearSoftmaxLoss._kmajor_block``).
"""

import numpy as np

# Rows of logits laid out rows x K (scipy's sparse products write them so)
# that are transposed and reduced at a time: 4,096 x 20 float32 logits
# (320 kB) stay in a core's cache.
ROWS = 4096


def residual(Zt, Yt, sample_weight, zero_logit, with_gradient=True, proba_out=None):
    """Weighted loss sum of K x rows logits ``Zt``, overwritten by ``s (P - Y)^T``.

    ``zero_logit``: a logit fixed at 0 joins the softmax (the binary model). With
    ``with_gradient=False`` only the value is computed (``Zt`` then holds
    nothing useful); ``proba_out`` (rows x K) receives the probabilities.
    """
    # Array methods rather than numpy's functions: on small tables the
    # calls, not the arithmetic, are the cost of a pass.
    true_logit = np.einsum("km,km->m", Zt, Yt)
    m = Zt.max(axis=0)
    if zero_logit:
        np.maximum(m, 0.0, out=m)  # the pinned logit 0 is in the maximum
    Zt -= m
    np.exp(Zt, out=Zt)
    s = Zt.sum(axis=0)
    if zero_logit:
        s += np.exp(-m)
    # CE_i = m_i + log s_i - z_i[y_i], weighted, then summed in float64
    # by numpy's pairwise summation (a dot product's running sum lost
    # enough digits to move Newton-CG's stop at the limit of precision).
    per_sample = np.log(s)
    per_sample += m
    per_sample -= true_logit
    per_sample *= sample_weight
    value = float(per_sample.sum(dtype=np.float64))
    if not with_gradient:
        return value
    Zt /= s
    if proba_out is not None:
        proba_out[...] = Zt.T
    Zt -= Yt
    Zt *= sample_weight
    return value


def rows_residual(Z, Yt, sample_weight, zero_logit, with_gradient=True, proba_out=None):
    """:func:`residual` of rows x K logits ``Z``, :data:`ROWS` rows at a time.

    Each block is transposed in cache and, with ``with_gradient``, its
    residual written back over its logits, so ``Z`` ends as the rows x K
    residual (transposing the whole array cost about as much as the
    residual itself).
    """
    n, k = Z.shape
    buffer = np.empty((k, min(n, ROWS)), dtype=Z.dtype)
    value = 0.0
    for start in range(0, n, ROWS):
        stop = min(start + ROWS, n)
        Zt = buffer[:, : stop - start]
        Zt[...] = Z[start:stop].T
        value += residual(Zt, Yt[:, start:stop], sample_weight[start:stop], zero_logit,
                          with_gradient, None if proba_out is None else proba_out[start:stop])
        if with_gradient:
            Z[start:stop] = Zt.T
    return value
