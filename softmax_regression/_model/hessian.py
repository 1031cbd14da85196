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

from .._utils.compat import _convert_to_numpy
from .._utils.namespace import namespace

# Rows per block: keeps each temporary (rows x n_logits * width) near 1 MiB.
_BLOCK_BYTES = 2**20


def _host(array):
    """``array`` (any namespace) as float64 NumPy."""
    if isinstance(array, np.ndarray):
        return np.asarray(array, dtype=np.float64)
    return np.asarray(_convert_to_numpy(array, namespace(array)), dtype=np.float64)


def _with_ones(Xb, fit_intercept):
    Xb = _host(Xb)
    if fit_intercept:
        Xb = np.hstack([Xb, np.ones((Xb.shape[0], 1))])
    return Xb


def full_hessian(loss, X, coef, sample_weight):
    """The Hessian of the weighted loss at ``coef``, flattened.

    The probabilities are computed block by block from ``coef``, so the
    temporary memory is a few blocks, whatever the number of rows.

    Parameters
    ----------
    loss : LinearSoftmaxLoss
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
    coef : ndarray of shape (n_logits, n_features + fit_intercept)
        In X's dtype.
    sample_weight : ndarray of shape (n_samples,)

    Returns
    -------
    H : ndarray of shape (p, p), float64
        ``p = coef.size``, rows and columns in the C order of ``coef`` (one
        logit's row after another).
    """
    n, d = X.shape
    K, width = coef.shape
    H = np.zeros((K * width, K * width))
    rows = max(64, _BLOCK_BYTES // (8 * K * width))
    for start in range(0, n, rows):
        stop = min(n, start + rows)
        Pb = _host(loss.proba(coef, X[start:stop, ...]))
        sb = _host(sample_weight[start:stop])
        if sp.issparse(X):
            _add_sparse_block(H, X[start:stop], Pb, sb, loss.fit_intercept)
            continue
        Xb = _with_ones(X[start:stop, ...], loss.fit_intercept)
        if K == 1:
            # One free logit: diag(p) - p p^T is the scalar p (1 - p).
            H += Xb.T @ ((sb * Pb[:, 0] * (1.0 - Pb[:, 0]))[:, None] * Xb)
            continue
        # diag(p): one (width x width) block per logit on the diagonal, all K
        # from one product Xb^T [w_1 Xb, ..., w_K Xb].
        Wb = sb[:, None] * Pb
        blocks = Xb.T @ (Wb[:, :, None] * Xb[:, None, :]).reshape(stop - start, K * width)
        for k in range(K):
            H[k * width:(k + 1) * width, k * width:(k + 1) * width] += (
                blocks[:, k * width:(k + 1) * width])
        # - p p^T: Q^T Q with Q_i = sqrt(s_i) kron(p_i, x_i), one symmetric product.
        Q = (np.sqrt(sb)[:, None] * Pb)[:, :, None] * Xb[:, None, :]
        Q = Q.reshape(stop - start, K * width)
        H -= Q.T @ Q
    return H


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
        D = np.asarray((X.multiply(X).T @ S).T)
        intercept = S.sum(axis=0)
    else:
        xp = namespace(P)
        S = sample_weight[:, None] * P * (1.0 - P)
        D = np.zeros((P.shape[1], d))
        rows = max(64, _BLOCK_BYTES // (8 * max(d, 1)))
        for start in range(0, n, rows):
            stop = min(n, start + rows)  # array-API slices stay within bounds
            Xb = X[start:stop, ...]
            D += _host((Xb * Xb).T @ S[start:stop, ...]).T
        intercept = _host(xp.sum(S, axis=0))
    if loss.fit_intercept:
        D = np.concatenate([D, intercept[:, None]], axis=1)
    return D
