"""Minibatch SGD epochs over a SoftmaxProblem, with the stopping rules."""

import copy
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from ._result import SolverResult
from .sgd_optimizer import (
    SGDConfig,
    current_learning_rate,
    lower_learning_rate,
    raise_learning_rate,
    sgd_init,
    sgd_update,
)

# Below this base learning rate the adaptive schedule gives up (as in
# scikit-learn's SGD): further epochs cannot move the coefficients.
_MIN_ETA = 1e-6
# An epoch objective this far (relative) above the best one means that the
# learning rate has grown past stability.
_BLOW_UP = 1.0


@dataclass(frozen=True)
class Monitor:
    """Progress of the stopping rule, carried between epochs (and calls).

    ``best`` is the lowest training objective, or the highest validation
    accuracy with early stopping; ``stalls`` counts epochs since it last
    improved by more than ``tol``. With early stopping ``best_coef`` keeps the
    coefficients that scored ``best``.
    """

    best: float | None = None
    stalls: int = 0
    best_coef: object = None
    stopped: bool = False


@dataclass(frozen=True)
class StreamState:
    """The fitted state of the SGD solver: optimizer, stopping rule, random stream."""

    optimizer: object
    monitor: Monitor = field(default_factory=Monitor)
    random_state: object = None
    n_samples_seen: int = 0
    weight_seen: float = 0.0


def class_index(problem):
    """Class indices recovered from the problem's one-hot targets."""
    if problem.loss.pinned_reference:
        return problem.Y[:, 0].astype(np.intp)
    return np.argmax(problem.Y, axis=1)


def weighted_accuracy(problem, coef):
    Z = problem.loss.logits(coef, problem.X)
    if problem.loss.pinned_reference:
        predicted = (Z[:, 0] > 0).astype(np.intp)
    else:
        predicted = np.argmax(Z, axis=1)
    correct = predicted == class_index(problem)
    return float(np.sum(problem.sample_weight * correct) / np.sum(problem.sample_weight))


def subproblem(problem, rows):
    """The problem restricted to ``rows``, weights renormalized to sum to one."""
    weights = problem.sample_weight[rows]
    total = weights.sum()
    return replace(problem, X=problem.X[rows], Y=problem.Y[rows],
                   sample_weight=weights / total if total > 0 else weights)


def split_validation(problem, fraction, rng):
    """Stratified random split of the rows into training and validation parts."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(problem.X.shape[0])
    y = class_index(problem)
    try:
        train, valid = train_test_split(rows, test_size=fraction, stratify=y, random_state=rng)
    except ValueError:  # too few samples in some class to stratify
        train, valid = train_test_split(rows, test_size=fraction, random_state=rng)
    return subproblem(problem, np.sort(train)), subproblem(problem, np.sort(valid))


def run_epoch(problem, coef, state, config, batch_size, shuffle):
    """One pass over ``problem`` in minibatches; returns (coef, state, objective).

    The minibatch gradient is ``n / b * sum_{i in B} w_i grad CE_i`` plus the
    gradient of the smooth penalty, with ``b = min(batch_size, n)``: with
    weights ``w`` summing to one it is an unbiased estimate of the full
    gradient for every full batch. The returned objective is the
    average of the minibatch objectives met during the epoch (no extra pass).
    """
    X, Y, w = problem.X, problem.Y, problem.sample_weight
    n = X.shape[0]
    rng = state.random_state
    order = rng.permutation(n) if shuffle else np.arange(n)
    penalty = problem.penalty
    d = problem.n_features
    optimizer = state.optimizer
    total = 0.0
    # Every batch weighs its samples by n / batch_size, so that a short last
    # batch takes a proportionally short step instead of a full step on a
    # noisy gradient from a handful of samples.
    batch_size = min(batch_size, n)
    scale = w.dtype.type(n / batch_size)
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        if shuffle:
            rows = np.sort(rows)  # sorted rows slice faster, same batch
        batch_weight = w[rows] * scale
        value, G = problem.loss.loss_gradient(coef, X[rows], Y[rows], batch_weight)
        W = coef[:, :d]
        if penalty.l2_strength:
            value += penalty.smooth_value(W)
            G[:, :d] += penalty.smooth_gradient(W)
        total += (value + penalty.l1_strength * float(np.abs(W).sum())) * len(rows)
        coef, optimizer = sgd_update(G, optimizer, coef, config, penalty.l1_strength, d)
    return coef, replace(state, optimizer=optimizer), total / n


def update_monitor(monitor, score, coef, tol, n_iter_no_change, higher_is_better):
    """Record one epoch's score; returns (monitor, stalled)."""
    if monitor.best is None:
        gain = np.inf
    else:
        gain = score - monitor.best if higher_is_better else monitor.best - score
    if gain > tol:
        return replace(monitor, best=score, stalls=0,
                       best_coef=coef.copy() if higher_is_better else None), False
    if higher_is_better and score > monitor.best:
        monitor = replace(monitor, best=score, best_coef=coef.copy())
    stalls = monitor.stalls + 1
    return replace(monitor, stalls=stalls), stalls >= n_iter_no_change


def _after_epoch(state, coef, objective, valid, config, tol, n_iter_no_change):
    """Apply the stopping rule after an epoch; returns (state, stop, score).

    The rule watches the validation accuracy when there is a validation part,
    else the training objective. The adaptive schedule raises the learning
    rate by 10% after each epoch that makes progress, and divides it by 5 after
    ``n_iter_no_change`` epochs without (or at once when the objective jumps
    twice its best); it stops once the rate falls below 1e-6. The other
    schedules stop at the first stall.
    """
    score = None
    if valid is not None:
        score = weighted_accuracy(valid, coef)
        monitor, stalled = update_monitor(state.monitor, score, coef, tol, n_iter_no_change,
                                          higher_is_better=True)
    else:
        monitor, stalled = update_monitor(state.monitor, objective, coef, tol,
                                          n_iter_no_change, higher_is_better=False)
    state = replace(state, monitor=monitor)
    if config.learning_rate == "adaptive":
        if monitor.stalls == 0:
            # Steady progress: few steps per epoch, not noise, limit the fit.
            return replace(state, optimizer=raise_learning_rate(state.optimizer)), False, score
        if valid is None and objective > monitor.best + _BLOW_UP * abs(monitor.best):
            stalled = True  # the rate overshot: lower it now, not epochs later
    if not stalled:
        return state, False, score
    if config.learning_rate == "adaptive" and state.optimizer.eta / 5 >= _MIN_ETA:
        state = replace(state, optimizer=lower_learning_rate(state.optimizer),
                        monitor=replace(monitor, stalls=0))
        return state, False, score
    return state, True, score


def _check_finite(objective, coef, where):
    if not np.isfinite(objective) or not np.all(np.isfinite(coef)):
        raise FloatingPointError(
            f"SGD diverged in {where} (objective {objective}); lower eta0 or "
            "standardize the features."
        )


def new_stream_state(coef, config, random_state):
    return StreamState(optimizer=sgd_init(coef, config),
                       random_state=check_random_state(random_state))


def solve_sgd(problem, coef0, *, tol, max_iter, verbose=0, batch_size=256,
              learning_rate="adaptive", eta0=0.1, power_t=0.5, momentum=0.9, shuffle=True,
              random_state=None, early_stopping=False, validation_fraction=0.1,
              n_iter_no_change=5, state=None, weight_seen=1.0):
    """Minimize ``problem``'s objective by minibatch SGD with momentum.

    Stops after ``n_iter_no_change`` epochs in a row in which the training
    objective (or, with ``early_stopping``, the validation accuracy) did not
    improve by more than ``tol``; the ``"adaptive"`` schedule first divides the
    learning rate by 5 and only stops once it falls below 1e-6.

    Parameters
    ----------
    problem : SoftmaxProblem
    coef0 : ndarray
        Starting coefficients, 2-D.
    tol : float
    max_iter : int
        Maximum number of epochs.
    verbose : int, default=0
    batch_size, learning_rate, eta0, power_t, momentum, shuffle, random_state, \
early_stopping, validation_fraction, n_iter_no_change
        As in ``SoftmaxClassifier``.
    state : StreamState or None
        Continue from this state (warm start); a new one otherwise.
    weight_seen : float, default=1.0
        Total sample weight of the data, stored in the state so that a later
        ``partial_fit`` scales the penalty consistently.

    Returns
    -------
    SolverResult
        ``state`` holds the final :class:`StreamState`.
    """
    config = SGDConfig(learning_rate, eta0, power_t, momentum)
    if state is None:
        state = new_stream_state(coef0, config, random_state)
    # A new fit restarts the stopping rule, not the optimizer. The random
    # stream is copied so that the caller's state is never modified.
    state = replace(state, monitor=Monitor(), random_state=copy.deepcopy(state.random_state))
    if sp.issparse(problem.X) and problem.X.format != "csr":
        problem = replace(problem, X=problem.X.tocsr())  # rows are sliced
    train, valid = problem, None
    if early_stopping:
        train, valid = split_validation(problem, validation_fraction, state.random_state)
    coef = coef0
    history, scores = [], []
    converged = False
    for epoch in range(1, max_iter + 1):
        coef, state, objective = run_epoch(train, coef, state, config, batch_size, shuffle)
        history.append(objective)
        _check_finite(objective, coef, f"epoch {epoch}")
        state, stop, score = _after_epoch(state, coef, objective, valid, config, tol,
                                          n_iter_no_change)
        if score is not None:
            scores.append(score)
        if verbose:
            eta = current_learning_rate(state.optimizer, config)
            extra = f"  validation accuracy={score:.4f}" if score is not None else ""
            print(f"[sgd] epoch {epoch:4d}  objective={objective:.10g}  eta={eta:.3g}{extra}")
        if stop:
            converged = True
            break
    if early_stopping and state.monitor.best_coef is not None:
        coef = state.monitor.best_coef
    n_seen = epoch * train.X.shape[0]
    state = replace(state, n_samples_seen=state.n_samples_seen + n_seen, weight_seen=weight_seen)
    return SolverResult(
        coef=coef, n_iter=epoch, converged=converged, objective_history=history,
        n_evaluations=epoch * -(-train.X.shape[0] // batch_size),
        message="no improvement" if converged else "max_iter reached",
        state=state, validation_scores=scores,
    )


def sgd_partial_fit(problem, coef, state, *, weight_seen, tol, verbose=0, batch_size=256,
                    learning_rate="adaptive", eta0=0.1, power_t=0.5, momentum=0.9,
                    shuffle=True, early_stopping=False, validation_fraction=0.1,
                    n_iter_no_change=5):
    """One pass over a new batch of data, continuing from ``state``.

    The stopping rule runs once per call, as it runs once per epoch in
    :func:`solve_sgd`. Without early stopping a stall only lowers an adaptive
    learning rate: a stream is never declared finished. With early stopping
    the call holds out ``validation_fraction`` of its rows for scoring; after
    ``n_iter_no_change`` calls without improvement (and once the adaptive rate
    is exhausted) the coefficients return to the best ones seen and later
    calls leave the model unchanged.

    ``weight_seen`` is the total sample weight of all calls including this
    one; the problem's penalty must already be scaled by it.

    Returns
    -------
    SolverResult
        ``n_iter`` is 1, or 0 if the stream had already stopped.
    """
    config = SGDConfig(learning_rate, eta0, power_t, momentum)
    if state.monitor.stopped:
        return SolverResult(coef=coef, n_iter=0, converged=True, state=state,
                            message="early stopping ended this stream")
    state = replace(state, random_state=copy.deepcopy(state.random_state))
    if sp.issparse(problem.X) and problem.X.format != "csr":
        problem = replace(problem, X=problem.X.tocsr())
    train, valid = problem, None
    if early_stopping:
        train, valid = split_validation(problem, validation_fraction, state.random_state)
    coef, state, objective = run_epoch(train, coef, state, config, batch_size, shuffle)
    _check_finite(objective, coef, "partial_fit")
    state, stop, score = _after_epoch(state, coef, objective, valid, config, tol,
                                      n_iter_no_change)
    if stop and not early_stopping:
        stop = False
        state = replace(state, monitor=replace(state.monitor, stalls=0))
    if stop:
        coef = state.monitor.best_coef
        state = replace(state, monitor=replace(state.monitor, stopped=True))
    if verbose:
        extra = f"  validation accuracy={score:.4f}" if score is not None else ""
        print(f"[sgd] partial_fit  objective={objective:.10g}  "
              f"eta={current_learning_rate(state.optimizer, config):.3g}{extra}")
    state = replace(state, n_samples_seen=state.n_samples_seen + train.X.shape[0],
                    weight_seen=weight_seen)
    return SolverResult(coef=coef, n_iter=1, converged=stop, objective_history=[objective],
                        n_evaluations=-(-train.X.shape[0] // batch_size), state=state,
                        validation_scores=[] if score is None else [score],
                        message="early stopping" if stop else "one pass")
