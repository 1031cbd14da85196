"""The float64 reference objective: the referee of tests, benchmarks and ``compare``.

It is written from the definition with NumPy alone and shares no code with
the loss the solvers minimize (``_loss.py``), so that it can judge it.

For class indices ``y``, weights ``W`` (``coef``) and intercepts ``b``::

    F(W, b) = [ sum_i s_i CE_i + (1 - l1_ratio) / (2 C) ||W||_F^2
                + l1_ratio / C ||W||_1 ] / sum_i s_i

with ``CE_i = logsumexp(z_i) - z_i[y_i]``, ``z_i = W x_i + b`` and
``s_i = 1`` when ``sample_weight`` is None (so the divisor is ``n``).

Normalization: this is scikit-learn's objective (``C * sum CE + penalty``)
divided by ``C * n``, i.e. the mean cross-entropy plus the penalty over ``n``;
it is what ``SoftmaxClassifier.loss_curve_`` and scikit-learn's
``LinearModelLoss`` report, and it does not grow with the data size.

``coef`` has one row per class (``K >= 3``, or any ``K`` written in the full
parametrization) or a single row for a binary model, whose logits are then
``[0, z]`` (the first class is the reference), as in LogisticRegression.
Everything is computed in float64 with a shifted log-sum-exp, whatever the
dtype of the inputs.
"""

import numpy as np
import scipy.sparse as sp


def logits(X, coef, intercept=None):
    """``X coef^T + intercept`` in float64, shape ``(n_samples, K)``.

    A single row of ``coef`` with two classes is expanded to ``[0, z]``.
    """
    coef = coef.toarray() if sp.issparse(coef) else np.asarray(coef)
    coef = np.atleast_2d(coef).astype(np.float64)
    X = X.astype(np.float64) if X.dtype != np.float64 else X
    Z = np.asarray(X @ coef.T, dtype=np.float64)
    if intercept is not None:
        Z = Z + np.asarray(intercept, dtype=np.float64).reshape(1, -1)
    return Z


def cross_entropy(Z, y):
    """Per-sample ``logsumexp(z_i) - z_i[y_i]`` for full logits ``Z``."""
    m = Z.max(axis=1, keepdims=True)
    lse = (m + np.log(np.exp(Z - m).sum(axis=1, keepdims=True)))[:, 0]
    return lse - Z[np.arange(Z.shape[0]), y]


def objective(X, y, coef, intercept=None, *, C=1.0, l1_ratio=0.0, sample_weight=None):
    """The regularized cross-entropy divided by the total sample weight.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Class indices ``0..K-1``.
    coef : ndarray of shape (K, n_features) or (1, n_features)
        One row means the binary model (logits ``[0, z]``).
    intercept : ndarray of shape (K,) or (1,), or None
    C : float
        Inverse penalty strength; ``np.inf`` means no penalty.
    l1_ratio : float
        Elastic-net mixing in ``[0, 1]``.
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    float
        ``F(W, b)`` as in the module docstring.
    """
    y = np.asarray(y)
    Z = logits(X, coef, intercept)
    if Z.shape[1] == 1:
        Z = np.hstack([np.zeros_like(Z), Z])
    if y.max() >= Z.shape[1]:
        raise ValueError(f"{Z.shape[1]} logits for class index {y.max()}.")
    ce = cross_entropy(Z, y)
    s = np.ones_like(ce) if sample_weight is None else np.asarray(sample_weight, np.float64)
    total = float(np.sum(s * ce))
    if np.isfinite(C):
        W = coef.toarray() if sp.issparse(coef) else np.asarray(coef, dtype=np.float64)
        total += (1.0 - l1_ratio) / (2.0 * C) * float(np.sum(W * W))
        total += l1_ratio / C * float(np.sum(np.abs(W)))
    return total / float(np.sum(s))


def estimator_objective(estimator, X, y, *, C=1.0, l1_ratio=0.0):
    """:func:`objective` at a fitted linear classifier's ``coef_``/``intercept_``."""
    return objective(
        X, y, estimator.coef_, getattr(estimator, "intercept_", None), C=C, l1_ratio=l1_ratio
    )


def relative_gap(value, best):
    """``(value - best) / |best|``: how far above the best objective found."""
    return (value - best) / max(abs(best), np.finfo(np.float64).tiny)
