"""Minibatch SGD epochs over a SoftmaxProblem, with the stopping rules."""

import copy
import functools
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_random_state

from .._compat import _convert_to_numpy
from .._namespace import namespace
from ._overflow import overflow_error, overflow_is_an_error
from ._result import SolverResult
from .sgd_optimizer import (
    SGDConfig,
    current_learning_rate,
    lower_learning_rate,
    raise_learning_rate,
    restart_momentum,
    sgd_init,
    sgd_update,
)

# Below this base learning rate the adaptive schedule gives up (as in
# scikit-learn's SGD): further epochs cannot move the coefficients.
_MIN_ETA = 1e-6
# An epoch objective above this multiple of the lowest one means divergence.
_DIVERGED = 1.5


@dataclass(frozen=True)
class Monitor:
    """Progress of the stopping rule, carried between epochs (and calls).

    ``best`` is the lowest training objective, or the highest validation
    accuracy with early stopping; ``stalls`` counts epochs since ``best``
    last moved more than ``tol`` away from ``anchor``. With early stopping ``best_coef`` keeps the
    coefficients that scored ``best``. ``last_objective`` is the previous
    epoch's training objective, ``lowest_objective`` the lowest one and
    ``lowest_coef`` the coefficients after that epoch (the point to return to
    if the steps diverge).
    """

    best: float | None = None
    anchor: float | None = None
    stalls: int = 0
    best_coef: object = None
    stopped: bool = False
    last_objective: float | None = None
    lowest_objective: float | None = None
    lowest_coef: object = None


@dataclass(frozen=True)
class StreamState:
    """The fitted state of the SGD solver: optimizer, stopping rule, random stream."""

    optimizer: object
    monitor: Monitor = field(default_factory=Monitor)
    random_state: object = None
    n_samples_seen: int = 0
    weight_seen: float = 0.0


def take_rows(A, rows, xp):
    """Rows ``rows`` (an index array in A's namespace and device) of ``A``."""
    if sp.issparse(A):
        return A[_convert_to_numpy(rows, xp)]
    return xp.take(A, rows, axis=0)


def weighted_accuracy(problem, coef):
    xp, _ = problem.namespace_and_device
    loss = problem.loss
    correct = loss.predicted_index(coef, problem.X) == loss.class_index(problem.Y)
    w = problem.sample_weight
    return float(xp.sum(w * xp.astype(correct, problem.dtype)) / xp.sum(w))


def subproblem(problem, rows):
    """The problem restricted to ``rows`` (host indices), weights summing to one."""
    xp, device = problem.namespace_and_device
    rows = xp.asarray(rows, device=device)
    weights = take_rows(problem.sample_weight, rows, xp)
    total = float(xp.sum(weights))
    return replace(problem, X=take_rows(problem.X, rows, xp), Y=take_rows(problem.Y, rows, xp),
                   sample_weight=weights / total if total > 0 else weights)


def split_validation(problem, fraction, rng):
    """Stratified random split of the rows into training and validation parts."""
    from sklearn.model_selection import train_test_split

    xp, _ = problem.namespace_and_device
    n = problem.X.shape[0]
    if n < 2:
        raise ValueError(
            f"early_stopping holds out validation_fraction={fraction} of the rows of each "
            f"fit or partial_fit call for validation, which needs at least 2 rows; this "
            f"call has {n}. Pass larger batches, or set early_stopping=False."
        )
    rows = np.arange(n)
    y = _convert_to_numpy(problem.loss.class_index(problem.Y), xp)
    try:
        train, valid = train_test_split(rows, test_size=fraction, stratify=y, random_state=rng)
    except ValueError:  # too few samples in some class to stratify
        train, valid = train_test_split(rows, test_size=fraction, random_state=rng)
    return subproblem(problem, np.sort(train)), subproblem(problem, np.sort(valid))


def epoch_order(n, batch_size, rng, shuffle):
    """Row order for one epoch: shuffled, each batch's rows sorted (faster slicing)."""
    if not shuffle:
        return np.arange(n)
    order = rng.permutation(n)
    for start in range(0, n, batch_size):
        order[start : start + batch_size].sort()
    return order


def run_epoch(problem, coef, state, config, batch_size, shuffle):
    """One pass over ``problem`` in minibatches; returns (coef, state, objective).

    The minibatch gradient is ``n / b * sum_{i in B} w_i grad CE_i`` plus the
    gradient of the smooth penalty, with ``b = min(batch_size, n)``: with
    weights ``w`` summing to one it is an unbiased estimate of the full
    gradient for every full batch. The returned objective is the average of
    the minibatch objectives met during the epoch (no extra pass). The row
    order moves to the data's device once per epoch; batches are sliced there.
    """
    xp, device = problem.namespace_and_device
    n = problem.X.shape[0]
    # Every batch weighs its samples by n / batch_size, so that a short last
    # batch takes a proportionally short step instead of a full step on a
    # noisy gradient from a handful of samples.
    batch_size = min(batch_size, n)
    order = xp.asarray(epoch_order(n, batch_size, state.random_state, shuffle), device=device)
    l1_strength = problem.penalty.l1_strength
    d = problem.n_features
    optimizer = state.optimizer
    total = 0.0
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        batch = replace(
            problem,
            X=take_rows(problem.X, rows, xp),
            Y=take_rows(problem.Y, rows, xp),
            sample_weight=take_rows(problem.sample_weight, rows, xp) * (n / batch_size),
        )
        value, G = batch.smooth_value_gradient(coef)
        # value = sum_{i in B} CE_i / batch_size + L2 part: split it to add up
        # the epoch's cross-entropy per sample and the penalty per batch.
        W = coef[:, :d]
        smooth_penalty = problem.penalty.smooth_value(W)
        total += (value - smooth_penalty) * batch_size
        total += problem.penalty.value(W) * rows.shape[0]
        coef, optimizer = sgd_update(G, optimizer, coef, config, l1_strength, d)
    return coef, replace(state, optimizer=optimizer), total / n


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


def _after_epoch(state, coef, objective, valid, config, tol, n_iter_no_change,
                 stop_on_stall=None):
    """Apply the stopping rule after an epoch; returns (state, stop, score, coef).

    The rule watches the validation accuracy when there is a validation part,
    else the training objective. Whatever the schedule, an epoch that raises
    the training objective restarts the momentum (its oscillations decay like
    ``momentum ** (steps / 2)``, whatever the rate), and one whose objective
    exceeds 1.5 times the lowest so far (or overflows) returns to the
    coefficients of that lowest epoch (the steps diverged). The adaptive schedule also raises the rate by 10% after each
    epoch of progress (steady progress means the steps are too short, not too
    noisy), halves it after a divergence or after ``n_iter_no_change``
    epochs without progress, and stops once it falls below 1e-6. The other
    schedules stop at the first stall. ``stop_on_stall=True`` stops at the
    first stall whatever the schedule (early stopping in ``partial_fit``).
    """
    score = None
    previous = state.monitor.last_objective
    if valid is not None:
        score = weighted_accuracy(valid, coef)
        monitor, stalled = update_monitor(state.monitor, score, coef, tol, n_iter_no_change,
                                          higher_is_better=True)
    else:
        monitor, stalled = update_monitor(state.monitor, objective, coef, tol,
                                          n_iter_no_change, higher_is_better=False)
    monitor = replace(monitor, last_objective=objective)
    optimizer = state.optimizer
    if monitor.lowest_objective is None or objective < monitor.lowest_objective:
        monitor = replace(monitor, lowest_objective=objective, lowest_coef=_copy(coef))
    diverged = objective > _DIVERGED * monitor.lowest_objective + tol
    if diverged:
        coef = monitor.lowest_coef
    if diverged or (previous is not None and objective > previous):
        optimizer = restart_momentum(optimizer)
    adaptive = config.learning_rate == "adaptive"
    if stop_on_stall is None:
        stop_on_stall = not adaptive
    stop = stalled and stop_on_stall or diverged and not adaptive
    if adaptive and not stop:
        if diverged or stalled:
            optimizer = lower_learning_rate(optimizer)
            monitor = replace(monitor, stalls=0)
            stop = optimizer.eta < _MIN_ETA
        elif monitor.stalls == 0:
            optimizer = raise_learning_rate(optimizer)
    return replace(state, optimizer=optimizer, monitor=monitor), stop, score, coef


def optimality(problem, coef):
    """The problem's optimality measure at ``coef`` (one full pass over the data).

    SGD stops by its own rule, but reports the same measure as every other
    solver: the largest distance of the full gradient to the subdifferential.
    """
    with overflow_is_an_error():
        _, G = problem.smooth_value_gradient(coef)
    return problem.optimality(coef, G)


def check_finite_logits(problem, coef):
    """Raise the overflow error if ``coef`` gives infinite logits on ``problem.X``.

    Steps on features of ~1e150 can leave finite coefficients whose logits
    overflow, so every prediction would be NaN. A bound on the logits rules
    that out without a pass over the data in every ordinary case; only near
    the edge of the range are the logits computed.
    """
    xp, _ = problem.namespace_and_device
    X = problem.X
    d = problem.n_features
    W = xp.abs(coef[:, :d])
    intercept = float(xp.max(xp.abs(coef[:, d:]))) if coef.shape[1] > d else 0.0
    # max and min of the stored values, never max(abs(X)): no temporary the
    # size of X, and scipy's X.max() would sum duplicate entries in place.
    if sp.issparse(X):
        if not X.nnz:
            return
        largest = max(abs(float(X.data.max())), abs(float(X.data.min())))
        # |z_ik| <= max|stored value| * stored values per row * max_j |W_kj| + |b_k|
        per_row = int(np.diff(X.tocsr().indptr).max())  # SGD's X is CSR: no copy
        bound = largest * per_row * float(xp.max(W)) + intercept if d else intercept
    else:
        if not X.shape[0] or not d:
            return
        largest = max(abs(float(xp.max(X))), abs(float(xp.min(X))))
        # |z_ik| <= max|x| * ||W_k||_1 + |b_k|
        bound = largest * float(xp.max(xp.sum(W, axis=1))) + intercept
    if bound < 0.01 * float(xp.finfo(problem.dtype).max):
        return
    with overflow_is_an_error():
        finite = bool(xp.all(xp.isfinite(problem.loss.logits(coef, X))))
    if not finite:
        raise overflow_error("SGD reached coefficients whose logits are infinite")


def _finite_objective(objective, coef, state, where):
    """The epoch's objective, or inf if it overflowed (the rule then rolls back).

    Without a finite point to return to (the very first epoch), overflow is
    an error.
    """
    xp = namespace(coef)
    if np.isfinite(objective) and bool(xp.all(xp.isfinite(coef))):
        return objective
    if state.monitor.lowest_coef is None:
        raise overflow_error(
            f"SGD diverged in {where} with objective {objective}; a lower eta0 may also help"
        )
    return np.inf


def sgd_init_state(coef, *, previous=None, learning_rate="adaptive", eta0=0.1, power_t=0.5,
                   momentum=0.9, random_state=None, **_):
    """The :class:`StreamState` to run from at coefficients shaped like ``coef``.

    A fresh state, or ``previous`` when it was built for coefficients of the
    same shape and dtype. Otherwise (``fit_intercept`` or the input's dtype
    changed between calls) the optimizer restarts from ``previous``'s
    learning rate and step count, and the rest of ``previous`` (random
    stream, samples and weight seen) carries over. Takes the estimator's SGD
    options by name (others are ignored), as the solver table passes them.
    """
    config = SGDConfig(learning_rate, eta0, power_t, momentum)
    if previous is None:
        return StreamState(optimizer=sgd_init(coef, config),
                           random_state=check_random_state(random_state))
    velocity = previous.optimizer.velocity
    if tuple(velocity.shape) == tuple(coef.shape) and velocity.dtype == coef.dtype:
        return previous
    optimizer = replace(sgd_init(coef, config), eta=previous.optimizer.eta,
                        step=previous.optimizer.step)
    # The stopping rule's coefficients have the old shape: it starts over.
    return replace(previous, optimizer=optimizer,
                   monitor=Monitor(stopped=previous.monitor.stopped))


def _overflow_checked_at_the_end(solver):
    """Run ``solver`` with numpy's overflow warnings off.

    An overflowing step is handled by the stopping rule (it rolls back to the
    best coefficients) and a model that still overflows is refused at the
    end (:func:`check_finite_logits`), so the warnings would only be noise.
    """
    @functools.wraps(solver)
    def run(*args, **kwargs):
        with np.errstate(over="ignore", invalid="ignore"):
            return solver(*args, **kwargs)

    return run


@_overflow_checked_at_the_end
def solve_sgd(problem, coef0, *, tol, max_iter, verbose=0, batch_size=256,
              learning_rate="adaptive", eta0=0.1, power_t=0.5, momentum=0.9, shuffle=True,
              random_state=None, early_stopping=False, validation_fraction=0.1,
              n_iter_no_change=5, state=None, weight_seen=1.0):
    """Minimize ``problem``'s objective by minibatch SGD with momentum.

    Stops after ``n_iter_no_change`` epochs in a row in which the training
    objective (or, with ``early_stopping``, the validation accuracy) did not
    improve by more than ``tol``; the ``"adaptive"`` schedule first divides the
    learning rate (see :func:`_after_epoch`) and only stops once it falls
    below 1e-6.

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
        state = sgd_init_state(coef0, learning_rate=learning_rate, eta0=eta0, power_t=power_t,
                               momentum=momentum, random_state=random_state)
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
    epoch = 0
    for epoch in range(1, max_iter + 1):
        coef, state, objective = run_epoch(train, coef, state, config, batch_size, shuffle)
        history.append(objective)
        objective = _finite_objective(objective, coef, state, f"epoch {epoch}")
        state, stop, score, coef = _after_epoch(state, coef, objective, valid, config, tol,
                                          n_iter_no_change)
        if score is not None:
            scores.append(score)
        if verbose:
            eta = current_learning_rate(state.optimizer, config)
            extra = f"  validation accuracy={score:.4f}" if score is not None else ""
            print(f"[sgd] epoch {epoch:4d}  objective={objective:.10g}  eta={eta:.3g}"
                  f"  optimality={optimality(train, coef):.3e}{extra}")
        if stop:
            converged = True
            break
    if early_stopping and state.monitor.best_coef is not None:
        coef = state.monitor.best_coef
    check_finite_logits(train, coef)
    n_seen = epoch * train.X.shape[0]
    state = replace(state, n_samples_seen=state.n_samples_seen + n_seen, weight_seen=weight_seen)
    final_optimality = optimality(train, coef)
    return SolverResult(
        coef=coef, n_iter=epoch, converged=converged or final_optimality <= tol,
        objective_history=history, optimality=final_optimality,
        n_evaluations=epoch * -(-train.X.shape[0] // batch_size) + 1,
        message="no improvement" if converged else "max_iter reached",
        state=state, validation_scores=scores,
    )


@_overflow_checked_at_the_end
def sgd_partial_fit(problem, coef, state, *, weight_seen, tol, verbose=0, batch_size=256,
                    learning_rate="adaptive", eta0=0.1, power_t=0.5, momentum=0.9,
                    shuffle=True, early_stopping=False, validation_fraction=0.1,
                    n_iter_no_change=5, random_state=None):
    """One pass over a new batch of data, continuing from ``state``.

    The stopping rule runs once per call, as it runs once per epoch in
    :func:`solve_sgd`. Without early stopping a stall only lowers an adaptive
    learning rate: a stream is never declared finished. With early stopping
    the call holds out ``validation_fraction`` of its rows for scoring; after
    ``n_iter_no_change`` calls without improvement by more than ``tol``, the
    coefficients return to the best ones seen and later calls leave the model
    unchanged.

    ``weight_seen`` is the total sample weight of all calls including this
    one; the problem's penalty must already be scaled by it. ``random_state``
    is accepted for symmetry with :func:`sgd_init_state` and unused: the
    random stream lives in ``state``.

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
    objective = _finite_objective(objective, coef, state, "partial_fit")
    state, stop, score, coef = _after_epoch(state, coef, objective, valid, config, tol,
                                      n_iter_no_change, stop_on_stall=early_stopping)
    if stop and not early_stopping:
        stop = False
        state = replace(state, monitor=replace(state.monitor, stalls=0))
    if stop:
        coef = state.monitor.best_coef
        state = replace(state, monitor=replace(state.monitor, stopped=True))
    check_finite_logits(train, coef)
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
