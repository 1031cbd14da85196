"""What SGD does after each epoch (``fit``) or call (``partial_fit``).

Two rules, each a small function of an immutable :class:`Monitor`: the epoch
rule of ``fit`` compares objectives of the same data from epoch to epoch; the
stream rule of ``partial_fit`` cannot (each call sees other rows, and a stream
sorted by class drifts from one class to the next), so it judges divergence on
a running average of the calls' objectives and never lowers the rate for a
mere stall.
"""

import math
from dataclasses import dataclass, replace

from .._utils.namespace import namespace
from .sgd_optimizer import lower_learning_rate, raise_learning_rate, restart_momentum

# Below this base learning rate the adaptive schedule gives up (as in
# scikit-learn's SGD): further epochs cannot move the coefficients.
MIN_ETA = 1e-6
# An epoch objective above this multiple of the lowest one means divergence.
DIVERGED = 1.5
# Stream rule: the running average of the calls' objectives follows each new
# call with this weight (about the last ten calls).
STREAM_AVERAGING = 0.1
# Stream rule: a running average above this multiple of both its lowest value
# and log(n_classes) (the objective of a uniform prediction) is divergence. A
# class-sorted stream's drift stays far below it (measured over 20 passes in
# chunks of 50: at most 5.6x on standardized digits, 1.0x on penguins), while
# the divergent streams of issue 13 reached objectives of ~1e5.
STREAM_DIVERGED = 100.0


@dataclass(frozen=True)
class Monitor:
    """Progress of the stopping rule, carried between epochs (and calls).

    ``best`` is the lowest training objective, or the highest validation
    accuracy with early stopping; ``stalls`` counts epochs since ``best``
    last moved more than ``tol`` away from ``anchor``. With early stopping
    ``best_coef`` keeps the coefficients that scored ``best``.
    ``last_objective`` is the previous epoch's training objective (in a
    stream: the running average of the calls' objectives),
    ``lowest_objective`` the lowest one and ``lowest_coef`` the coefficients
    after that epoch (the point to return to if the steps diverge).
    """

    best: float | None = None
    anchor: float | None = None
    stalls: int = 0
    best_coef: object = None
    stopped: bool = False
    last_objective: float | None = None
    lowest_objective: float | None = None
    lowest_coef: object = None


def _copy(array):
    xp = namespace(array)
    return xp.asarray(array, copy=True)


def update_monitor(monitor, score, coef, tol, n_iter_no_change, higher_is_better):
    """Record one epoch's score; returns (monitor, stalled).

    Progress is counted over a window: the best score must move by more than
    ``tol`` from where it stood when the window opened (``anchor``). Slow but
    steady progress (several epochs adding up to more than ``tol``) is not a
    stall; ``n_iter_no_change`` epochs that together gain at most ``tol`` are.
    """
    sign = 1.0 if higher_is_better else -1.0
    if monitor.best is None:
        return replace(monitor, best=score, anchor=score, stalls=0,
                       best_coef=_copy(coef) if higher_is_better else None), False
    if sign * (score - monitor.best) > 0:
        monitor = replace(monitor, best=score,
                          best_coef=_copy(coef) if higher_is_better else None)
    if sign * (monitor.best - monitor.anchor) > tol:
        return replace(monitor, anchor=monitor.best, stalls=0), False
    stalls = monitor.stalls + 1
    return replace(monitor, stalls=stalls), stalls >= n_iter_no_change


def epoch_rule(optimizer, monitor, coef, objective, score, learning_rate, tol,
               n_iter_no_change, stop_on_stall=None):
    """The rule of ``fit`` after an epoch; returns (optimizer, monitor, stop, coef, floor).

    The rule watches the validation accuracy ``score`` when there is one,
    else the training objective. Whatever the schedule, an epoch that raises
    the training objective restarts the momentum (its oscillations decay like
    ``momentum ** (steps / 2)``, whatever the rate), and one whose objective
    exceeds 1.5 times the lowest so far (or overflows) returns to the
    coefficients of that lowest epoch (the steps diverged). The adaptive
    schedule also raises the rate by 10% after each epoch of progress (steady
    progress means the steps are too short, not too noisy), halves it after a
    divergence or after ``n_iter_no_change`` epochs without progress, and
    stops once it falls below 1e-6 (``floor`` is then True: a stop that is not
    convergence). The other schedules stop at the first stall.
    ``stop_on_stall=True`` stops at the first stall whatever the schedule.
    """
    previous = monitor.last_objective
    if score is not None:
        monitor, stalled = update_monitor(monitor, score, coef, tol, n_iter_no_change,
                                          higher_is_better=True)
    else:
        monitor, stalled = update_monitor(monitor, objective, coef, tol, n_iter_no_change,
                                          higher_is_better=False)
    monitor = replace(monitor, last_objective=objective)
    if monitor.lowest_objective is None or objective < monitor.lowest_objective:
        monitor = replace(monitor, lowest_objective=objective, lowest_coef=_copy(coef))
    diverged = objective > DIVERGED * monitor.lowest_objective + tol
    if diverged:
        coef = monitor.lowest_coef
    if diverged or (previous is not None and objective > previous):
        optimizer = restart_momentum(optimizer)
    adaptive = learning_rate == "adaptive"
    if stop_on_stall is None:
        stop_on_stall = not adaptive
    stop = stalled and stop_on_stall or diverged and not adaptive
    floor = False
    if adaptive and not stop:
        if diverged or stalled:
            optimizer = lower_learning_rate(optimizer)
            monitor = replace(monitor, stalls=0)
            stop = floor = optimizer.eta < MIN_ETA
        elif monitor.stalls == 0:
            optimizer = raise_learning_rate(optimizer)
    return optimizer, monitor, stop, coef, floor


def stream_rule(optimizer, monitor, coef, start_coef, objective, n_classes):
    """The rule of ``partial_fit`` after a call; returns (optimizer, monitor, coef).

    An overflowing call (``objective`` infinite) returns to ``start_coef``;
    a running average of the calls' objectives above ``STREAM_DIVERGED``
    times both its lowest value and ``log(n_classes)`` returns to the
    coefficients where that average was lowest. Either halves the rate and
    restarts the momentum. Nothing else changes the rate: a stall of a
    stream is no evidence that the steps are too long (the next rows may
    differ), and a decaying schedule already decays with the steps taken.
    """
    if not math.isfinite(objective):
        optimizer = restart_momentum(lower_learning_rate(optimizer))
        return optimizer, monitor, start_coef
    average = objective if monitor.last_objective is None else (
        monitor.last_objective + STREAM_AVERAGING * (objective - monitor.last_objective))
    monitor = replace(monitor, last_objective=average)
    if monitor.lowest_objective is None or average < monitor.lowest_objective:
        return optimizer, replace(monitor, lowest_objective=average,
                                  lowest_coef=_copy(coef)), coef
    reference = max(monitor.lowest_objective, math.log(max(n_classes, 2)))
    if average > STREAM_DIVERGED * reference:
        optimizer = restart_momentum(lower_learning_rate(optimizer))
        # Start the average again from the point returned to.
        monitor = replace(monitor, last_objective=monitor.lowest_objective)
        return optimizer, monitor, monitor.lowest_coef
    return optimizer, monitor, coef
