"""Penalties on the weight matrix ``W`` (never on the intercept).

A penalty is split into a smooth part (the squared L2 norm), which the smooth
solvers add to the loss, and a non-smooth part (the L1 norm), handled by a
proximal step or a bound-constrained reformulation. Every penalty reports the
same optimality measure, which all solvers use to decide convergence: the
largest distance of ``-gradient`` of the smooth part to the subdifferential of
the non-smooth part, over all coefficients.
"""

import math

import numpy as np

from .._utils.compat import device
from .._utils.namespace import namespace


class ElasticNet:
    """``l1_strength * ||W f||_1 + l2_strength / 2 * ||W sqrt(f)||_F^2``.

    Parameters
    ----------
    l1_strength : float
        Weight of the L1 norm, ``>= 0``.
    l2_strength : float
        Weight of half the squared Frobenius norm, ``>= 0``.
    factor : ndarray of shape (n_features,) or None
        Per-feature multipliers ``f`` of both parts (0 leaves a feature
        unpenalized), host float64; None means all ones.
    """

    def __init__(self, l1_strength=0.0, l2_strength=0.0, factor=None):
        self.l1_strength = float(l1_strength)
        self.l2_strength = float(l2_strength)
        self.factor = None if factor is None else np.asarray(factor, dtype=np.float64)

    def _f(self, W):
        """The factors as a row broadcasting over ``W`` (1.0 without factors)."""
        if self.factor is None:
            return 1.0
        xp = namespace(W)
        if isinstance(W, np.ndarray):
            return self.factor.astype(W.dtype, copy=False)[None, :]
        return xp.asarray(self.factor, dtype=W.dtype, device=device(W))[None, :]

    def factor_row(self, n_features):
        """The factors as a host float64 vector of length ``n_features``."""
        if self.factor is None:
            return np.ones(n_features)
        return self.factor

    def l1_weights(self, like):
        """The L1 strength, or with factors one per feature as a row like ``like``'s arrays."""
        if not self.l1_strength or self.factor is None:
            return self.l1_strength
        row = self.l1_strength * self.factor[None, :]
        if isinstance(like, np.ndarray) or not hasattr(like, "device"):
            return np.asarray(row, dtype=like.dtype)
        return namespace(like).asarray(row, dtype=like.dtype, device=device(like))

    def l2_weights(self):
        """The L2 strength, or with factors one per feature (host float64)."""
        if self.factor is None:
            return self.l2_strength
        return self.l2_strength * self.factor

    @property
    def is_zero(self):
        return self.l1_strength == 0.0 and self.l2_strength == 0.0

    @property
    def is_smooth(self):
        return self.l1_strength == 0.0

    def _weighted_sum(self, A):
        """``sum(A * f)`` as a float (NumPy directly: the solvers call it per step)."""
        if self.factor is not None:
            A = A * self._f(A)
        if isinstance(A, np.ndarray):
            return float(A.sum())
        return float(namespace(A).sum(A))

    def _scaled(self, W):
        return W if self.factor is None else W * self._f(W)

    def value(self, W):
        value = 0.0
        if self.l2_strength:
            value += 0.5 * self.l2_strength * self._weighted_sum(W * W)
        if self.l1_strength:
            absolute = abs(W) if isinstance(W, np.ndarray) else namespace(W).abs(W)
            value += self.l1_strength * self._weighted_sum(absolute)
        return value

    def smooth_value(self, W):
        if not self.l2_strength:
            return 0.0
        return 0.5 * self.l2_strength * self._weighted_sum(W * W)

    def smooth_gradient(self, W):
        return self.l2_strength * self._scaled(W)

    def smooth_hessian_product(self, V):
        return self.l2_strength * self._scaled(V)

    def prox(self, W, step):
        """Proximal operator of ``step`` times the non-smooth part: soft-thresholding."""
        if not self.l1_strength:
            return W
        xp = namespace(W)
        threshold = step * self.l1_strength * self._f(W)
        return xp.sign(W) * xp.clip(xp.abs(W) - threshold, min=0.0)

    def subgradient_distance(self, W, G):
        """Elementwise distance of ``-G`` to the subdifferential of the L1 part.

        ``G`` is the gradient of the smooth part of the objective at ``W``.
        Where ``W != 0`` the subdifferential is the point ``l1 * sign(W)``;
        where ``W == 0`` it is the interval ``[-l1, l1]``.
        """
        xp = namespace(G)
        if not self.l1_strength:
            return xp.abs(G)
        l1 = self.l1_strength * self._f(G)
        at_zero = xp.clip(xp.abs(G) - l1, min=0.0)
        off_zero = xp.abs(G + l1 * xp.sign(W))
        return xp.where(W == 0, at_zero, off_zero)

    def __repr__(self):
        return (
            f"{type(self).__name__}(l1_strength={self.l1_strength!r}, "
            f"l2_strength={self.l2_strength!r}"
            + ("" if self.factor is None else f", factor={self.factor!r}") + ")"
        )


class L2(ElasticNet):
    """``strength / 2 * ||W||_F^2`` (ridge)."""

    def __init__(self, strength, factor=None):
        super().__init__(l1_strength=0.0, l2_strength=strength, factor=factor)


class L1(ElasticNet):
    """``strength * ||W||_1`` (lasso)."""

    def __init__(self, strength, factor=None):
        super().__init__(l1_strength=strength, l2_strength=0.0, factor=factor)


# Strengths are clamped here: beyond it the weights are below 1e-300 times
# the gradient whatever the exact strength, and the estimator answers such a
# penalty-dominated problem in closed form (``_fitting/prior_model.py``)
# rather than letting a solver compute with numbers near overflow.
MAX_STRENGTH = 1e300


def penalty_from_params(C, l1_ratio, *total_weight, factor=None):
    """The penalty of the estimator's objective, divided by the total sample weight.

    Solvers minimize the objective divided by the total sample weight (as
    scikit-learn does), so that ``tol`` does not depend on the data size.
    ``C = inf`` means no penalty, whatever ``l1_ratio`` says. The total
    weight may be given as several factors (say the largest weight and the
    sum of the weights divided by it): the scale ``1 / (C * total)`` is formed
    in logarithms, so it neither overflows nor warns for any ``C`` and weights;
    it is clamped at :data:`MAX_STRENGTH` (``C=5e-324``, weights of 1e-320).
    ``factor`` (host float64, one per feature, or None) multiplies each
    feature's penalty, as the estimators' ``penalty_factor``.
    """
    C = float(C)
    if C == math.inf:
        return ElasticNet(0.0, 0.0)
    factors = [float(f) for f in total_weight]
    log_scale = -(math.log(C) + sum(math.log(f) for f in factors))
    # 0.0 when it underflows: no penalty in effect.
    scale = math.exp(min(log_scale, math.log(MAX_STRENGTH)))
    if l1_ratio == 0.0:
        return L2(scale, factor)
    if l1_ratio == 1.0:
        return L1(scale, factor)
    return ElasticNet(l1_strength=l1_ratio * scale, l2_strength=(1 - l1_ratio) * scale,
                      factor=factor)
