"""Minibatch SGD over row chunks that stay on their dask workers.

Choice (measured in ``benchmarks/dask_scaling.py``): an epoch walks the chunks
in a shuffled order, and the in-memory epoch (:func:`~._solvers.sgd.run_epoch`:
shuffled minibatches, momentum, proximal L1) runs on each chunk on the worker
that holds it. The coefficients and the optimizer state, ``O(n_features *
n_classes)`` numbers, travel from one chunk's task to the next; the whole
walk is submitted as one chain per epoch, so the client waits once per epoch
and only the state crosses the network, never a chunk. Streaming the chunks
through the client instead (``partial_fit`` style) moves all of X over the
network every epoch and holds a chunk in the client's memory.

The updates are sequential, as in memory: this is the same algorithm on a
different row order (chunks shuffled, then rows within each chunk), not a
parallel (averaged) SGD, so it reaches the same accuracy, and it uses one
worker at a time. After each epoch the in-memory stopping rule and schedule
run on the client.
"""

import copy
from dataclasses import replace

import dask
import numpy as np

from .problem import tree_reduce
from .._model.problem import SoftmaxProblem
from .._solvers._result import SolverResult
from .._solvers.sgd import Monitor, run_epoch, sgd_init_state, start_iterate
from .._solvers.sgd_verdict import (
    check_finite_logits,
    finite_objective,
    optimality,
    optimality_and_gradient,
    stop_is_convergence,
)
from .._solvers.sgd_average import average_init
from .._solvers.sgd_monitor import epoch_rule
from .._solvers.sgd_optimizer import SGDConfig
from .._solvers.sgd_scaling import batch_moments, scaling_from


def _block_epoch(carry, X, Y, sample_weight, offset, loss, penalty, scale, config, batch_size,
                 shuffle, scaling):
    """One in-memory epoch over one chunk, continuing ``carry = (coef, state, objective)``.

    The chunk's weights are scaled by ``scale = n / n_chunk`` so that each
    minibatch gradient estimates the gradient over all ``n`` rows, exactly
    as a minibatch of an in-memory epoch does; the chunk's epoch objective
    then counts for ``n_chunk / n`` of the whole epoch's.
    """
    coef, state, objective = carry
    weights = sample_weight * sample_weight.dtype.type(scale)
    problem = SoftmaxProblem(X=X, Y=Y, sample_weight=weights, loss=loss, penalty=penalty,
                             offset=offset)
    # As in memory: an overflowing step is handled by the stopping rule.
    with np.errstate(over="ignore", invalid="ignore"):
        coef, state, chunk_objective = run_epoch(problem, coef, state, config, batch_size,
                                                 shuffle, scaling)
    return coef, state, objective + chunk_objective / scale


def _block_moments(X, sample_weight, call_weight):
    share = float(np.sum(sample_weight, dtype=np.float64))
    if share == 0:
        return None
    return batch_moments(X, sample_weight / sample_weight.dtype.type(share), share * call_weight)


def _merge_moments(*moments):
    merged = None
    for part in moments:
        merged = part if merged is None else merged.merge(part)
    return merged


def _block_check_finite_logits(coef, X, Y, sample_weight, offset, loss, penalty):
    check_finite_logits(SoftmaxProblem(X=X, Y=Y, sample_weight=sample_weight, loss=loss,
                                       penalty=penalty, offset=offset), coef)
    return True


def _chunked_scaling(problem, blocks, like, call_weight, precondition):
    """The preconditioner from the features' moments: one map-reduce (Chan's merge)."""
    if not precondition:
        return None, None
    block = dask.delayed(_block_moments, pure=True)
    moments = dask.compute(tree_reduce([block(X, w, call_weight) for X, _, w, *_ in blocks],
                                       _merge_moments))[0]
    return moments, scaling_from(moments, problem.loss.fit_intercept, like)


def _run_chunked_epoch(problem, blocks, coef, state, config, batch_size, shuffle, scaling):
    """Submit one epoch as a chain of chunk tasks; wait for its end."""
    n = problem.X.shape[0]
    order = state.random_state.permutation(len(blocks)) if shuffle else range(len(blocks))
    step = dask.delayed(_block_epoch, pure=True)
    carry = dask.delayed((coef, state, 0.0), pure=True)
    for index in order:
        X, Y, w, O, rows = blocks[index]
        carry = step(carry, X, Y, w, O, problem.loss, problem.penalty, n / rows, config,
                     batch_size, shuffle, scaling)
    return dask.compute(carry)[0]


def solve_sgd_chunked(problem, coef0, *, tol, max_iter, verbose=0, batch_size=256,
                      learning_rate="adaptive", eta0=0.1, power_t=0.5, momentum=0.9,
                      shuffle=True, random_state=None, early_stopping=False,
                      validation_fraction=0.1, n_iter_no_change=5, precondition=True,
                      average=True, state=None, weight_seen=1.0):
    """:func:`~._solvers.sgd.solve_sgd` on a :class:`~._dask_problem.ChunkedSoftmaxProblem`.

    Same parameters, state, stopping rule and result; only the epoch is
    scheduled differently. ``early_stopping`` is refused earlier
    (:func:`~._dask.fit_dask`): its held-out rows would have to be scored
    after every epoch, which this driver does not do.

    Returns
    -------
    SolverResult
    """
    config = SGDConfig(learning_rate, eta0, power_t, momentum)
    if state is None:
        state = sgd_init_state(coef0, learning_rate=learning_rate, eta0=eta0, power_t=power_t,
                               momentum=momentum, random_state=random_state)
    state = replace(state, monitor=Monitor(), random_state=copy.deepcopy(state.random_state),
                    moments=None, average=None, config=config)
    # Empty chunks (possible after filtering a DataFrame) have no minibatch.
    blocks = [(*block, n) for block, n in zip(problem.blocks, problem.X.chunks[0]) if n > 0]
    iterate = np.asarray(start_iterate(state, np.asarray(coef0)))
    moments, scaling = _chunked_scaling(problem, blocks, iterate, weight_seen, precondition)
    state = replace(state, moments=moments)
    coef = iterate
    history = []
    stopped = floor = False
    epoch = 0
    for epoch in range(1, max_iter + 1):
        state = replace(state, average=average_init(iterate) if average else None)
        iterate, state, objective = _run_chunked_epoch(problem, blocks, iterate, state, config,
                                                       batch_size, shuffle, scaling)
        history.append(objective)
        objective = finite_objective(objective, iterate, state, f"epoch {epoch}")
        coef = state.average.coef if average else iterate
        optimizer, monitor, stopped, rolled_back, floor = epoch_rule(
            state.optimizer, state.monitor, coef, objective, None, learning_rate, tol,
            n_iter_no_change)
        if rolled_back is not coef:
            coef = iterate = rolled_back
        state = replace(state, optimizer=optimizer, monitor=monitor)
        if verbose:
            print(f"[sgd] epoch {epoch:4d}  objective={objective:.10g}  "
                  f"eta={state.learning_rate:.3g}  optimality={optimality(problem, coef):.3e}")
        if stopped:
            break
    check = dask.delayed(_block_check_finite_logits, pure=True)
    coef_key = dask.delayed(coef, pure=True)
    dask.compute([check(coef_key, X, Y, w, O, problem.loss, problem.penalty)
                  for X, Y, w, O, _ in blocks])
    state = replace(state, n_samples_seen=state.n_samples_seen + epoch * problem.X.shape[0],
                    weight_seen=weight_seen, iterate=iterate if average else None,
                    average=None)
    final_optimality, G = optimality_and_gradient(problem, coef)
    converged, message, stop = stop_is_convergence(problem, coef, G, scaling, tol,
                                                    final_optimality, stopped, floor,
                                                    early_stopping=False)
    n_batches = sum(-(-n // batch_size) for *_, n in blocks)
    return SolverResult(
        coef=coef, n_iter=epoch, converged=converged, objective_history=history,
        optimality=final_optimality, n_evaluations=epoch * n_batches + 1, message=message,
        state=state, stop=stop,
    )
