"""Minibatch SGD epochs over a SoftmaxProblem: ``fit`` and ``partial_fit``.

The pieces each live in their own module: the update (:mod:`.sgd_optimizer`),
the preconditioner that takes the steps in standardized coordinates
(:mod:`.sgd_scaling`), iterate averaging (:mod:`.sgd_average`), what
happens after an epoch or a call (:mod:`.sgd_monitor`), and whether a stop is
convergence (:mod:`.sgd_verdict`).
"""

import copy
import functools
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._result import SolverResult
from .sgd_average import average_init, average_update
from .sgd_monitor import (
    MIN_ETA,
    Monitor,
    epoch_rule,
    stream_rule,
    update_monitor,
)
from .sgd_optimizer import SGDConfig, current_learning_rate, sgd_init, sgd_update
from .._utils.arrays import take_rows
from .._utils.caller import warn
from .sgd_rows import epoch_order, split_validation, weighted_accuracy
from .sgd_scaling import batch_moments, scaling_from
from .sgd_verdict import (
    check_finite_logits,
    finite_objective,
    majority_accuracy,
    no_better_than_the_priors,
    optimality,
    optimality_and_gradient,
    updated_prior_gap,
    stop_is_convergence,
)

# partial_fit's average weighs the t-th iterate by about t^AVERAGE_DECAY
# (sgd_average.py); measured in benchmarks/sgd_streams.py.
AVERAGE_DECAY = 3.0


@dataclass(frozen=True)
class StreamState:
    """The fitted state of the SGD solver.

    Attributes
    ----------
    optimizer : SGDState
        Velocity, step count, base rate and L1 bookkeeping.
    monitor : Monitor
        The stopping rule's progress.
    random_state : RandomState
        The stream of shuffles and validation splits.
    n_samples_seen, weight_seen : int, float
        Rows processed by updates, and the total sample weight seen (the
        penalty's scale in ``partial_fit``).
    config : SGDConfig
        The schedule the state was run with.
    moments : FeatureMoments or None
        Running moments of the features: the preconditioner's statistics.
    iterate : ndarray or None
        The optimizer's own coefficients, when the model's (``coef_``) are an
        average of them; the next update continues from these.
    average : Average or None
        ``partial_fit``'s running average of the iterates.
    class_totals : ndarray of shape (n_classes,) or None
        Sample weight trained on per class (host, float64): the stream's
        class priors, and which classes it has seen.
    validation_classes : ndarray of shape (n_classes,) or None
        ``partial_fit`` with early stopping: the classes that have appeared
        in the validation rows so far (bool).
    best_baseline : float or None
        Early stopping: the accuracy of predicting the majority class on the
        validation rows that gave the best score.
    prior_gap : tuple of 3 floats or None
        ``partial_fit``: running averages (weight ``STREAM_AVERAGING`` per
        call) of each call's objective ``f``, of the cross-entropy ``q`` on
        the call's rows of the model that predicts the stream's class
        priors, and of ``|f - q|``.
    calls : int
        ``partial_fit`` calls that trained since the stream (or the last
        ``fit``) began.
    like_the_priors : bool
        Whether the last call found the stream predicting like its class
        priors (it warns when this turns true).
    """

    optimizer: object
    monitor: Monitor = field(default_factory=Monitor)
    random_state: object = None
    n_samples_seen: int = 0
    weight_seen: float = 0.0
    config: SGDConfig = field(default_factory=SGDConfig)
    moments: object = None
    iterate: object = None
    average: object = None
    class_totals: object = None
    validation_classes: object = None
    best_baseline: float | None = None
    prior_gap: tuple | None = None
    calls: int = 0
    like_the_priors: bool = False

    @property
    def learning_rate(self):
        """The step size of the next update (the base rate under the schedule)."""
        return current_learning_rate(self.optimizer, self.config)


def run_epoch(problem, coef, state, config, batch_size, shuffle, scaling=None):
    """One pass over ``problem`` in minibatches; returns (coef, state, objective).

    The minibatch gradient is ``n / b * sum_{i in B} w_i grad CE_i`` plus the
    gradient of the smooth penalty, with ``b = min(batch_size, n)``: with
    weights ``w`` summing to one it is an unbiased estimate of the full
    gradient for every full batch. The returned objective is the average of
    the minibatch objectives met during the epoch (no extra pass). The row
    order moves to the data's device once per epoch; batches are sliced there.
    ``state.average`` (an :class:`~.sgd_average.Average`, or None) takes
    every iterate; ``scaling`` is the preconditioner (:mod:`.sgd_scaling`).
    """
    xp, device = problem.namespace_and_device
    n = problem.X.shape[0]
    # Every batch weighs its samples by n / batch_size, so that a short last
    # batch takes a proportionally short step instead of a full step on a
    # noisy gradient from a handful of samples.
    batch_size = min(batch_size, n)
    order = xp.asarray(epoch_order(n, batch_size, state.random_state, shuffle), device=device)
    l1_strength = problem.penalty.l1_weights(problem.X)
    d = problem.n_features
    optimizer = state.optimizer
    average = state.average
    total = 0.0
    for start in range(0, n, batch_size):
        rows = order[start : start + batch_size]
        batch = problem.rows(
            lambda array: take_rows(array, rows, xp),
            sample_weight=take_rows(problem.sample_weight, rows, xp) * (n / batch_size),
        )
        value, G = batch.smooth_value_gradient(coef)
        # value = sum_{i in B} CE_i / batch_size + L2 part: split it to add up
        # the epoch's cross-entropy per sample and the penalty per batch.
        W = coef[:, :d]
        smooth_penalty = problem.penalty.smooth_value(W)
        total += (value - smooth_penalty) * batch_size
        total += problem.penalty.value(W) * rows.shape[0]
        coef, optimizer = sgd_update(G, optimizer, coef, config, l1_strength, d, scaling)
        if average is not None:
            average = average_update(average, coef, AVERAGE_DECAY)
    return coef, replace(state, optimizer=optimizer, average=average), total / n


def _scaling(state, problem, like, call_weight, precondition):
    """(state with the call's rows in its moments, the preconditioner's Scaling)."""
    if not precondition:
        return state, None
    moments = batch_moments(problem.X, problem.sample_weight, call_weight)
    if state.moments is not None:
        moments = state.moments.merge(moments)
    state = replace(state, moments=moments)
    return state, scaling_from(moments, problem.loss.fit_intercept, like,
                               problem.penalty.l2_weights())


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


def _after_epoch(state, coef, objective, valid, config, tol, n_iter_no_change,
                 stop_on_stall=None):
    """:func:`~.sgd_monitor.epoch_rule` on a :class:`StreamState`; returns (state, stop, score, coef).

    For drivers that run epochs themselves (the dask one, ``_dask_sgd.py``).
    """
    score = None if valid is None else weighted_accuracy(valid, coef)
    optimizer, monitor, stop, coef, _ = epoch_rule(
        state.optimizer, state.monitor, coef, objective, score, config.learning_rate, tol,
        n_iter_no_change, stop_on_stall)
    return replace(state, optimizer=optimizer, monitor=monitor), stop, score, coef


def sgd_init_state(coef, *, previous=None, learning_rate="adaptive", eta0=0.1, power_t=0.5,
                   momentum=0.9, random_state=None, **_):
    """The :class:`StreamState` to run from at coefficients shaped like ``coef``.

    A fresh state, or ``previous`` when it was built for coefficients of the
    same shape and dtype. Otherwise (``fit_intercept`` or the input's dtype
    changed between calls) the optimizer restarts from ``previous``'s
    learning rate and step count, and the rest of ``previous`` (random
    stream, samples and weight seen, feature moments) carries over. Takes the
    estimator's SGD options by name (others are ignored), as the solver table
    passes them.
    """
    config = SGDConfig(learning_rate, eta0, power_t, momentum)
    if previous is None:
        return StreamState(optimizer=sgd_init(coef, config), config=config,
                           random_state=check_random_state(random_state))
    previous = replace(previous, config=config)
    velocity = previous.optimizer.velocity
    if tuple(velocity.shape) == tuple(coef.shape) and velocity.dtype == coef.dtype:
        return previous
    optimizer = replace(sgd_init(coef, config), eta=previous.optimizer.eta,
                        step=previous.optimizer.step)
    # The stopping rule's and the average's coefficients have the old shape:
    # they start over.
    return replace(previous, optimizer=optimizer, iterate=None, average=None,
                   monitor=Monitor(stopped=previous.monitor.stopped))


def start_iterate(state, coef):
    """The optimizer's coefficients: its own iterate when the model shows an average."""
    iterate = state.iterate
    if iterate is not None and tuple(iterate.shape) == tuple(coef.shape):
        return iterate
    return coef


@_overflow_checked_at_the_end
def solve_sgd(problem, coef0, *, tol, max_iter, verbose=0, batch_size=256,
              learning_rate="adaptive", eta0=0.1, power_t=0.5, momentum=0.9, shuffle=True,
              random_state=None, early_stopping=False, validation_fraction=0.1,
              n_iter_no_change=5, precondition=True, average=True, state=None,
              weight_seen=1.0, callback=None):
    """Minimize ``problem``'s objective by minibatch SGD with momentum.

    Stops after ``n_iter_no_change`` epochs in a row in which the training
    objective (or, with ``early_stopping``, the validation accuracy) did not
    improve by more than ``tol``; the ``"adaptive"`` schedule first divides the
    learning rate (see :func:`~.sgd_monitor.epoch_rule`) and only stops once
    it falls below 1e-6. A stop counts as convergence only near the optimum
    (:func:`~.sgd_verdict.stop_is_convergence`).

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
early_stopping, validation_fraction, n_iter_no_change, precondition, average
        As in ``SoftmaxClassifier``.
    state : StreamState or None
        Continue from this state (warm start); a new one otherwise.
    weight_seen : float, default=1.0
        Total sample weight of the data, stored in the state so that a later
        ``partial_fit`` scales the penalty consistently.
    callback : callable or None, default=None
        ``callback(coef) -> bool`` after each epoch, with the model's
        coefficients; a true value ends the fit after that epoch.

    Returns
    -------
    SolverResult
        ``state`` holds the final :class:`StreamState`.
    """
    config = SGDConfig(learning_rate, eta0, power_t, momentum)
    if state is None:
        state = sgd_init_state(coef0, learning_rate=learning_rate, eta0=eta0, power_t=power_t,
                               momentum=momentum, random_state=random_state)
    # A new fit restarts the stopping rule, not the optimizer, and takes its
    # feature moments from its own data. The random stream is copied so that
    # the caller's state is never modified.
    state = replace(state, monitor=Monitor(), random_state=copy.deepcopy(state.random_state),
                    moments=None, average=None, config=config,
                    class_totals=problem.class_totals() * weight_seen,
                    validation_classes=None, best_baseline=None, prior_gap=None, calls=0,
                    like_the_priors=False)
    if sp.issparse(problem.X) and problem.X.format != "csr":
        problem = replace(problem, X=problem.X.tocsr())  # rows are sliced
    train, valid = problem, None
    if early_stopping:
        train, valid = split_validation(problem, validation_fraction, state.random_state)
    iterate = start_iterate(state, coef0)
    state, scaling = _scaling(state, train, iterate, weight_seen, precondition)
    coef = iterate
    history, scores = [], []
    stopped = floor = stopped_by_callback = False
    epoch = 0
    for epoch in range(1, max_iter + 1):
        # fit averages each epoch's iterates (a tail average): the model is
        # that average, the next epoch continues from the last iterate.
        state = replace(state, average=average_init(iterate) if average else None)
        iterate, state, objective = run_epoch(train, iterate, state, config, batch_size,
                                              shuffle, scaling)
        history.append(objective)
        objective = finite_objective(objective, iterate, state, f"epoch {epoch}")
        coef = state.average.coef if average else iterate
        score = None if valid is None else weighted_accuracy(valid, coef)
        optimizer, monitor, stopped, rolled_back, floor = epoch_rule(
            state.optimizer, state.monitor, coef, objective, score, learning_rate, tol,
            n_iter_no_change)
        if rolled_back is not coef:
            coef = iterate = rolled_back
        state = replace(state, optimizer=optimizer, monitor=monitor)
        if score is not None:
            scores.append(score)
        if verbose:
            extra = f"  validation accuracy={score:.4f}" if score is not None else ""
            print(f"[sgd] epoch {epoch:4d}  objective={objective:.10g}  "
                  f"eta={state.learning_rate:.3g}  optimality={optimality(train, coef):.3e}{extra}")
        if callback is not None and callback(coef):
            stopped_by_callback = True
            break
        if stopped:
            break
    if early_stopping and state.monitor.best_coef is not None:
        coef = state.monitor.best_coef
    check_finite_logits(train, coef)
    n_seen = epoch * train.X.shape[0]
    state = replace(state, n_samples_seen=state.n_samples_seen + n_seen, weight_seen=weight_seen,
                    iterate=iterate if average else None, average=None)
    final_optimality, G = optimality_and_gradient(train, coef)
    converged, message, stop = stop_is_convergence(
        train, coef, G, scaling, tol, final_optimality, stopped, floor, early_stopping,
        best_score=state.monitor.best if early_stopping else None,
        baseline=None if valid is None else majority_accuracy(valid))
    if stopped_by_callback and not converged:
        message = f"stopped by a callback after {epoch} epochs"
    return SolverResult(
        coef=coef, n_iter=epoch, converged=converged,
        objective_history=history, optimality=final_optimality,
        n_evaluations=epoch * -(-train.X.shape[0] // batch_size) + 1,
        message=message, state=state, validation_scores=scores,
        stopped_by_callback=stopped_by_callback, stop=stop,
    )


@_overflow_checked_at_the_end
def sgd_partial_fit(problem, coef, state, *, weight_seen, tol, verbose=0, batch_size=256,
                    learning_rate="adaptive", eta0=0.1, power_t=0.5, momentum=0.9,
                    shuffle=True, early_stopping=False, validation_fraction=0.1,
                    n_iter_no_change=5, precondition=True, average=True, validation=None,
                    random_state=None, callback=None):
    """One pass over a new batch of data, continuing from ``state``.

    After the pass the stream rule runs (:func:`~.sgd_monitor.stream_rule`):
    it lowers the rate only for a divergence, judged on a running average of
    the calls' objectives. With ``average`` the model is the polynomial-decay
    average of all iterates of the stream (:mod:`.sgd_average`) and the
    optimizer continues from its own last iterate. Once the base rate has
    fallen below 1e-6 each call warns with a ConvergenceWarning, and so
    does the call that finds the stream predicting like its class priors
    (:func:`~.sgd_verdict.no_better_than_the_priors`).

    With early stopping the call scores the model on ``validation`` (a
    problem built from ``partial_fit``'s ``validation_data``), or else holds
    out ``validation_fraction`` of its rows. Once the stream has trained on
    every class and its validation rows have shown every class, ``n_iter_no_change``
    calls without improvement by more than ``tol`` end it: the coefficients
    return to the best ones seen and later calls leave the model unchanged.
    That stop warns (ConvergenceWarning) when the best score is not above
    the majority class's accuracy on the validation rows that gave it.

    ``weight_seen`` is the total sample weight of all calls including this
    one; the problem's penalty must already be scaled by it. ``random_state``
    is accepted for symmetry with :func:`sgd_init_state` and unused: the
    random stream lives in ``state``. ``callback(coef)`` is called once, after
    the pass, with the model's coefficients; its answer is ignored, since
    the call has nothing left to stop.

    Returns
    -------
    SolverResult
        ``n_iter`` is 1, or 0 if the stream had already stopped.
    """
    if validation is not None and not early_stopping:
        raise ValueError(
            "validation_data is scored for early stopping; set early_stopping=True to use it."
        )
    config = SGDConfig(learning_rate, eta0, power_t, momentum)
    if state.monitor.stopped:
        return SolverResult(coef=coef, n_iter=0, converged=True, state=state,
                            message="early stopping ended this stream")
    state = replace(state, random_state=copy.deepcopy(state.random_state), config=config)
    if sp.issparse(problem.X) and problem.X.format != "csr":
        problem = replace(problem, X=problem.X.tocsr())
    train, valid = problem, validation
    if early_stopping and valid is None:
        train, valid = split_validation(problem, validation_fraction, state.random_state)
    start = start_iterate(state, coef)
    # The call's rows carry weight_seen - state.weight_seen of the stream's
    # weight; held-out rows are not trained on, so they count as seen too.
    call_weight = weight_seen - state.weight_seen
    state, scaling = _scaling(state, train, start, call_weight, precondition)
    shares = train.class_totals()
    # No 0 * inf = NaN for an absent class when the weights overflow.
    class_totals = np.where(shares > 0, shares * call_weight, 0.0)
    if state.class_totals is not None and state.class_totals.shape == class_totals.shape:
        class_totals = class_totals + state.class_totals
    state = replace(state, average=(state.average or average_init(start)) if average else None)
    iterate, state, objective = run_epoch(train, start, state, config, batch_size, shuffle,
                                          scaling)
    averaged = state.average
    objective = finite_objective(objective, iterate, state, "partial_fit")
    n_classes = problem.loss.n_classes
    optimizer, monitor, returned = stream_rule(
        state.optimizer, state.monitor, iterate, start, objective, n_classes)
    if returned is not iterate:  # diverged: the average restarts from there too
        iterate = returned
        averaged = average_init(iterate) if average else None
    coef = averaged.coef if average else iterate
    prior_gap = updated_prior_gap(state.prior_gap, objective, shares, class_totals)
    score, stop = None, False
    validation_classes, best_baseline = state.validation_classes, state.best_baseline
    if valid is not None:
        score = weighted_accuracy(valid, coef)
        valid_shares = valid.class_totals()
        validation_classes = (valid_shares > 0) if validation_classes is None else (
            validation_classes | (valid_shares > 0))
        # Early stopping watches the stream only once it has trained on every
        # class and its validation rows have shown every class: before, the
        # model cannot predict the classes still to come, so a stream sorted
        # by class stalls at once (validation accuracy 0.10-0.14 on sorted
        # digits) and its best score may be that of a one-class model on a
        # one-class validation part.
        if np.all(class_totals > 0) and np.all(validation_classes):
            previous_best = monitor.best
            monitor, stop = update_monitor(monitor, score, coef, tol, n_iter_no_change,
                                           higher_is_better=True)
            if previous_best is None or score > previous_best:
                best_baseline = float(valid_shares.max() / valid_shares.sum())
    if stop:
        coef = monitor.best_coef
        monitor = replace(monitor, stopped=True)
    state = replace(state, optimizer=optimizer, monitor=monitor,
                    iterate=iterate if average else None, average=averaged,
                    class_totals=class_totals, validation_classes=validation_classes,
                    best_baseline=best_baseline, prior_gap=prior_gap, calls=state.calls + 1)
    check_finite_logits(train, coef)
    if callback is not None:
        callback(coef)
    if verbose:
        extra = f"  validation accuracy={score:.4f}" if score is not None else ""
        print(f"[sgd] partial_fit  objective={objective:.10g}  "
              f"eta={state.learning_rate:.3g}{extra}")
    if stop and monitor.best <= best_baseline:
        warn(
            f"SoftmaxClassifier(solver='sgd').partial_fit: early stopping ended this stream "
            f"at a best validation accuracy of {monitor.best:.3g}, no better than predicting "
            f"the majority class ({best_baseline:.3g}) on the validation rows that scored it, "
            "and later calls will leave the model unchanged. Score a fixed validation set "
            "that holds every class (validation_data=(X_val, y_val)), which a stream sorted "
            "by class needs; standardize the features; or start a new stream without "
            "early_stopping.",
            ConvergenceWarning,
        )
    if optimizer.eta < MIN_ETA:
        warn(
            f"SoftmaxClassifier(solver='sgd').partial_fit: the learning rate has collapsed to "
            f"{state.learning_rate:.3g} after diverging calls, so further calls hardly change "
            "the model (sgd_state_.learning_rate). Standardize the features (StandardScaler) "
            "or lower eta0, and start a new stream with fit or a new estimator.",
            ConvergenceWarning,
        )
    state = replace(state, n_samples_seen=state.n_samples_seen + train.X.shape[0],
                    weight_seen=weight_seen)
    like_the_priors = no_better_than_the_priors(state, problem)
    # Once on entering that state (again after leaving it), not on every call.
    warn_priors = like_the_priors and not state.like_the_priors
    state = replace(state, like_the_priors=like_the_priors)
    if warn_priors:
        warn(
            f"SoftmaxClassifier(solver='sgd').partial_fit: after {state.calls} calls and "
            f"{state.n_samples_seen} rows the stream's objective is no lower than that of "
            f"predicting the class priors ({state.prior_gap[0]:.4g} against "
            f"{state.prior_gap[1]:.4g}, running averages): the model has learned nothing "
            "from the features. Its steps may be stalled by a few "
            "outlier rows, whose spread the preconditioner's running moments keep "
            "(sgd_state_.moments.variance), or the features may carry no signal. Standardize "
            "the features and remove outliers, or set precondition=False, and start a new "
            "stream.",
            ConvergenceWarning,
        )
    return SolverResult(coef=coef, n_iter=1, converged=stop, objective_history=[objective],
                        n_evaluations=-(-train.X.shape[0] // batch_size), state=state,
                        validation_scores=[] if score is None else [score],
                        message="early stopping" if stop else "one pass")
