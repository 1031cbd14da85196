"""Solvers: plain functions ``solve_xxx(problem, coef0, *, tol, max_iter, ...)``.

Each returns a :class:`SolverResult`. :data:`SOLVERS` maps the estimator's
``solver`` names to them, with what each can handle; the estimator asks the
table, never a solver's name.
"""

from dataclasses import dataclass

from ._result import SolverResult
from .auto import solve_auto
from .lbfgs import solve_lbfgs
from .newton import solve_newton_cg
from .sgd import sgd_init_state, sgd_partial_fit, solve_sgd

# The largest dense float64 fold (bytes) whose float32 copy a path of fits
# makes: half its size again, beside the fold's own copy of its rows.
PATH_COPY_BYTES = 2**30

SGD_OPTIONS = (
    "batch_size", "learning_rate", "eta0", "power_t", "momentum", "shuffle",
    "early_stopping", "validation_fraction", "n_iter_no_change", "random_state",
    "precondition", "average",
)


@dataclass(frozen=True)
class SolverSpec:
    """A solver function and what it needs and supports.

    Attributes
    ----------
    function : callable
        ``function(problem, coef0, *, tol, max_iter, verbose, **options)``;
        a stateful solver also takes ``state`` (to continue from, or None)
        and ``weight_seen``.
    supports_l1 : bool
        Whether the solver handles an L1 part of the penalty.
    options : tuple of str
        Estimator parameters passed on by name to ``function``, ``init_state``
        and ``step``.
    unit : str
        What ``max_iter`` counts, for messages.
    init_state : callable or None
        ``init_state(coef, **options)``: a fresh state for ``step``.
    step : callable or None
        ``step(problem, coef, state, *, weight_seen, tol, verbose, **options)``:
        one pass over a batch, continuing from ``state`` (``partial_fit``).
        ``weight_seen`` is the total sample weight seen, this batch included.
    state_attribute : str or None
        Name of the fitted attribute that keeps the state between calls.
    carries_curvature : bool
        Whether ``function`` takes ``curvature=`` (the ``curvature`` of an
        earlier :class:`SolverResult` on the same data layout) to start from.
    takes_start_loss : bool
        Whether ``function`` takes ``start_loss=`` (an earlier result's
        ``loss_at_coef`` at ``coef0``), judging such a start without a pass.
    path_options : tuple of (str, object)
        Options a path of fits on the same data adds (``SoftmaxClassifierCV``),
        as ``(name, value)`` pairs: work shared by its points, such as a
        float32 copy of the data, pays there where one fit would not recoup it.
    """

    function: object
    supports_l1: bool
    options: tuple = ()
    unit: str = "iterations"
    init_state: object = None
    step: object = None
    state_attribute: str | None = None
    carries_curvature: bool = False
    takes_start_loss: bool = False
    path_options: tuple = ()

    @property
    def stateful(self):
        """Whether the solver keeps a state that ``partial_fit`` continues."""
        return self.step is not None


SOLVERS = {
    "auto": SolverSpec(solve_auto, supports_l1=True, options=("random_state",),
                       carries_curvature=True, takes_start_loss=True),
    # Along a path the float32 copy is made once per fold (the problems of a
    # path share it), of dense folds up to PATH_COPY_BYTES:
    # SoftmaxClassifierCV on standardized digits, 0.145 -> 0.127 s; unscaled
    # digits 0.74 -> 0.48 s; the 100,000 x 100 x 10 problem 18.2 -> 14.3 s.
    "lbfgs": SolverSpec(solve_lbfgs, supports_l1=True, carries_curvature=True,
                        takes_start_loss=True,
                        path_options=(("single_precision", True),
                                      ("single_precision_bytes", PATH_COPY_BYTES))),
    "newton-cg": SolverSpec(solve_newton_cg, supports_l1=False),
    "sgd": SolverSpec(solve_sgd, supports_l1=True, options=SGD_OPTIONS, unit="epochs",
                      init_state=sgd_init_state, step=sgd_partial_fit,
                      state_attribute="sgd_state_"),
}

__all__ = ["SOLVERS", "SolverResult", "SolverSpec"]
