"""SGD in standardized coordinates: a preconditioner from the features' moments.

A step of SGD on standardized features ``x' = (x - mu) / s`` with coefficients
``W' = W * s``, ``b' = b + W mu`` is, mapped back to the original
coordinates, the step ``-eta P g`` with the fixed linear preconditioner

    dW = (G_W - g_b mu^T) / s^2,        db = g_b - dW mu

(``G_W`` the weight block of the gradient, ``g_b`` its intercept column, the
division per column). So SGD with ``P`` on raw data takes exactly the steps it
would take on the standardized data, and every step size that suits
standardized features suits any feature scale. ``P`` is symmetric positive
definite, so the fixed points, and the optimum, are those of the original
problem. The L1 part stays separable in these coordinates (``|W'_kj| / s_j``):
its proximal step uses the threshold ``eta * l1 / s_j^2`` per column, and the
intercept follows the prox's change of ``W`` so that ``b'`` is unchanged.

The moments are running weighted ones over every sample seen (``fit``: the
training data; ``partial_fit``: all calls so far, this call included), merged
with Chan et al.'s pairwise update. Without an intercept the features cannot
be centered: ``mu = 0`` and ``s`` is the root mean square.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._utils.compat import _convert_to_numpy
from .._utils.namespace import namespace
from ._overflow import overflow_error


@dataclass(frozen=True)
class FeatureMoments:
    """Weighted moments of the features seen so far (host, float64).

    Attributes
    ----------
    weight : float
        Total sample weight the moments cover.
    mean : ndarray of shape (n_features,)
    variance : ndarray of shape (n_features,)
        Weighted variance about ``mean``.
    """

    weight: float
    mean: object
    variance: object

    def merge(self, other):
        """The moments of both samples together (Chan, Golub and LeVeque).

        Only the share ``f`` of the new sample's weight enters, so weights
        near the largest float merge as well as unit ones.
        """
        share = other.weight / (self.weight + other.weight)
        if not np.isfinite(share):  # weights beyond float range: an equal split
            share = 0.5
        delta = other.mean - self.mean
        mean = self.mean + delta * share
        variance = ((1 - share) * self.variance + share * other.variance
                    + delta**2 * (share * (1 - share)))
        return FeatureMoments(self.weight + other.weight, mean, variance)


# Rows per block when the moments of dense X are taken.
_MOMENT_BLOCK_ROWS = 4096


def batch_moments(X, sample_weight, total_weight):
    """The :class:`FeatureMoments` of ``X`` under weights summing to one.

    ``total_weight`` is the weight these rows carry in the stream. Dense X is
    centered before squaring (no cancellation for features with a large
    offset); sparse X is never densified: its second moment is taken about
    zero, in float64.
    """
    if sp.issparse(X):
        w = np.asarray(sample_weight, dtype=np.float64)
        mean = np.asarray(X.T @ w, dtype=np.float64).ravel()
        square = np.asarray(X.multiply(X).T @ w, dtype=np.float64).ravel()
        variance = np.clip(square - mean**2, 0.0, None)
    else:
        xp = namespace(X)
        mean_x = sample_weight @ X
        # Centered squares block by block: the temporaries stay the size of
        # a block, never two copies of X.
        m2_x = xp.zeros_like(mean_x)
        n = X.shape[0]
        for start in range(0, n, _MOMENT_BLOCK_ROWS):
            stop = min(start + _MOMENT_BLOCK_ROWS, n)  # the array API has no stop past the end
            centered = X[start:stop, :] - mean_x
            m2_x = m2_x + sample_weight[start:stop] @ (centered * centered)
        mean = np.asarray(_convert_to_numpy(mean_x, xp), dtype=np.float64)
        variance = np.asarray(_convert_to_numpy(m2_x, xp), dtype=np.float64)
    return FeatureMoments(float(total_weight), mean, variance)


@dataclass(frozen=True)
class Scaling:
    """The preconditioner's arrays, in the coefficients' namespace and dtype.

    Attributes
    ----------
    mean : ndarray of shape (n_features,) or None
        Feature means (None without an intercept: no centering).
    inverse_variance : ndarray of shape (n_features,)
        ``1 / s_j^2``, with ``s_j^2`` the variance plus the L2 strength (1
        plus it for a feature that is constant in the data seen).
    """

    mean: object
    inverse_variance: object


def check_finite_moments(moments, like):
    """Raise the overflow error unless ``variance + mean^2`` fits in ``dtype``.

    Features of ~1e155 (float64) or ~1e20 (float32) have a variance beyond
    the floating-point range, and a running variance that is infinite once
    stays infinite: ``1 / s^2`` would be 0 and every later step would leave
    the weights where they are, silently. Neither ``fit`` nor a stream can
    take a step from such moments, so the call that brings them is refused
    (and the estimator is left as it was). A huge mean with no spread is
    refused as well: the centering ``G_W - g_b mu`` of such a feature loses
    every digit, and without an intercept ``variance + mean^2`` is the
    scale itself. The range is that of ``like``'s dtype (the coefficients'; the
    moments of float32 features are taken in float32), in its own namespace.
    """
    largest = float(namespace(like).finfo(like.dtype).max)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is the answer sought
        second = np.abs(moments.variance) + moments.mean**2
        overflowed = ~(np.isfinite(second) & (second <= largest))
    if np.any(overflowed):
        features = np.flatnonzero(overflowed)
        shown = features[:10].tolist() + (["..."] if len(features) > 10 else [])
        raise overflow_error(
            f"the second moment of feature(s) {shown} over the rows seen is beyond the "
            f"{like.dtype} range, so SGD's steps in standardized coordinates are "
            "undefined"
        )


def scaling_from(moments, center, like, l2_strength=0.0):
    """The :class:`Scaling` of ``moments``, as arrays like ``like``.

    ``center`` (an intercept is fitted) standardizes about the mean, else
    about zero. A feature with no spread gets ``s = 1``, as in
    ``StandardScaler``: it carries no information a step could use. The L2
    penalty's curvature is added to the variance, ``s^2 = var + l2``: in
    standardized coordinates the penalty on a feature of tiny spread has the
    curvature ``l2 / var``, which could exceed what a step of a size that
    suits the data can take (raw breast_cancer diverged without it).
    """
    check_finite_moments(moments, like)
    mean = moments.mean
    variance = moments.variance
    if not center:
        variance = variance + mean**2
    # Spread below float64 rounding of the mean is no spread at all.
    flat = variance <= 1e-24 * np.maximum(mean**2, 1.0)
    inverse_variance = 1.0 / (np.where(flat, 1.0, variance) + l2_strength)
    xp = namespace(like)
    device = getattr(like, "device", None)

    def convert(values):
        return xp.asarray(values, dtype=like.dtype, device=device) if device is not None \
            else xp.asarray(values, dtype=like.dtype)

    return Scaling(mean=convert(mean) if center else None,
                   inverse_variance=convert(inverse_variance))


def precondition(gradient, scaling, n_weights):
    """``P g``: the gradient mapped to the step of standardized SGD (module docstring)."""
    if scaling is None:
        return gradient
    xp = namespace(gradient)
    G = gradient[:, :n_weights]
    if scaling.mean is None:
        return xp.concat([G * scaling.inverse_variance, gradient[:, n_weights:]], axis=1)
    g_b = gradient[:, n_weights]
    step_W = (G - g_b[:, None] * scaling.mean) * scaling.inverse_variance
    step_b = g_b - step_W @ scaling.mean
    return xp.concat([step_W, step_b[:, None]], axis=1)


def follow_intercept(coef_before, coef_after, scaling, n_weights):
    """Keep the standardized intercept ``b' = b + W mu`` through a change of ``W``.

    Used after the L1 prox, which moves only ``W``: in standardized
    coordinates it leaves ``b'`` alone, so ``b`` moves by ``-dW mu``.
    """
    if scaling is None or scaling.mean is None:
        return coef_after
    xp = namespace(coef_after)
    change = coef_after[:, :n_weights] - coef_before[:, :n_weights]
    intercept = coef_after[:, n_weights] - change @ scaling.mean
    return xp.concat([coef_after[:, :n_weights], intercept[:, None]], axis=1)


def standardized_optimality(problem, coef, G, scaling):
    """The optimality measure of the problem in standardized coordinates.

    The gradient with respect to ``W' = W * s`` is ``(G_W - g_b mu^T) / s``
    and the L1 weight of ``W'_kj`` is ``l1 / s_j``, so the distance to the
    subdifferential is the original one divided by ``s_j`` after moving the
    intercept's gradient out of ``G_W``. A measure that does not depend on the
    features' units, for deciding whether a stop is near the optimum.
    """
    if scaling is None:
        return problem.optimality(coef, G)
    xp = namespace(G)
    d = problem.n_features
    inverse_s = xp.sqrt(scaling.inverse_variance)
    G_W = G[:, :d]
    if scaling.mean is not None:
        G_W = G_W - G[:, d][:, None] * scaling.mean
    W = coef[:, :d]
    violation = problem.penalty.subgradient_distance(W, G_W) * inverse_s if d else None
    worst = float(xp.max(violation)) if d else 0.0
    if problem.loss.fit_intercept:
        worst = max(worst, float(xp.max(xp.abs(G[:, d]))))
    return worst
