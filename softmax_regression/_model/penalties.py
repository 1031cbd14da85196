"""Penalties on the weight matrix ``W`` (never on the intercept).

A penalty is split into a smooth part (the squared L2 norm), which the smooth
solvers add to the loss, and a non-smooth part (the L1 norm), handled by a
proximal step or a bound-constrained reformulation. Every penalty reports the
same optimality measure, which all solvers use to decide convergence: the
largest distance of ``-gradient`` of the smooth part to the subdifferential of
the non-smooth part, over all coefficients.
"""

import math

from .._utils.namespace import namespace


class ElasticNet:
    """``l1_strength * ||W||_1 + l2_strength / 2 * ||W||_F^2``.

    Parameters
    ----------
    l1_strength : float
        Weight of the L1 norm, ``>= 0``.
    l2_strength : float
        Weight of half the squared Frobenius norm, ``>= 0``.
    """

    def __init__(self, l1_strength=0.0, l2_strength=0.0):
        self.l1_strength = float(l1_strength)
        self.l2_strength = float(l2_strength)

    @property
    def is_zero(self):
        return self.l1_strength == 0.0 and self.l2_strength == 0.0

    @property
    def is_smooth(self):
        return self.l1_strength == 0.0

    def value(self, W):
        xp = namespace(W)
        value = 0.0
        if self.l2_strength:
            value += 0.5 * self.l2_strength * float(xp.sum(W * W))
        if self.l1_strength:
            value += self.l1_strength * float(xp.sum(xp.abs(W)))
        return value

    def smooth_value(self, W):
        xp = namespace(W)
        if not self.l2_strength:
            return 0.0
        return 0.5 * self.l2_strength * float(xp.sum(W * W))

    def smooth_gradient(self, W):
        return self.l2_strength * W

    def smooth_hessian_product(self, V):
        return self.l2_strength * V

    def prox(self, W, step):
        """Proximal operator of ``step`` times the non-smooth part: soft-thresholding."""
        if not self.l1_strength:
            return W
        xp = namespace(W)
        threshold = step * self.l1_strength
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
        l1 = self.l1_strength
        at_zero = xp.clip(xp.abs(G) - l1, min=0.0)
        off_zero = xp.abs(G + l1 * xp.sign(W))
        return xp.where(W == 0, at_zero, off_zero)

    def __repr__(self):
        return (
            f"{type(self).__name__}(l1_strength={self.l1_strength!r}, "
            f"l2_strength={self.l2_strength!r})"
        )


class L2(ElasticNet):
    """``strength / 2 * ||W||_F^2`` (ridge)."""

    def __init__(self, strength):
        super().__init__(l1_strength=0.0, l2_strength=strength)


class L1(ElasticNet):
    """``strength * ||W||_1`` (lasso)."""

    def __init__(self, strength):
        super().__init__(l1_strength=strength, l2_strength=0.0)


# Strengths are clamped here: beyond it the weights are below 1e-300 times
# the gradient whatever the exact strength, and the estimator answers such a
# penalty-dominated problem in closed form (``_fitting/prior_model.py``)
# rather than letting a solver compute with numbers near overflow.
MAX_STRENGTH = 1e300


def penalty_from_params(C, l1_ratio, *total_weight):
    """The penalty of the estimator's objective, divided by the total sample weight.

    Solvers minimize the objective divided by the total sample weight (as
    scikit-learn does), so that ``tol`` does not depend on the data size.
    ``C = inf`` means no penalty, whatever ``l1_ratio`` says. The total
    weight may be given as several factors (say the largest weight and the
    sum of the weights divided by it): the scale ``1 / (C * total)`` is formed
    in logarithms, so it neither overflows nor warns for any ``C`` and weights;
    it is clamped at :data:`MAX_STRENGTH` (``C=5e-324``, weights of 1e-320).
    """
    C = float(C)
    if C == math.inf:
        return ElasticNet(0.0, 0.0)
    factors = [float(f) for f in total_weight]
    log_scale = -(math.log(C) + sum(math.log(f) for f in factors))
    # 0.0 when it underflows: no penalty in effect.
    scale = math.exp(min(log_scale, math.log(MAX_STRENGTH)))
    if l1_ratio == 0.0:
        return L2(scale)
    if l1_ratio == 1.0:
        return L1(scale)
    return ElasticNet(l1_strength=l1_ratio * scale, l2_strength=(1 - l1_ratio) * scale)
