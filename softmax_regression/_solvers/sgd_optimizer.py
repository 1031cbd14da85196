"""Minibatch SGD as a pure ``init`` / ``update`` pair over an explicit state.

The state holds everything the optimizer needs to continue where it stopped
(velocity, step count, learning rate, L1 bookkeeping), so ``partial_fit`` and a
warm-started ``fit`` resume exactly. ``update`` never modifies its inputs: it
returns new coefficients and a new state.
"""

from dataclasses import dataclass, replace

from .._utils.namespace import namespace
from .sgd_scaling import follow_intercept, precondition

SCHEDULES = ("constant", "invscaling", "adaptive")


@dataclass(frozen=True)
class SGDConfig:
    """Hyper-parameters of the update (see ``SoftmaxClassifier``)."""

    learning_rate: str = "adaptive"
    eta0: float = 0.1
    power_t: float = 0.5
    momentum: float = 0.9


@dataclass(frozen=True)
class SGDState:
    """Everything that carries over between updates.

    Attributes
    ----------
    velocity : ndarray
        Momentum buffer, shaped like the coefficients.
    step : int
        Updates taken so far.
    eta : float
        Base learning rate; the ``"adaptive"`` schedule lowers it.
    l1_total : float or ndarray of shape (n_weights,)
        Sum over all steps of ``learning rate * L1 strength`` (times the
        preconditioner's ``1 / s_j^2`` per column, when there is one): the L1
        shrinkage every weight would have received if it had stayed away from
        zero.
    l1_applied : ndarray
        Shrinkage actually applied to each weight so far (signed).
    """

    velocity: object
    step: int
    eta: float
    l1_total: float
    l1_applied: object


def sgd_init(coef, config):
    """A fresh state for coefficients shaped like ``coef``."""
    xp = namespace(coef)
    return SGDState(velocity=xp.zeros_like(coef), step=0, eta=float(config.eta0),
                    l1_total=0.0, l1_applied=xp.zeros_like(coef))


def current_learning_rate(state, config):
    """The step size of the next update under the configured schedule."""
    if config.learning_rate == "invscaling":
        return state.eta / (1.0 + state.step) ** config.power_t
    return state.eta


def sgd_update(gradient, state, coef, config, l1_strength, n_weights, scaling=None):
    """One momentum step on the smooth gradient, then the L1 shrinkage.

    ``velocity = momentum * velocity - eta * P gradient``, ``coef += velocity``,
    then the cumulative L1 shrinkage, after which the velocity is set to the
    step actually taken. ``P`` is the preconditioner of ``scaling``
    (:mod:`.sgd_scaling`), or the identity.

    Parameters
    ----------
    gradient : ndarray
        Minibatch gradient of the smooth part of the objective at ``coef``.
    state : SGDState
    coef : ndarray
    config : SGDConfig
    l1_strength : float or array of shape (1, n_weights)
        Weight of the L1 norm in the objective (0 for none), one per
        feature with penalty factors.
    n_weights : int
        Number of leading columns of ``coef`` that are penalized (the
        intercept column, if any, is not).
    scaling : Scaling or None, default=None
        Steps in standardized coordinates (see :mod:`.sgd_scaling`).

    Returns
    -------
    new_coef : ndarray
    new_state : SGDState
    """
    eta = current_learning_rate(state, config)
    velocity = config.momentum * state.velocity - eta * precondition(gradient, scaling, n_weights)
    new_coef = coef + velocity
    l1_total, l1_applied = state.l1_total, state.l1_applied
    if not (isinstance(l1_strength, (int, float)) and l1_strength == 0):
        # Cumulative L1 penalty (Tsuruoka et al., 2009): shrink each weight by
        # the total penalty it should have received so far, minus what it
        # already got, and never across zero. A weight that only drifts back
        # and forth around zero is held at exactly zero.
        xp = namespace(coef)
        # In standardized coordinates the L1 weight of column j is l1 / s_j,
        # which is a threshold l1 / s_j^2 back in the original ones.
        threshold = eta * l1_strength
        if scaling is not None:
            threshold = threshold * scaling.inverse_variance
        l1_total = l1_total + threshold
        W = new_coef[:, :n_weights]
        q = l1_applied[:, :n_weights]
        shrunk_positive = xp.clip(W - (l1_total + q), min=0.0)
        shrunk_negative = -xp.clip(-(W + (l1_total - q)), min=0.0)
        shrunk = xp.where(W > 0, shrunk_positive, xp.where(W < 0, shrunk_negative, W))
        l1_applied = xp.concat([q + (shrunk - W), l1_applied[:, n_weights:]], axis=1)
        new_coef = follow_intercept(
            new_coef, xp.concat([shrunk, new_coef[:, n_weights:]], axis=1), scaling, n_weights)
        # The momentum carries the step actually taken (proximal heavy ball):
        # a weight held at zero has no velocity that would push it off again.
        velocity = new_coef - coef
    new_state = replace(state, velocity=velocity, step=state.step + 1, l1_total=l1_total,
                        l1_applied=l1_applied)
    return new_coef, new_state


def lower_learning_rate(state, factor=2.0):
    """The ``"adaptive"`` schedule's response to a stalled objective."""
    return replace(state, eta=state.eta / factor)


def raise_learning_rate(state, factor=1.1):
    """The ``"adaptive"`` schedule's response to an epoch of steady progress."""
    return replace(state, eta=state.eta * factor)


def restart_momentum(state):
    """Zero the velocity (an adaptive restart), keeping everything else."""
    xp = namespace(state.velocity)
    return replace(state, velocity=xp.zeros_like(state.velocity))
