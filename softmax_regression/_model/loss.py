"""The multinomial cross-entropy of a linear model: value, gradient, Hessian products.

Everything here is a pure function of its arguments: nothing is cached between
calls, and all arithmetic happens in the dtype, array namespace and device of
the input (float32 stays float32; a CUDA tensor stays on its GPU; scipy sparse
``X`` is never densified). Only array-API operations are used, so NumPy,
PyTorch, CuPy and array-api-strict arrays all work.
"""

import numpy as np
import scipy.sparse as sp

from . import kmajor
from .blocks import RowSlices, plan, sum_over_blocks
from .hessian import hessian_diagonal
from .._utils.arrays import transpose_into
from .._utils.compat import _convert_to_numpy, device
from .._utils.namespace import namespace


def _exp_in_place(Z, xp):
    """``exp(Z)``, written into Z's own buffer where the namespace allows it."""
    if isinstance(Z, np.ndarray):
        return np.exp(Z, out=Z)
    return xp.exp(Z)


class LinearSoftmaxLoss:
    """Weighted multinomial cross-entropy of a linear model.

    Conventions
    -----------
    - ``coef`` is 2-D, shape ``(n_logits, n_features + fit_intercept)``; the
      intercept, when fitted, is its last column.
    - ``n_logits == n_classes`` for three or more classes (the symmetric
      multinomial model). For two classes ``n_logits == 1``: the first class is
      a reference whose logit is pinned to 0, so the model is the binary
      logistic one, ``P(y = 1) = sigmoid(z)``.
    - ``Y`` is the one-hot target over the free logits, shape
      ``(n_samples, n_logits)``, in X's dtype: for two classes the indicator of
      the second class.
    - ``Y`` may also hold soft targets: rows of non-negative numbers summing
      to one over all classes (for two classes, the probability of the
      second). ``CE_i = logsumexp(z_i) - z_i . y_i`` is then the
      cross-entropy against that distribution; rows of counts are the
      caller's to normalize (their totals go into the sample weights).
    - ``sample_weight`` has shape ``(n_samples,)``. The loss is the plain
      weighted sum ``sum_i s_i CE_i``; any normalization is the caller's.
    - ``offset``, where given, has shape ``(n_samples, n_logits)``: a fixed
      part added to the logits, ``Z = X W^T + b + offset``.
    - Gradients and Hessian products have the shape of ``coef``.

    Parameters
    ----------
    n_classes : int
        Number of classes, at least 2.
    fit_intercept : bool
        Whether ``coef`` carries an intercept column.
    soft_targets : bool, default=False
        Whether ``Y`` may hold soft targets (held-out scores then read them
        whole instead of each row's class).
    """

    def __init__(self, n_classes, fit_intercept, soft_targets=False):
        self.n_classes = n_classes
        self.fit_intercept = fit_intercept
        self.soft_targets = soft_targets
        self.pinned_reference = n_classes == 2
        self.n_logits = 1 if self.pinned_reference else n_classes

    def one_hot(self, y_index, dtype, column_major=False):
        """Targets ``Y`` for class indices ``y_index`` in ``0..n_classes-1``.

        ``column_major`` (NumPy only): lay ``Y`` out by columns, so that
        ``Y^T``, which the K-major passes read, is contiguous (a strided view
        took 2-3 times as long to read on digits, twice as long on the
        sparse benchmark problem's logits).
        """
        xp = namespace(y_index)
        first_free = 1 if self.pinned_reference else 0
        classes = xp.arange(first_free, self.n_classes, device=device(y_index))
        if column_major and isinstance(y_index, np.ndarray):
            return (classes[:, None] == y_index[None, :]).astype(dtype).T
        return xp.astype(y_index[:, None] == classes[None, :], dtype)

    def coef_shape(self, n_features):
        return (self.n_logits, n_features + int(self.fit_intercept))

    def logits(self, coef, X, offset=None):
        """Raw logits ``Z = X W^T + b (+ offset)`` of the free classes, shape (n, n_logits)."""
        n_features = X.shape[1]
        Z = X @ coef[:, :n_features].T
        if self.fit_intercept:
            Z += coef[:, n_features]
        if offset is not None:
            Z += offset
        return Z

    def proba(self, coef, X, offset=None):
        """Probabilities of the free logits at ``coef``, shape (n, n_logits)."""
        return self._log_normalizer_and_proba(self.logits(coef, X, offset))[1]

    def _transpose_product(self, R, X):
        """``[R^T X, sum_i R_i]``: the gradient-shaped product of a residual."""
        # R^T X is computed as one GEMM on dense X, which is faster than
        # X^T R for C-ordered X; sparse X goes through its own transpose,
        # whose (d, K) product the gradient takes over in C order: a solver
        # flattens it, and the penalty adds a C-ordered block to it.
        if sp.issparse(X):
            GT = X.T @ R
            G = np.empty((R.shape[1], X.shape[1] + int(self.fit_intercept)), dtype=GT.dtype)
            transpose_into(G[:, : X.shape[1]], GT)
            if self.fit_intercept:
                # A matrix-vector product: np.sum over the rows of a C-ordered
                # R takes 5x as long (1.7 ms at 100,000 x 20 float32).
                G[:, -1] = np.ones(R.shape[0], dtype=R.dtype) @ R
            return G
        G = R.T @ X
        if self.fit_intercept:
            xp = namespace(R)
            G = xp.concat([G, xp.sum(R, axis=0)[:, None]], axis=1)
        return G

    def _log_normalizer_and_proba(self, Z):
        """``logsumexp`` over all classes and the probabilities of the free ones.

        Shifting by the row maximum ``m`` (including the pinned 0 logit) keeps
        every exponent <= 0, so no exponential overflows and the normalizer
        ``s >= 1`` never underflows. ``Z`` is overwritten: its buffer becomes
        the probabilities (one n x K array per evaluation, not four).
        """
        xp = namespace(Z)
        m = xp.max(Z, axis=1, keepdims=True)
        if self.pinned_reference:
            m = xp.clip(m, min=0.0)
        Z -= m
        P = _exp_in_place(Z, xp)
        s = xp.sum(P, axis=1, keepdims=True)
        if self.pinned_reference:
            s += xp.exp(-m)
        P /= s
        return (m + xp.log(s))[:, 0], P

    def _value_and_proba(self, Z, Y, sample_weight):
        """``sum_i s_i CE_i`` and the probabilities, from logits ``Z`` (overwritten)."""
        xp = namespace(Y)
        # CE_i = logsumexp(z_i) - z_i[y_i]; z_i[y_i] is read before Z is reused.
        true_logit = xp.vecdot(Z, Y, axis=-1)
        lse, P = self._log_normalizer_and_proba(Z)
        # Summed in float64: in float32 the objective would be quantized to
        # ~6e-8 relative, below which L-BFGS sees no decrease and stops.
        per_sample = xp.astype(sample_weight * (lse - true_logit), xp.float64)
        return float(xp.sum(per_sample)), P

    # -- one block: the evaluation every scheduler sums ----------------------
    # Two ways to evaluate a block, chosen by _block_path (measured, one
    # thread, value + gradient against the two-product floor): NumPy blocks
    # with the logits laid out K x rows, 1.04x-1.4x on dense X (the
    # reductions over the few classes run along contiguous rows of the
    # block, in the data's dtype) and 1.14x-1.15x on the sparse benchmark
    # problem in float64 and float32 (scikit-learn's compiled loss, row by
    # row in float64: 1.15x-1.22x); any other array namespace with the
    # array-API code, as one block.
    def _block_path(self, X, Y, sample_weight):
        """``"k-major"`` or ``"array-api"`` for a block of these arrays.

        An offset lives in the arrays of ``X`` (the estimator puts it there),
        so it never changes the path.
        """
        if not (isinstance(Y, np.ndarray) and isinstance(sample_weight, np.ndarray)):
            return "array-api"
        if (isinstance(X, np.ndarray) or sp.issparse(X)) and X.dtype.kind == "f":
            return "k-major"
        return "array-api"

    def _kmajor_block(self, coef, X, Y, sample_weight, offset=None, with_gradient=True,
                      proba_out=None, XT=None):
        """Value and gradient of a NumPy block, logits laid out K x rows.

        ``Z^T = W X^T + b`` has one contiguous row per free class, so the
        maximum, sum and normalizer over classes are K - 1 vectorized
        operations along rows of the block instead of reductions along
        rows of K numbers. With ``proba_out`` the probabilities are written
        there (rows x K). The residual reuses the logits' buffer. ``XT``, a
        C-contiguous ``X.T`` where the problem keeps one, makes the first
        product a plain one (OpenBLAS took twice as long with ``X.T``, a
        transposed view, on digits-sized blocks).
        """
        if sp.issparse(X):
            return self._sparse_block(coef, X, Y, sample_weight, offset, with_gradient,
                                      proba_out)
        d = X.shape[1]
        Zt = self._kmajor_logits(coef, X.T if XT is None else XT, offset)
        value = kmajor.residual(Zt, Y.T, sample_weight, self.pinned_reference, with_gradient,
                                proba_out)
        if not with_gradient:
            return value, None
        if not self.fit_intercept:
            return value, Zt @ X
        G = np.empty((Zt.shape[0], d + 1), dtype=Zt.dtype)
        np.matmul(Zt, X, out=G[:, :d])
        Zt.sum(axis=1, out=G[:, d])
        return value, G

    def _sparse_block(self, coef, X, Y, sample_weight, offset, with_gradient, proba_out):
        """:meth:`_kmajor_block` for scipy sparse X.

        scipy's products write rows x K: :func:`.kmajor.rows_residual` takes
        the logits through the K-major residual a cache-sized block of rows
        at a time.
        """
        Z = self.logits(coef, X, offset)
        value = kmajor.rows_residual(Z, Y.T, sample_weight, self.pinned_reference,
                                     with_gradient, proba_out)
        if not with_gradient:
            return value, None
        return value, self._transpose_product(Z, X)

    def _block_value_residual(self, coef, X, Y, sample_weight, offset):
        """Value and weighted residual ``R = s * (P - Y)`` (rows x K) of one block (array API).

        ``R`` reuses the probabilities' buffer.
        """
        Z = self.logits(coef, X, offset)
        value, R = self._value_and_proba(Z, Y, sample_weight)
        R -= Y  # the probabilities are not needed afterwards: reuse their buffer
        R *= sample_weight[:, None]
        return value, R

    def _block_loss_gradient(self, coef, X, Y, sample_weight, offset=None, XT=None):
        path = self._block_path(X, Y, sample_weight)
        if path == "k-major":
            return self._kmajor_block(coef, X, Y, sample_weight, offset, XT=XT)
        value, R = self._block_value_residual(coef, X, Y, sample_weight, offset)
        return value, self._transpose_product(R, X)

    def _block_value(self, coef, X, Y, sample_weight, offset=None, XT=None):
        path = self._block_path(X, Y, sample_weight)
        if path == "k-major":
            return self._kmajor_block(coef, X, Y, sample_weight, offset, with_gradient=False,
                                      XT=XT)[0]
        return self._value_and_proba(self.logits(coef, X, offset), Y, sample_weight)[0]

    def _map_reduce(self, evaluate, X):
        """Sum of ``evaluate(start, stop) -> (value, gradient-shaped array)`` over X's blocks.

        ``evaluate`` gets the row range of one block. With one block its
        result is returned as it is; partial sums are float64 for NumPy, and
        the array comes back in its own dtype.
        """
        blocks, threads = plan(X, self.n_logits)
        if len(blocks) == 1:
            return evaluate(*blocks[0])
        dtype = X.dtype
        value, total = sum_over_blocks(evaluate, blocks, threads)
        return value, (None if total is None else total.astype(dtype, copy=False))

    def loss(self, coef, X, Y, sample_weight, offset=None, XT=None):
        """Value of ``sum_i s_i CE_i``; ``XT`` an optional C-contiguous copy of ``X.T``."""
        rows = RowSlices(X, Y, sample_weight, offset, XT)
        return float(self._map_reduce(
            lambda start, stop: (self._block_value(coef, *rows(start, stop),
                                                   XT=rows.transposed(start, stop)), None), X
        )[0])

    def loss_gradient(self, coef, X, Y, sample_weight, offset=None, XT=None):
        """Value and gradient from one pass (two matrix products).

        d CE_i / d z_ik = p_ik - y_ik, so the gradient is ``R^T [X, 1]`` with the
        weighted residual ``R = s * (P - Y)``. ``XT``: an optional
        C-contiguous copy of ``X.T`` for the first product.
        """
        rows = RowSlices(X, Y, sample_weight, offset, XT)

        return self._map_reduce(
            lambda start, stop: self._block_loss_gradient(
                coef, *rows(start, stop), XT=rows.transposed(start, stop)), X
        )

    def loss_gradient_hessian_product(self, coef, X, Y, sample_weight, offset=None, XT=None):
        """Value, gradient and a Hessian-vector product closure at ``coef``.

        Returns
        -------
        value : float
        gradient : ndarray of shape ``coef.shape``
        hessp : callable
            ``hessp(V)`` returns ``H V`` for a direction ``V`` of ``coef``'s
            shape, reusing the probabilities computed here.
        """
        value, gradient, P = self.loss_gradient_proba(coef, X, Y, sample_weight, offset, XT)

        def hessp(V):
            return self.hessian_product(V, X, P, sample_weight)

        # Newton-CG's preconditioner: the Hessian's diagonal at the same point;
        # exact Newton forms the whole Hessian from the same probabilities.
        hessp.diagonal = lambda: hessian_diagonal(self, X, P, sample_weight)
        hessp.proba = P
        return value, gradient, hessp

    def loss_gradient_proba(self, coef, X, Y, sample_weight, offset=None, XT=None):
        """Value, gradient and the probabilities of the free logits at ``coef``.

        The probabilities are what :meth:`hessian_product` needs; a caller
        that keeps them (row chunks on dask workers) computes Hessian
        products at ``coef`` without recomputing the logits.
        """
        rows = RowSlices(X, Y, sample_weight, offset, XT)
        path = self._block_path(X, Y, sample_weight)

        if path == "k-major":
            P = np.empty((X.shape[0], self.n_logits), dtype=X.dtype)

            def evaluate(start, stop):
                Xb, Yb, sb, Ob = rows(start, stop)
                return self._kmajor_block(coef, Xb, Yb, sb, Ob, proba_out=P[start:stop],
                                          XT=rows.transposed(start, stop))

            value, G = self._map_reduce(evaluate, X)
            return value, G, P

        # Another namespace: one block.
        Z = self.logits(coef, X, offset)
        value, P = self._value_and_proba(Z, Y, sample_weight)
        R = P - Y
        R *= sample_weight[:, None]
        return value, self._transpose_product(R, X), P

    def hessian_product(self, V, X, P, sample_weight, XT=None):
        """``H V``: the Hessian at the probabilities ``P`` times a direction ``V``.

        ``XT``, a C-contiguous copy of dense NumPy ``X.T`` (a row sample's,
        see :class:`~.._solvers.newton_family.SubsampledNewtonCG`), takes
        the K-major layout of the passes: one contiguous row per logit, both
        products plain ones (30% less time on 5,000 x 100 x 10).
        """
        if XT is not None:
            return self._kmajor_hessian_product(V, X, XT, P, sample_weight)
        rows = RowSlices(X, P, sample_weight)

        def evaluate(start, stop):
            Xb, Pb, sb, _ = rows(start, stop)
            xp = namespace(Pb)
            # The Jacobian of softmax is diag(p) - p p^T, so a logit step dZ
            # moves the residual by dR = P * dZ - P * sum_k(P * dZ). A pinned
            # reference logit never moves, so its term is 0 in that sum.
            dR = self.logits(V, Xb)
            dR *= Pb
            dR -= Pb * xp.sum(dR, axis=1, keepdims=True)
            dR *= sb[:, None]
            return 0.0, self._transpose_product(dR, Xb)

        return self._map_reduce(evaluate, X)[1]

    def _kmajor_hessian_product(self, V, X, XT, P, sample_weight):
        d = XT.shape[0]
        V = np.asarray(V, dtype=XT.dtype)
        Pt = P.T
        # dR^T = P^T * dZ^T - P^T * sum_k(P^T * dZ^T), as in hessian_product.
        dRt = V[:, :d] @ XT
        if self.fit_intercept:
            dRt += V[:, d:]
        dRt *= Pt
        dRt -= Pt * np.sum(dRt, axis=0)
        dRt *= sample_weight
        G = dRt @ X
        if self.fit_intercept:
            G = np.concatenate([G, np.sum(dRt, axis=1)[:, None]], axis=1)
        return G

    # -- what depends on the class parametrization ---------------------------
    # Everything below reads ``pinned_reference``, so that nothing outside
    # this class needs to know that a binary model has one free logit.
    def class_index(self, Y):
        """Class indices ``0..n_classes-1`` recovered from one-hot targets ``Y``."""
        xp = namespace(Y)
        if self.pinned_reference:
            # The arg-max of soft targets; a one-hot row reads its class.
            return xp.astype(Y[:, 0] > 0.5, xp.int64)
        return xp.argmax(Y, axis=1)

    def free_targets(self, Y):
        """Targets over the free logits from targets ``Y`` over all ``n_classes``."""
        return Y[:, 1:] if self.pinned_reference else Y

    def all_class_targets(self, Y):
        """Targets over all ``n_classes`` from targets ``Y`` over the free logits."""
        xp = namespace(Y)
        return xp.concat([1 - Y, Y], axis=1) if self.pinned_reference else Y

    def full_logits(self, coef, X, offset=None):
        """Logits of all ``n_classes`` classes, the pinned reference's 0 included."""
        xp = namespace(coef)
        Z = self.logits(coef, X, offset)
        if self.pinned_reference:
            Z = xp.concat([xp.zeros_like(Z), Z], axis=1)
        return Z

    def _kmajor_logits(self, coef, XT, offset=None):
        """The free logits laid out classes x rows, ``W X^T + b``, from NumPy ``XT = X.T``."""
        d = XT.shape[0]
        Zt = coef[:, :d] @ XT
        if self.fit_intercept:
            Zt += coef[:, d:]
        if offset is not None:
            Zt += offset.T
        return Zt

    def full_logits_kmajor(self, coef, XT, offset=None):
        """:meth:`full_logits` laid out classes x rows, from ``XT``, dense NumPy ``X.T``."""
        Zt = self._kmajor_logits(coef, XT, offset)
        if self.pinned_reference:
            Zt = np.concatenate([np.zeros_like(Zt), Zt])
        return Zt

    def predicted_index(self, coef, X, offset=None):
        """Index of the most probable class of each row of ``X``."""
        xp = namespace(coef)
        Z = self.logits(coef, X, offset)
        if self.pinned_reference:
            return xp.astype(Z[:, 0] > 0, xp.int64)
        return xp.argmax(Z, axis=1)

    def class_totals(self, Y, sample_weight):
        """Total sample weight of each of the ``n_classes`` classes, on the host (float64)."""
        xp = namespace(Y)
        totals = np.asarray(
            # A vector-matrix product: no n x K temporary.
            _convert_to_numpy(xp.matmul(sample_weight, Y), xp), dtype=np.float64
        )
        if self.pinned_reference:
            totals = np.concatenate([[float(xp.sum(sample_weight)) - totals[0]], totals])
        return totals

    def prior_intercepts(self, class_totals):
        """Intercepts of the best model with ``W = 0``: the log class priors.

        Returns zeros (host, float64, shape ``(n_logits,)``) when a class has
        no weight, where the log prior would be ``-inf``.
        """
        if not np.all(class_totals > 0):
            return np.zeros(self.n_logits)
        log_prior = np.log(class_totals)
        if self.pinned_reference:
            return np.array([log_prior[1] - log_prior[0]])
        return log_prior - log_prior.mean()

    def separates(self, coef, X, Y, sample_weight, offset=None):
        """Whether ``coef`` puts every weighted sample strictly in its class.

        Then scaling ``coef`` up lowers the loss forever: without a penalty
        the objective has no minimizer. A soft-target row spread over more
        than one class is never counted as separated.
        """
        xp = namespace(Y)
        Z = self.logits(coef, X, offset)
        if self.pinned_reference:
            Z = xp.concat([xp.zeros_like(Z), Z], axis=1)
            Y = xp.concat([1 - Y, Y], axis=1)
        true_logit = xp.sum(Z * Y, axis=1)
        best_other = xp.max(xp.where(Y > 0, xp.full_like(Z, -xp.inf), Z), axis=1)
        single = xp.sum(xp.astype(Y > 0, xp.int64), axis=1) == 1
        margin_ok = ((true_logit > best_other) & single) | (sample_weight == 0)
        return bool(xp.all(margin_ok))

    def weights_and_intercept(self, coef, n_features, center_weights):
        """``(W, b)`` of ``coef`` in LogisticRegression's representation.

        Adding the same vector to every class's logits changes no probability;
        for three or more classes the symmetric (zero-sum) representative is
        LogisticRegression's, so the intercepts (and, with ``center_weights``,
        the weights: the optimum of a smooth penalty is centered anyway) are
        centered. ``b`` is zeros without an intercept column.
        """
        xp = namespace(coef)
        W = coef[:, :n_features]
        if self.fit_intercept:
            intercept = coef[:, n_features]
        else:
            intercept = xp.zeros(coef.shape[0], dtype=coef.dtype, device=device(coef))
        if not self.pinned_reference:
            intercept = intercept - xp.mean(intercept)
            if center_weights:
                W = W - xp.mean(W, axis=0)
        return xp.asarray(W, copy=True), xp.asarray(intercept, copy=True)
