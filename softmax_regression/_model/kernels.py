"""scikit-learn's compiled softmax cross-entropy, for NumPy blocks of logits.

scikit-learn's ``CyHalfMultinomialLoss`` (and ``CyHalfBinomialLoss`` for
the binary model) computes, row by row in one compiled loop, the row maximum,
the log-sum-exp, the per-sample loss and the weighted residual
``s_i (p_ik - y_ik)``: what the array-API path does in about ten numpy
passes over the logits. It is what LogisticRegression runs; it reaches us
through ``_compat`` only. The loss uses it for scipy sparse X (where it
measures best); where it is missing the array-API path does the same work.
"""

import numpy as np

from .._utils.compat import CompiledBinomialLoss, CompiledMultinomialLoss


# The kernels keep no state: one instance of each serves every loss and thread.
_KERNELS = {
    True: None if CompiledBinomialLoss is None else CompiledBinomialLoss(),
    False: None if CompiledMultinomialLoss is None else CompiledMultinomialLoss(),
}


def compiled_kernel(binary):
    """The compiled loss for one free logit (``binary``) or a full softmax, or None."""
    return _KERNELS[bool(binary)]


def _arguments(kernel, Z, y_index, sample_weight):
    dtype = Z.dtype
    y_true = np.ascontiguousarray(y_index, dtype=dtype)
    sample_weight = np.ascontiguousarray(sample_weight, dtype=dtype)
    # The binomial kernel takes a vector of logits: the (n, 1) column's view
    # (contiguous, so the kernel writes through it into Z).
    raw = Z[:, 0] if CompiledBinomialLoss is not None and isinstance(
        kernel, CompiledBinomialLoss) else Z
    return raw, y_true, sample_weight


def residual_in_place(kernel, Z, y_index, sample_weight):
    """Weighted loss sum and, in ``Z``'s buffer, the residual ``s (P - Y)``.

    ``Z`` holds the logits of a block (C-contiguous NumPy, float32 or
    float64) and is overwritten by the gradient of the loss with respect to
    them; ``y_index`` are the class indices of the rows. The compiled loop
    reads a row's logits before it writes that row's residual, so the one
    buffer serves as both. The per-sample losses are summed in float64.
    """
    raw, y_true, sample_weight = _arguments(kernel, Z, y_index, sample_weight)
    per_sample = np.empty(Z.shape[0], dtype=Z.dtype)
    kernel.loss_gradient(y_true, raw, sample_weight, per_sample, raw, 1)
    return float(np.sum(per_sample, dtype=np.float64))


def loss_sum(kernel, Z, y_index, sample_weight):
    """Weighted loss sum of a block of logits ``Z`` (left unchanged)."""
    raw, y_true, sample_weight = _arguments(kernel, Z, y_index, sample_weight)
    per_sample = np.empty(Z.shape[0], dtype=Z.dtype)
    kernel.loss(y_true, raw, sample_weight, per_sample, 1)
    return float(np.sum(per_sample, dtype=np.float64))
