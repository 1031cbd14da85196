"""The optimization problem over row chunks held by dask workers.

:class:`ChunkedSoftmaxProblem` has the interface of
:class:`~._problem.SoftmaxProblem` (what the solvers and the scipy bridge
call), but each pass over the data is one map-reduce: the loss's own
``loss_gradient`` (or gradient and probabilities) runs on every row chunk, on
the worker that holds it, and the ``(value, gradient)`` pairs are summed in a
tree on the workers. Only the coefficients (sent once per worker) and the
partial sums, ``O(n_features * n_classes)`` numbers per chunk, cross the
network; the client ends up with one gradient.

The scheduler is whatever ``dask.compute`` uses: the active
``distributed.Client``, else dask's local threaded scheduler. The block
evaluation is the in-memory loss; only the scheduling differs.
"""

from dataclasses import dataclass, field

import dask
import numpy as np

from .._model.hessian import hessian_diagonal
from .._model.problem import SoftmaxProblem
from .._solvers._overflow import overflow_is_an_error

# Partial results combined per node of the reduction tree: with 8, a
# thousand chunks need three levels and no node holds more than 8 gradients.
SPLIT_EVERY = 8


def tree_reduce(parts, combine, split_every=SPLIT_EVERY):
    """One delayed result of ``combine`` applied in a tree over ``parts``.

    Parameters
    ----------
    parts : list of dask.delayed.Delayed
        At least one.
    combine : callable
        ``combine(*results)`` of at most ``split_every`` results, associative.
    split_every : int, default=8

    Returns
    -------
    dask.delayed.Delayed
    """
    combine = dask.delayed(combine, pure=True)
    while len(parts) > 1:
        parts = [combine(*parts[i : i + split_every]) for i in range(0, len(parts), split_every)]
    return parts[0]


def add_up(*results):
    """Sum tuples of numbers and arrays entry by entry (a node of the tree)."""
    return tuple(sum(entries[1:], entries[0]) for entries in zip(*results))


def all_true(*flags):
    return all(flags)


# -- block evaluations: run on the workers, on one chunk each -----------------
def _block_loss_gradient(loss, coef, X, Y, sample_weight, offset=None):
    with overflow_is_an_error():
        value, G = loss.loss_gradient(coef, X, Y, sample_weight, offset)
    # Partial gradients are summed in float64: a float32 sum over many chunks
    # would lose the digits that a float32 GEMM over all rows keeps.
    return value, np.asarray(G, dtype=np.float64)


def _block_gradient_proba(loss, coef, X, Y, sample_weight, offset=None):
    with overflow_is_an_error():
        value, G, P = loss.loss_gradient_proba(coef, X, Y, sample_weight, offset)
    return value, np.asarray(G, dtype=np.float64), P


def _value_gradient_of(part):
    return part[0], part[1]


def _block_hessian_product(loss, V, X, part, sample_weight):
    with overflow_is_an_error():
        HV = loss.hessian_product(V, X, part[2], sample_weight)
    return (np.asarray(HV, dtype=np.float64),)


def _block_hessian_diagonal(loss, X, part, sample_weight):
    with overflow_is_an_error():
        return (hessian_diagonal(loss, X, part[2], sample_weight),)


def _block_class_totals(loss, Y, sample_weight):
    return (loss.class_totals(Y, sample_weight),)


def _block_separates(loss, coef, X, Y, sample_weight, offset=None):
    return loss.separates(coef, X, Y, sample_weight, offset)


def chunk_parts(array):
    """The chunks of a dask array that is chunked along rows only, as delayed objects."""
    blocks = array.to_delayed(optimize_graph=False)
    return list(blocks.reshape(blocks.shape[0], -1)[:, 0])


@dataclass(frozen=True)
class ChunkedSoftmaxProblem(SoftmaxProblem):
    """A :class:`~._problem.SoftmaxProblem` whose arrays are persisted dask arrays.

    ``X`` (dense or scipy-sparse chunks), ``Y``, ``sample_weight`` and the
    ``offset`` (if any) share their row chunks and are chunked along rows only. Everything that does not
    touch the data (penalty, optimality, starting point) is inherited; every
    pass over the data is a map-reduce over the chunks. Coefficients and
    gradients are host NumPy arrays.

    Cost of one pass with ``c`` chunks on ``m`` workers: each worker receives
    the coefficients once; each chunk produces one ``(value, gradient)`` of
    ``n_logits * (n_features + 1)`` float64 numbers, combined
    ``SPLIT_EVERY`` at a time on the workers; the client receives one. The
    scheduler handles ``~c * (1 + 1 / (SPLIT_EVERY - 1))`` tasks per pass.

    ``loss_gradient_hessp`` keeps each chunk's probabilities (``n x
    n_logits``, a fraction ``n_logits / n_features`` of X) on its worker
    until the Newton iteration moves on, so a Hessian product is two matrix
    products per chunk instead of three and an exponential.
    """

    blocks: list = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        # The chunks as delayed objects, taken once: building them from the
        # arrays' graphs on every evaluation would cost client time per pass.
        offsets = ([None] * self.X.numblocks[0] if self.offset is None
                   else chunk_parts(self.offset))
        blocks = list(zip(chunk_parts(self.X), chunk_parts(self.Y),
                          chunk_parts(self.sample_weight), offsets))
        object.__setattr__(self, "blocks", blocks)

    @property
    def namespace_and_device(self):
        # The coefficients live on the client, in NumPy, whatever the chunks are.
        from .._utils.compat import get_namespace_and_device

        xp, _, device = get_namespace_and_device(np.zeros(0))
        return xp, device

    @property
    def n_chunks(self):
        return len(self.blocks)

    def _map_reduce(self, block_function, *arguments, combine=add_up):
        """``combine`` over chunks of ``block_function(loss, *arguments, X, Y, w, offset)``."""
        # Each argument becomes one key of the graph, so that a worker fetches
        # the coefficients once, not once per chunk.
        arguments = [dask.delayed(a, pure=True) for a in arguments]
        block = dask.delayed(block_function, pure=True)
        parts = [block(self.loss, *arguments, X, Y, w, O) for X, Y, w, O in self.blocks]
        return dask.compute(tree_reduce(parts, combine))[0]

    def loss_gradient(self, coef):
        """The loss's value and gradient, from one map-reduce over the chunks."""
        return self._map_reduce(_block_loss_gradient, np.asarray(coef))

    def loss_gradient_hessp(self, coef):
        """Value, gradient and a Hessian-vector closure (each product one map-reduce)."""
        coef = dask.delayed(np.asarray(coef), pure=True)
        block = dask.delayed(_block_gradient_proba, pure=True)
        parts = [block(self.loss, coef, X, Y, w, O) for X, Y, w, O in self.blocks]
        # Persisted, the probabilities stay on the workers for the products;
        # they are released when the closure (and with it ``parts``) is dropped.
        parts = dask.persist(*parts)
        leaves = [dask.delayed(_value_gradient_of, pure=True)(part) for part in parts]
        value, G = dask.compute(tree_reduce(leaves, add_up))[0]
        product = dask.delayed(_block_hessian_product, pure=True)

        def hessp(V):
            V = dask.delayed(np.asarray(V), pure=True)
            terms = [product(self.loss, V, X, part, w)
                     for (X, _, w, _), part in zip(self.blocks, parts)]
            return dask.compute(tree_reduce(terms, add_up))[0][0]

        def diagonal():
            diagonal_of = dask.delayed(_block_hessian_diagonal, pure=True)
            terms = [diagonal_of(self.loss, X, part, w)
                     for (X, _, w, _), part in zip(self.blocks, parts)]
            return dask.compute(tree_reduce(terms, add_up))[0][0]

        # Newton-CG's preconditioner: the same as in memory, chunk by chunk.
        hessp.diagonal = diagonal
        return value, G, hessp

    def objective(self, coef):
        value, _ = self.loss_gradient(coef)
        return value + self.penalty.value(self.weights(coef))

    def class_totals(self):
        """Total (normalized) weight of each class, on the host; one pass over Y."""
        totals = [dask.delayed(_block_class_totals, pure=True)(self.loss, Y, w)
                  for _, Y, w, _ in self.blocks]
        return dask.compute(tree_reduce(totals, add_up))[0][0]

    def separates(self, coef):
        """Whether ``coef`` separates the weighted samples of every chunk."""
        return self._map_reduce(_block_separates, np.asarray(coef), combine=all_true)

