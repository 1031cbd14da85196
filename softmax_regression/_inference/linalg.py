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


def penalty_matrix(n_classes, width, fit_intercept, factor=None):
    """Hessian of ``||W||^2 / 2`` in the reference parametrization.

    For three or more classes ``W_k = theta_k + c`` with the common shift ``c``
    at its optimum ``-mean_k theta_k`` (the penalty fixes it; the likelihood
    does not see it), so ``||W||^2 = sum_j theta_j^T (I - 11^T / K) theta_j``
    over features ``j``. Two classes are the logistic model, penalized on its
    single row as it is. ``factor`` (one per feature, or None) multiplies
    each feature's penalty, as the estimators' ``penalty_factor``.
    """
    m = n_classes - 1
    between = np.eye(m) - (1.0 / n_classes if n_classes > 2 else 0.0)
    within = np.eye(width)
    if factor is not None:
        within[np.arange(len(factor)), np.arange(len(factor))] = factor
    if fit_intercept:
        within[-1, -1] = 0.0
    return np.kron(between, within)


def inverse(matrix):
    """Pseudo-inverse of a symmetric positive semi-definite matrix, and what is singular.

    A parameter whose diagonal entry is zero has a zero row and column (the
    matrix is semi-definite): the data carry no information about it. Its
    row and column of the pseudo-inverse are zero, exactly; it is left out of
    the rest, which is scaled to unit diagonal first, so that the features'
    units do not count as ill-conditioning. A Cholesky solve when the
    factor's pivots show the rest is well inside the positive-definite cone;
    otherwise it is (numerically) singular and gets the eigenvalue
    pseudo-inverse.

    Returns
    -------
    inv : ndarray
        The pseudo-inverse, symmetric.
    singular : bool
        Whether the matrix is singular (zero rows included).
    no_information : ndarray of bool
        The parameters with a zero diagonal entry.
    """
    diagonal = np.diag(matrix)
    # Not "tiny": a feature in units of 1e-150 has a diagonal of 1e-300 and
    # real information; only an exact zero (or an underflow to it) has none.
    no_information = ~(diagonal > 0)
    kept = np.flatnonzero(~no_information)
    inv = np.zeros_like(matrix, dtype=np.float64)
    singular = bool(no_information.any())
    if kept.size:
        sub, sub_singular = _scaled_inverse(matrix[np.ix_(kept, kept)])
        inv[np.ix_(kept, kept)] = sub
        singular = singular or sub_singular
    return inv, singular, no_information


def _scaled_inverse(matrix):
    scale = 1.0 / np.sqrt(np.diag(matrix))
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


# The margins are scaled to at most 1. A direction separates when its largest
# margin is above _MARGIN_MIN and none is below -_MARGIN_SLACK: the simplex
# solver ends at a vertex, where the active constraints hold to rounding
# (~1e-15), far inside the slack.
_MARGIN_MIN = 1e-6
_MARGIN_SLACK = 1e-9


def separating_direction(design, y_index, ref, n_classes, rows):
    """Whether the samples ``rows`` are (quasi-)separated, by a linear program.

    The data are quasi-separated when some direction ``d`` of the
    coefficients (reference class fixed at 0) gives every sample a margin
    ``(d_{y_i} - d_k) . x~_i >= 0`` over every other class ``k``, and some
    sample a positive one: along ``d`` the unpenalized likelihood rises
    without end and its maximum does not exist (Albert and Anderson, 1984).
    The program maximizes the sum of the margins, each scaled to at most 1,
    over ``-1 <= d <= 1`` subject to no negative margin: 0 exactly when the
    data overlap. It has ``(n_classes - 1) * width`` variables and one
    constraint per sample and other class, with the nonzeros of ``X``
    ``2 (n_classes - 1)`` times over (a dense ``X`` is copied into a sparse
    matrix once).

    Returns
    -------
    bool
    """
    from scipy.optimize import linprog

    X = design.X[rows]
    X = sp.csr_matrix(X, dtype=np.float64)
    if design.fit_intercept:
        X = sp.hstack([X, np.ones((X.shape[0], 1))], format="csr")
    y = y_index[rows]
    width = X.shape[1]
    free = [k for k in range(n_classes) if k != ref]
    blocks = []
    for c in range(n_classes):
        X_c = X[y == c]
        if X_c.shape[0] == 0:
            continue
        empty = sp.csr_matrix((X_c.shape[0], width))
        for k in range(n_classes):
            if k == c:
                continue
            # The margin of class c over class k: +x~ on c's block, -x~ on k's.
            row = [X_c if f == c else (-X_c if f == k else empty) for f in free]
            blocks.append(sp.hstack(row, format="csr"))
    margins = sp.vstack(blocks, format="csr")
    norms = np.asarray(abs(margins).sum(axis=1)).ravel()
    margins = sp.diags(1.0 / norms[norms > 0]) @ margins[norms > 0]
    if margins.shape[0] == 0:
        return False
    objective = -np.asarray(margins.sum(axis=0)).ravel()
    result = linprog(objective, A_ub=-margins, b_ub=np.zeros(margins.shape[0]),
                     bounds=(-1.0, 1.0), method="highs")
    if result.status != 0:
        return False
    values = margins @ result.x
    largest = float(values.max())
    return largest > _MARGIN_MIN and float(values.min()) >= -_MARGIN_SLACK


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
