"""The optimization problem a solver sees: data, loss and penalty together."""

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np
import scipy.sparse as sp

from .._utils.compat import get_namespace_and_device
from .loss import LinearSoftmaxLoss
from .._utils.arrays import with_values
from .._utils.namespace import namespace
from .penalties import ElasticNet


# The largest X (in bytes) of which a problem keeps a transposed copy: as the
# Hessian's cache of X (see _model/hessian.py), small tables only.
TRANSPOSED_BYTES = 2**22
# A float32 copy of float64 X is faithful where rounding moves no value by more
# than about 6e-5 of its column's spread: no value beyond this multiple of it.
SINGLE_PRECISION_SPREAD = 1e3


@dataclass(frozen=True)
class SoftmaxProblem:
    """Minimize ``sum_i w_i CE_i(coef) + penalty(W)`` over a 2-D ``coef``.

    ``sample_weight`` is normalized to sum to one and the penalty is divided
    by the same total (see :func:`~._penalties.penalty_from_params`), so the
    objective is a weighted mean and ``tol`` is scale-free. The coefficient
    layout is :class:`~._loss.LinearSoftmaxLoss`'s.

    Parameters
    ----------
    X : ndarray or scipy sparse matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_logits)
        Targets of the free logits (one-hot, or soft: rows of a distribution),
        in X's dtype.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative, summing to one, in X's dtype.
    loss : LinearSoftmaxLoss
    penalty : ElasticNet
    offset : ndarray of shape (n_samples, n_logits) or None
        A fixed part of the logits, in X's dtype.
    """

    X: object
    Y: object
    sample_weight: object
    loss: LinearSoftmaxLoss
    penalty: ElasticNet
    offset: object = None

    def rows(self, take, **changes):
        """The problem on a subset of rows: ``take(array)`` picks them.

        ``changes`` replace fields outright (the subset's sample weights).
        """
        fields = {"X": take(self.X), "Y": take(self.Y),
                  "sample_weight": take(self.sample_weight),
                  "offset": None if self.offset is None else take(self.offset)}
        fields.update(changes)
        return replace(self, **fields)

    def __getstate__(self):
        # The cached namespace is a module: pickles carry the arrays only.
        state = dict(self.__dict__)
        state.pop("namespace_and_device", None)
        state.pop("transposed_X", None)
        state.pop("_copies", None)
        return state

    @cached_property
    def namespace_and_device(self):
        """The array namespace and device of the problem's arrays."""
        xp, _, device = get_namespace_and_device(self.Y)
        return xp, device

    def with_penalty(self, penalty):
        """The same data under another penalty (a path over C).

        It shares the copy of ``X.T`` and, once made, the float32 copy of the
        data (:meth:`single_precision`): a path makes each once.
        """
        other = replace(self, penalty=penalty)
        other.__dict__["transposed_X"] = self.transposed_X
        other.__dict__["_copies"] = self._copies
        return other

    @cached_property
    def _copies(self):
        """Copies of the data made on demand, shared by the problems of one path."""
        return {}

    @cached_property
    def transposed_X(self):
        """A C-contiguous copy of ``X.T`` for small dense NumPy X, else None.

        The first product of every pass, ``W X^T``, runs about twice as fast
        on it (digits: 31 us against 61 us per pass, float32 16 against 70).
        Kept only up to :data:`TRANSPOSED_BYTES`, so that a large X is never
        copied; built on the first pass of the problem.
        """
        X = self.X
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.nbytes <= TRANSPOSED_BYTES:
            return np.ascontiguousarray(X.T)
        return None

    def single_precision(self, max_bytes=TRANSPOSED_BYTES):
        """This problem in float32: a first phase of a float64 solve (a small copy), or None.

        A pass in float32 takes about half the time of one in float64 (sparse
        X: about two thirds); the float64 problem then finishes the solve.
        Offered only where the copy is small and faithful. Small: dense
        float64 X of at most ``max_bytes`` (any array namespace; a path of
        fits, whose points share the copy, allows more than one fit), or
        CSR/CSC X, whose copy holds the values only (the index arrays are
        shared: a third of X's storage at most); no offset. Faithful: every
        value finite in float32 and none beyond
        :data:`SINGLE_PRECISION_SPREAD` times its column's spread (a column
        like ``1e6 + noise`` would lose its variation).
        """
        X = self.X
        if not sp.issparse(X) and X.ndim == 2 and X.shape[0] * X.shape[1] * 8 > max_bytes:
            return None
        if "single" not in self._copies:
            self._copies["single"] = self._single_precision()
        single = self._copies["single"]
        if single is None or single.penalty is self.penalty:
            return single
        return single.with_penalty(self.penalty)

    def _single_precision(self):
        X = self.X
        xp, _ = self.namespace_and_device
        if self.offset is not None or X.ndim != 2 or X.dtype != xp.float64:
            return None
        if sp.issparse(X):
            single = _sparse_single(X)
        elif X.shape[0] * X.shape[1] > 0:
            single = _dense_single(X, xp)
        else:
            single = None
        if single is None:
            return None
        return replace(self, X=single, Y=xp.astype(self.Y, xp.float32),
                       sample_weight=xp.astype(self.sample_weight, xp.float32))

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def dtype(self):
        return self.X.dtype

    @property
    def coef_shape(self):
        return self.loss.coef_shape(self.n_features)

    def weights(self, coef):
        """The penalized block ``W`` of ``coef`` (the intercept column excluded)."""
        return coef[:, : self.n_features]

    def _with_penalty_block(self, G, penalty_block):
        if isinstance(G, np.ndarray):
            out = np.array(G, dtype=np.result_type(G, penalty_block))
            out[:, : penalty_block.shape[1]] += penalty_block
            return out
        if self.loss.fit_intercept:
            xp = namespace(G)
            zeros = xp.zeros_like(G[:, -1:])
            penalty_block = xp.concat([penalty_block, zeros], axis=1)
        return G + penalty_block

    def objective(self, coef):
        """Full objective: loss plus smooth and non-smooth penalty."""
        loss = self.loss.loss(coef, self.X, self.Y, self.sample_weight, self.offset,
                              self.transposed_X)
        return loss + self.penalty.value(self.weights(coef))

    def add_smooth_penalty(self, value, G, coef):
        """Add the smooth (L2) penalty's value and gradient at ``coef`` to the loss's.

        Works on any namespace: the scipy solvers call it on host copies of
        the coefficients and gradient, which saves device round trips.
        """
        if not self.penalty.l2_strength:
            return value, G
        if (isinstance(G, np.ndarray) and isinstance(coef, np.ndarray)
                and G.dtype == coef.dtype == np.float64 and coef.shape == self.coef_shape):
            # The solvers' host copies (an evaluation of a scipy solver each):
            # three operations on the whole coefficients instead of a dozen
            # on their blocks, the intercepts' strength 0.
            gradient = self.smooth_strengths * coef
            return value + 0.5 * float(np.vdot(gradient, coef)), G + gradient
        W = self.weights(coef)
        value = value + self.penalty.smooth_value(W)
        return value, self._with_penalty_block(G, self.penalty.smooth_gradient(W))

    @cached_property
    def coefficient_factors(self):
        """Each coefficient's penalty factor, in ``coef``'s shape (0 for intercepts).

        Host float64, read-only: the solvers share it.
        """
        factors = np.zeros(self.coef_shape)
        factors[:, : self.n_features] = self.penalty.factor_row(self.n_features)
        factors.setflags(write=False)
        return factors

    @cached_property
    def smooth_strengths(self):
        """Each coefficient's L2 strength (its factor times the penalty's), read-only."""
        strengths = self.penalty.l2_strength * self.coefficient_factors
        strengths.setflags(write=False)
        return strengths

    def add_smooth_penalty_hessp(self, HV, V):
        """Add the smooth penalty's Hessian times ``V`` to the loss's ``HV``."""
        if not self.penalty.l2_strength:
            return HV
        return self._with_penalty_block(HV, self.penalty.smooth_hessian_product(self.weights(V)))

    def loss_gradient(self, coef):
        """The loss's value and gradient (no penalty), from one pass over the data."""
        return self.loss.loss_gradient(coef, self.X, self.Y, self.sample_weight, self.offset,
                                       self.transposed_X)

    def smooth_value_gradient(self, coef):
        """Value and gradient of loss plus the smooth (L2) part of the penalty."""
        value, G = self.loss_gradient(coef)
        return self.add_smooth_penalty(value, G, coef)

    def loss_gradient_hessp(self, coef):
        """The loss's value, gradient and Hessian-vector closure (no penalty)."""
        return self.loss.loss_gradient_hessian_product(coef, self.X, self.Y, self.sample_weight,
                                                       self.offset, self.transposed_X)

    def class_totals(self):
        """Total (normalized) sample weight of each class, as a host NumPy array."""
        return self.loss.class_totals(self.Y, self.sample_weight)

    def initial_coef(self):
        """``W = 0`` with the intercepts at the log class priors, in the problem's arrays.

        The optimum of the model with ``W = 0``: usually much closer to the
        solution than all zeros.
        """
        xp, device = self.namespace_and_device
        coef = np.zeros(self.coef_shape)
        if self.loss.fit_intercept:
            coef[:, self.n_features] = self.loss.prior_intercepts(self.class_totals())
        return xp.asarray(coef, dtype=self.dtype, device=device)

    def optimality(self, coef, G):
        """Largest violation of the first-order optimality conditions.

        ``G`` is the smooth gradient at ``coef``. Zero exactly at a minimizer;
        this is the quantity every solver compares with ``tol``.
        """
        d = self.n_features
        if isinstance(G, np.ndarray) and self.penalty.is_smooth:
            # Every entry's violation is its size (the solvers call this
            # once per iteration; numpy's methods cost less than the
            # namespace's functions).
            return float(np.abs(G).max()) if G.size else 0.0
        xp = namespace(G)
        violation = float(
            xp.max(self.penalty.subgradient_distance(coef[:, :d], G[:, :d]))
        ) if d else 0.0
        if self.loss.fit_intercept:
            violation = max(violation, float(xp.max(xp.abs(G[:, d]))))
        return violation

    def separates(self, coef):
        """Whether ``coef`` separates the weighted samples (see the loss)."""
        return self.loss.separates(coef, self.X, self.Y, self.sample_weight, self.offset)


def _unfaithful(xp, high, low):
    """Whether a column of these extremes would lose its variation in float32."""
    largest, spread = xp.maximum(xp.abs(high), xp.abs(low)), high - low
    return bool(xp.any((largest > SINGLE_PRECISION_SPREAD * spread) & (spread > 0)))


def _dense_single(X, xp):
    """A faithful C-ordered float32 copy of dense X, or None."""
    with np.errstate(over="ignore"):
        # C order whatever X's: the float32 phase then rounds the same for
        # a Fortran-ordered array or a data frame as for a C-ordered one.
        single = (np.ascontiguousarray(X, dtype=np.float32) if isinstance(X, np.ndarray)
                  else xp.astype(X, xp.float32))
    if not bool(xp.all(xp.isfinite(single))):
        return None
    return None if _unfaithful(xp, xp.max(X, axis=0), xp.min(X, axis=0)) else single


def _sparse_single(X):
    """CSR/CSC X with float32 values and X's own index arrays, if faithful; else None.

    A column with an implicit zero spreads at least as far as its largest
    value reaches, so only columns stored in every row need their extremes,
    which are read in place (no copy of X). Entries are rounded one by one:
    duplicates that cancel (``1e8 + v`` and ``-1e8``) lose ``v`` in float32,
    which only slows the float32 phase (the float64 one judges the stop, and
    a stalled float32 phase hands over to it); finding them would take a
    sorted copy of the indices of every unsorted X (text vectorizers').
    """
    if X.format not in ("csr", "csc"):
        return None
    with np.errstate(over="ignore"):
        values = X.data.astype(np.float32)
    if not np.all(np.isfinite(values)):
        return None
    n_samples, n_features = X.shape
    if X.format == "csr":
        stored = np.bincount(X.indices, minlength=n_features)
    else:
        stored = np.diff(X.indptr)
    full = stored == n_samples
    if full.any():
        high, low = np.full(n_features, -np.inf), np.full(n_features, np.inf)
        if X.format == "csr":
            np.maximum.at(high, X.indices, X.data)
            np.minimum.at(low, X.indices, X.data)
        else:
            starts = X.indptr[:-1][stored > 0]
            high[stored > 0] = np.maximum.reduceat(X.data, starts)
            low[stored > 0] = np.minimum.reduceat(X.data, starts)
        if _unfaithful(np, high[full], low[full]):
            return None
    return with_values(X, values)
