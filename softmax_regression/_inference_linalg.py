"""Linear algebra for :mod:`softmax_regression._inference`: products with the design
matrix, the Hessian and score matrices, and their inverse.

Everything is float64 and reads ``X`` in row blocks: a float32 ``X`` is never
copied whole, a sparse ``X`` never densified, and no temporary is larger than
``n_samples x (n_classes - 1)`` times a small batch.
"""

import numpy as np
import scipy.sparse as sp
from scipy.linalg import LinAlgError, cho_factor, cho_solve

# Up to this many parameters the Hessian is assembled from weighted Gram blocks,
# (n_classes - 1)^2 / 2 BLAS-3 passes over X; above it, from batched
# Hessian-matrix products whose temporaries are n x (n_classes - 1) x batch.
DENSE_HESSIAN_MAX_PARAMS = 2000

# Elements of float64 scratch per temporary (8 MiB): bounds the row blocks of X
# and the batch of directions in the Hessian products.
_SCRATCH_ELEMENTS = 1 << 20


def penalty_matrix(n_classes, width, fit_intercept):
    """Hessian of ``||W||^2 / 2`` in the reference parametrization.

    For three or more classes ``W_k = theta_k + c`` with the common shift ``c``
    at its optimum ``-mean_k theta_k`` (the penalty fixes it; the likelihood
    does not see it), so ``||W||^2 = sum_j theta_j^T (I - 11^T / K) theta_j``
    over features ``j``. Two classes are the logistic model, penalized on its
    single row as it is.
    """
    m = n_classes - 1
    between = np.eye(m) - (1.0 / n_classes if n_classes > 2 else 0.0)
    within = np.eye(width)
    if fit_intercept:
        within[-1, -1] = 0.0
    return np.kron(between, within)


def inverse(matrix):
    """Inverse of a symmetric positive semi-definite matrix, and whether it is singular.

    Scaled to unit diagonal first, so that the features' units do not count
    as ill-conditioning. A Cholesky solve when the factor's pivots show the
    matrix is well inside the positive-definite cone; otherwise it is
    (numerically) singular and gets the eigenvalue pseudo-inverse.
    """
    scale = 1.0 / np.sqrt(np.maximum(np.diag(matrix), np.finfo(np.float64).tiny))
    scaled = matrix * scale[:, None] * scale[None, :]
    cutoff = len(scaled) * np.finfo(np.float64).eps * np.abs(scaled).max()
    try:
        factor = cho_factor(scaled, lower=True)
        singular = bool(np.min(np.diag(factor[0])) ** 2 <= cutoff)
    except LinAlgError:
        singular = True
    if singular:
        values, vectors = np.linalg.eigh(scaled)
        keep = values > cutoff
        inv = (vectors[:, keep] / values[keep]) @ vectors[:, keep].T
    else:
        inv = cho_solve(factor, np.eye(len(scaled)))
    inv = inv * scale[:, None] * scale[None, :]
    return (inv + inv.T) / 2, singular


def cluster_meat(design, scores, codes):
    """``sum_g S_g S_g^T`` for the per-group sums ``S_g`` of ``scores_i (x) x_i``."""
    n_groups, rows = int(codes.max()) + 1, np.flatnonzero(codes >= 0)
    blocks = []
    for k in range(scores.shape[1]):
        indicator = sp.csr_matrix(
            (scores[rows, k], (codes[rows], rows)), shape=(n_groups, len(codes))
        )
        blocks.append(design.left_sparse_product(indicator))
    sums = np.hstack(blocks)
    return sums.T @ sums


class Design:
    """``X`` with a column of ones appended when there is an intercept.

    Only products are exposed, computed over row blocks in float64, so the
    column of ones and a float64 copy of ``X`` are never materialized.
    """

    def __init__(self, X, fit_intercept):
        self.X = X
        self.fit_intercept = fit_intercept
        self.n_samples, self.n_features = X.shape
        self.width = self.n_features + int(fit_intercept)
        self.sparse = sp.issparse(X)

    def _blocks(self, extra_columns=0):
        step = max(1, _SCRATCH_ELEMENTS // max(1, self.n_features + extra_columns))
        for start in range(0, self.n_samples, step):
            rows = slice(start, min(start + step, self.n_samples))
            block = self.X[rows]
            yield rows, (block if self.sparse else block.astype(np.float64, copy=False))

    def matmul(self, B):
        """``X~ @ B`` for ``B`` of shape ``(width, m)``."""
        out = np.empty((self.n_samples, B.shape[1]))
        for rows, block in self._blocks(B.shape[1]):
            out[rows] = block @ B[: self.n_features]
        if self.fit_intercept:
            out += B[-1]
        return out

    def rmatmul(self, R):
        """``X~^T @ R`` for ``R`` of shape ``(n_samples, m)``."""
        out = np.zeros((self.width, R.shape[1]))
        for rows, block in self._blocks(R.shape[1]):
            out[: self.n_features] += block.T @ R[rows]
        if self.fit_intercept:
            out[-1] = R.sum(axis=0)
        return out

    def gram(self, w):
        """``X~^T diag(w) X~``."""
        out = np.zeros((self.width, self.width))
        p = self.n_features
        for rows, block in self._blocks(self.n_features):
            wb = w[rows]
            if self.sparse:
                out[:p, :p] += (block.T @ sp.diags(wb) @ block).toarray()
            else:
                out[:p, :p] += block.T @ (block * wb[:, None])
        if self.fit_intercept:
            out[:p, -1] = out[-1, :p] = self.rmatmul(w[:, None])[:p, 0]
            out[-1, -1] = w.sum()
        return out

    def left_sparse_product(self, A):
        """``A @ X~`` for a sparse ``A`` with ``n_samples`` columns, as a dense array."""
        product = A @ self.X
        product = product.toarray() if sp.issparse(product) else np.asarray(product)
        if self.fit_intercept:
            product = np.column_stack([product, np.asarray(A.sum(axis=1)).ravel()])
        return product


class KroneckerSum:
    """``sum_i A_i (x) x~_i x~_i^T`` with ``A_i = diag(d_i) + sign f_i f_i^T``.

    The Hessian of the cross-entropy has this form (``d = s p``, ``f = sqrt(s)
    p``, ``sign = -1``: the softmax Jacobian), and so has the sum of score
    outer products (``d = 0``, ``f`` the weighted residuals, ``sign = +1``).
    ``d`` and ``f`` have shape ``(n_samples, m)``; the matrix is ``m * width``
    square, in class-major order.
    """

    def __init__(self, design, d, f, sign):
        self.design, self.d, self.f, self.sign = design, d, f, sign
        self.m = d.shape[1]
        self.size = self.m * design.width

    def to_dense(self):
        if self.size <= DENSE_HESSIAN_MAX_PARAMS:
            return self._from_gram_blocks()
        return self._from_products()

    def _from_gram_blocks(self):
        w = self.design.width
        out = np.empty((self.size, self.size))
        for k in range(self.m):
            for l in range(k, self.m):
                weights = self.sign * self.f[:, k] * self.f[:, l]
                if k == l:
                    weights = weights + self.d[:, k]
                block = self.design.gram(weights)
                out[k * w:(k + 1) * w, l * w:(l + 1) * w] = block
                out[l * w:(l + 1) * w, k * w:(k + 1) * w] = block.T
        return out

    def matmat(self, V):
        """The matrix times ``V`` of shape ``(size, b)``, with n x m x b temporaries."""
        w, b = self.design.width, V.shape[1]
        T = np.zeros((self.design.n_samples, self.m, b))
        for k in range(self.m):
            # Unit directions touch one class each: skip the passes over X
            # that would only multiply zeros.
            if V[k * w:(k + 1) * w].any():
                T[:, k] = self.design.matmul(V[k * w:(k + 1) * w])
        coupled = np.einsum("nk,nkb->nb", self.f, T)
        R = self.d[:, :, None] * T + self.sign * self.f[:, :, None] * coupled[:, None, :]
        return np.concatenate([self.design.rmatmul(R[:, k]) for k in range(self.m)])

    def _from_products(self):
        batch = max(1, _SCRATCH_ELEMENTS // max(1, self.design.n_samples * self.m))
        out = np.empty((self.size, self.size))
        for start in range(0, self.size, batch):
            stop = min(start + batch, self.size)
            directions = np.zeros((self.size, stop - start))
            directions[np.arange(start, stop), np.arange(stop - start)] = 1.0
            out[:, start:stop] = self.matmat(directions)
        return (out + out.T) / 2
