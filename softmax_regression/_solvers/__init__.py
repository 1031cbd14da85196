"""Solvers: plain functions ``solve_xxx(problem, coef0, *, tol, max_iter, ...)``.

Each returns a :class:`SolverResult`. :data:`SOLVERS` maps the estimator's
``solver`` names to them, with what each can handle.
"""

from dataclasses import dataclass

from ._result import SolverResult
from .lbfgs import solve_lbfgs
from .newton import solve_newton_cg


@dataclass(frozen=True)
class SolverSpec:
    """A solver function and the penalties it supports."""

    function: object
    supports_l1: bool


SOLVERS = {
    "lbfgs": SolverSpec(solve_lbfgs, supports_l1=True),
    "newton-cg": SolverSpec(solve_newton_cg, supports_l1=False),
}

__all__ = ["SOLVERS", "SolverResult", "SolverSpec", "solve_lbfgs", "solve_newton_cg"]
