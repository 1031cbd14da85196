"""Second-order pieces of the loss for Newton steps: the full Hessian, its diagonal.

Both are sums over rows of ``s_i * kron(J(p_i), x_i x_i^T)``, where
``J(p) = diag(p) - p p^T`` is the softmax Jacobian over the free logits (for a
binary model, one logit: ``p (1 - p)``) and ``x_i`` carries a trailing 1 when
the model has an intercept. They come back in float64 on the host whatever
the data's dtype and namespace: they feed a linear solve, whose accuracy the
data's precision must not limit. The full Hessian is formed on the host (it
is used only where it is small); the diagonal in X's namespace.
"""

import numpy as np
import scipy.sparse as sp

from .._utils.arrays import with_values
from .._utils.compat import _convert_to_numpy
from .._utils.namespace import namespace

# Rows per block: keeps each temporary (rows x n_logits * width) near 1 MiB.
_BLOCK_BYTES = 2**20
# X (with its column of ones, in float64) up to this size is copied once per solve.
_CACHE_BYTES = 2**22
# ... and each row's outer product x x^T up to this size.
_OUTER_BYTES = 2**21


def host_float64(array):
    """``array`` (any namespace) as float64 NumPy."""
    if isinstance(array, np.ndarray):
        return np.asarray(array, dtype=np.float64)
    return np.asarray(_convert_to_numpy(array, namespace(array)), dtype=np.float64)


def _with_ones(Xb, fit_intercept):
    Xb = host_float64(Xb)
    if fit_intercept:
        Xb = np.hstack([Xb, np.ones((Xb.shape[0], 1))])
    return Xb


class HessianForm:
    """Forms the full Hessian of the weighted loss at given probabilities.

    Built once per solve: where X is dense NumPy and its float64 copy with
    the column of ones is at most :data:`_CACHE_BYTES`, that copy is made
    once and every Hessian reads it (the tables exact Newton runs on are
    mostly this small, and there the copies and Python calls, not the
    flops, were the cost). Larger X is read in row blocks, a few blocks of
    temporary memory at a time, whatever the number of rows.

    Parameters
    ----------
    loss : LinearSoftmaxLoss
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
    sample_weight : ndarray of shape (n_samples,)
    """

    def __init__(self, loss, X, sample_weight):
        self.loss, self.X, self.sample_weight = loss, X, sample_weight
        n, d = X.shape
        K, width = loss.coef_shape(d)
        self.K, self.width = K, width
        self.rows = max(64, _BLOCK_BYTES // (8 * K * width))
        self.cached = self.outer = None
        if isinstance(X, np.ndarray) and n * width * 8 <= _CACHE_BYTES:
            self.cached = (_with_ones(X, loss.fit_intercept), host_float64(sample_weight))
            if K == 1:
                # One logit: the Hessian is [X 1]^T diag(v) [X 1], one product
                # from the transposed copy (faster on small tables than
                # forming sqrt(v) [X 1] for a symmetric product).
                self.cached_T = np.ascontiguousarray(self.cached[0].T)
            if K > 1 and n * width * width * 8 <= _OUTER_BYTES:
                # Each row's x x^T, once: every Hessian is then one product
                # (n x K^2)^T (n x width^2), whatever K. Building it costs
                # about one Hessian: with one logit, whose Hessian is a
                # single symmetric product, it would not pay.
                Xb = self.cached[0]
                self.outer = (Xb[:, :, None] * Xb[:, None, :]).reshape(n, width * width)

    def at(self, P):
        """The Hessian at probabilities ``P`` (n_samples x n_logits, any dtype).

        Returns
        -------
        H : ndarray of shape (p, p), float64
            ``p = n_logits * width``, rows and columns in the C order of the
            coefficients (one logit's row after another).
        """
        K, width = self.K, self.width
        if self.outer is not None:
            return self._from_outer(host_float64(P))
        if self.cached is not None and K == 1:
            p = host_float64(P)[:, 0]
            H = (self.cached_T * (self.cached[1] * p * (1.0 - p))) @ self.cached[0]
            # Symmetric to the last bit, as a symmetric product would be.
            H += H.T
            H *= 0.5
            return H
        H = np.zeros((K * width, K * width))
        if self.cached is not None:
            self._add_dense_block(H, *self.cached, host_float64(P))
            return H
        X, n = self.X, self.X.shape[0]
        for start in range(0, n, self.rows):
            stop = min(n, start + self.rows)
            Pb = host_float64(P[start:stop, ...])
            sb = host_float64(self.sample_weight[start:stop])
            if sp.issparse(X):
                _add_sparse_block(H, X[start:stop], Pb, sb, self.loss.fit_intercept)
            else:
                self._add_dense_block(H, _with_ones(X[start:stop, ...], self.loss.fit_intercept),
                                      sb, Pb)
        return H

    def _from_outer(self, P):
        # H = sum_i s_i J(p_i) kron x_i x_i^T: the (K x K) weights
        # s_i (diag(p_i) - p_i p_i^T) of every row against its x_i x_i^T.
        # The weights are laid out (K, K, n), so that the product reads them
        # as a plain (K^2 x n) matrix.
        K, width = self.K, self.width
        weighted = self.cached[1][:, None] * P
        M = np.multiply(weighted.T[:, None, :], P.T[None, :, :])
        M *= -1.0
        M = M.reshape(K * K, -1)
        M[:: K + 1] += weighted.T
        H = (M @ self.outer).reshape(K, K, width, width)
        return H.transpose(0, 2, 1, 3).reshape(K * width, K * width)

    def _add_dense_block(self, H, Xb, sb, Pb):
        K, width = self.K, self.width
        if K == 1:
            # One free logit: diag(p) - p p^T is the scalar p (1 - p); as
            # Q^T Q, one symmetric product (half the flops of Xb^T (v Xb)).
            Q = np.sqrt(sb * Pb[:, 0] * (1.0 - Pb[:, 0]))[:, None] * Xb
            H += Q.T @ Q
            return
        rows = Xb.shape[0]
        # diag(p): one (width x width) block per logit on the diagonal, all K
        # from one product Xb^T [w_1 Xb, ..., w_K Xb].
        Wb = sb[:, None] * Pb
        blocks = Xb.T @ (Wb[:, :, None] * Xb[:, None, :]).reshape(rows, K * width)
        # - p p^T: Q^T Q with Q_i = sqrt(s_i) kron(p_i, x_i), one symmetric product.
        Q = ((np.sqrt(sb)[:, None] * Pb)[:, :, None] * Xb[:, None, :]).reshape(rows, K * width)
        H -= Q.T @ Q
        for k in range(K):
            H[k * width:(k + 1) * width, k * width:(k + 1) * width] += (
                blocks[:, k * width:(k + 1) * width])


def full_hessian(loss, X, P, sample_weight):
    """The Hessian of the weighted loss at probabilities ``P``, flattened.

    Parameters
    ----------
    loss : LinearSoftmaxLoss
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
    P : ndarray of shape (n_samples, n_logits)
        The probabilities of the free logits (as :meth:`LinearSoftmaxLoss.proba`).
    sample_weight : ndarray of shape (n_samples,)

    Returns
    -------
    H : ndarray of shape (p, p), float64
        See :meth:`HessianForm.at`.
    """
    return HessianForm(loss, X, sample_weight).at(P)


def _weighted_gram(Xb, v, fit_intercept):
    """``[X 1]^T diag(v) [X 1]`` for sparse ``Xb``, dense (width x width)."""
    d = Xb.shape[1]
    # A d x d product of sparse matrices, scattered into a dense array: only
    # the Hessian is dense, never a block of X.
    product = sp.coo_array(Xb.T @ sp.csr_array(Xb.multiply(v[:, None])))
    G = np.zeros((d, d))
    np.add.at(G, (product.row, product.col), product.data)
    if fit_intercept:
        column = np.asarray(Xb.T @ v).ravel()
        G = np.block([[G, column[:, None]], [column[None, :], np.array([[v.sum()]])]])
    return G


def _add_sparse_block(H, Xb, Pb, sb, fit_intercept):
    """Add a sparse block's Hessian, one pair of logits at a time (X stays sparse)."""
    K = Pb.shape[1]
    width = Xb.shape[1] + fit_intercept
    for k in range(K):
        for j in range(k, K):
            v = -sb * Pb[:, k] * Pb[:, j]
            if j == k:
                v += sb * Pb[:, k]
            G = _weighted_gram(Xb, v, fit_intercept)
            H[k * width:(k + 1) * width, j * width:(j + 1) * width] += G
            if j != k:
                H[j * width:(j + 1) * width, k * width:(k + 1) * width] += G.T


def hessian_diagonal(loss, X, P, sample_weight):
    """The diagonal of :func:`full_hessian`, in the 2-D shape of the coefficients.

    One pass over ``X`` squared, in row blocks (no copy of X) and in X's
    namespace: a preconditioner for conjugate gradients that undoes the scale
    of each feature. Returned in float64 on the host.
    """
    n, d = X.shape
    if sp.issparse(X):
        P = np.asarray(P, dtype=np.float64)
        S = np.asarray(sample_weight, dtype=np.float64)[:, None] * P * (1.0 - P)
        if X.format in ("csr", "csc") and X.has_canonical_format:
            # The squares beside X's own index arrays: a copy of the values
            # only (duplicate entries would have to be summed first).
            squared = with_values(X, X.data**2)
        else:
            squared = X.multiply(X)
        D = np.asarray((squared.T @ S).T)
        intercept = S.sum(axis=0)
    else:
        xp = namespace(P)
        S = sample_weight[:, None] * P * (1.0 - P)
        D = np.zeros((P.shape[1], d))
        rows = max(64, _BLOCK_BYTES // (8 * max(d, 1)))
        for start in range(0, n, rows):
            stop = min(n, start + rows)  # array-API slices stay within bounds
            Xb = X[start:stop, ...]
            D += host_float64((Xb * Xb).T @ S[start:stop, ...]).T
        intercept = host_float64(xp.sum(S, axis=0))
    if loss.fit_intercept:
        D = np.concatenate([D, intercept[:, None]], axis=1)
    return D
