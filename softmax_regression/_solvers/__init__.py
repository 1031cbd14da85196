"""Solvers: plain functions ``solve_xxx(problem, coef0, *, tol, max_iter, ...)``.

Each returns a :class:`SolverResult`. :data:`SOLVERS` maps the estimator's
``solver`` names to them, with what each can handle.
"""

from dataclasses import dataclass

from ._result import SolverResult
from .lbfgs import solve_lbfgs
from .newton import solve_newton_cg
from .sgd import solve_sgd

SGD_OPTIONS = (
    "batch_size", "learning_rate", "eta0", "power_t", "momentum", "shuffle",
    "early_stopping", "validation_fraction", "n_iter_no_change",
)


@dataclass(frozen=True)
class SolverSpec:
    """A solver function and what it needs and supports.

    Attributes
    ----------
    function : callable
        ``function(problem, coef0, *, tol, max_iter, verbose, **options)``.
    supports_l1 : bool
        Whether the solver handles an L1 part of the penalty.
    options : tuple of str
        Estimator parameters passed on to ``function`` by name.
    stateful : bool
        Whether the solver keeps a state that ``warm_start`` and
        ``partial_fit`` continue from (passed as ``state=``).
    """

    function: object
    supports_l1: bool
    options: tuple = ()
    stateful: bool = False


SOLVERS = {
    "lbfgs": SolverSpec(solve_lbfgs, supports_l1=True),
    "newton-cg": SolverSpec(solve_newton_cg, supports_l1=False),
    "sgd": SolverSpec(solve_sgd, supports_l1=True, options=SGD_OPTIONS + ("random_state",),
                      stateful=True),
}

__all__ = ["SGD_OPTIONS", "SOLVERS", "SolverResult", "SolverSpec", "solve_lbfgs",
           "solve_newton_cg", "solve_sgd"]
