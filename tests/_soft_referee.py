"""An independent float64 optimum of the soft-target objective, offsets and factors.

Written from the definition with NumPy and scipy alone (no code of the
package): minimize

    sum_i s_i sum_k Y_ik (logsumexp(z_i) - z_ik) + 1 / (2 C) sum_j f_j ||W_:j||^2

with ``z_i = W x_i + b + o_i`` over all K classes (a binary model: logits
``[0, z]``, one row of W). Solved with BFGS on the exact gradient to a
gradient below 1e-10 in the objective divided by its total weight.
"""

import numpy as np
from scipy.optimize import minimize


def soft_optimum(X, Y, *, C=1.0, sample_weight=None, offset=None, factor=None,
                 fit_intercept=True):
    """``(coef, intercept, proba)`` at the optimum; ``Y`` of shape (n, K) over all classes."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    n, d = X.shape
    K = Y.shape[1]
    rows = 1 if K == 2 else K
    s = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    total = float(np.sum(s * Y.sum(axis=1)))
    f = np.ones(d) if factor is None else np.asarray(factor, np.float64)
    strength = 0.0 if not np.isfinite(C) else 1.0 / C
    if offset is None:
        O = np.zeros((n, K))
    else:
        O = np.asarray(offset, dtype=np.float64)
        O = np.column_stack([np.zeros(n), O]) if O.ndim == 1 else O
    width = d + int(fit_intercept)
    A = np.column_stack([X, np.ones(n)]) if fit_intercept else X

    def full_logits(theta):
        Z = A @ theta.reshape(rows, width).T
        if K == 2:
            Z = np.column_stack([np.zeros(n), Z])
        return Z + O

    def fun(theta):
        Z = full_logits(theta)
        m = Z.max(axis=1, keepdims=True)
        lse = m[:, 0] + np.log(np.exp(Z - m).sum(axis=1))
        P = np.exp(Z - lse[:, None])
        value = np.sum(s * (Y.sum(axis=1) * lse - np.sum(Y * Z, axis=1)))
        R = s[:, None] * (P * Y.sum(axis=1, keepdims=True) - Y)
        if K == 2:
            R = R[:, 1:]
        G = R.T @ A
        W = theta.reshape(rows, width)[:, :d]
        value += 0.5 * strength * np.sum(f * W * W)
        G[:, :d] += strength * f * W
        return value / total, G.ravel() / total

    result = minimize(fun, np.zeros(rows * width), jac=True, method="BFGS",
                      options={"gtol": 1e-11, "maxiter": 20000})
    theta = result.x.reshape(rows, width)
    Z = full_logits(result.x)
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    intercept = theta[:, d] if fit_intercept else np.zeros(rows)
    return theta[:, :d], intercept, P
