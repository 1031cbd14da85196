"""Per-iteration bookkeeping shared by the full-batch solvers."""

import math

import numpy as np

from ._result import SolverResult

# A stop at the limit of floating-point precision counts as converged when the
# optimality measure is at most this multiple of tol.
PRECISION_SLACK = 10.0
# Why a full-batch solver stopped, by reason (SolverResult.stop for a stop
# that is not convergence).
MESSAGES = {
    "stopped": "converged (optimality at most tol)",
    "precision": "the objective no longer decreases at the limit of floating-point precision",
    "max_iter": "reached max_iter",
    "line search": "the line search found no step that decreases the objective",
}
# What to do about a stop, by reason: the one place a ConvergenceWarning's
# advice comes from (see stop_advice).
ADVICE = {
    "max_iter": "Increase max_iter, or loosen tol; standardized features (StandardScaler) "
                "often need fewer iterations.",
    "precision": "tol is below what the data's floating-point precision allows: use a "
                 "larger tol.",
    "line search": "The features may be badly scaled: standardize them (StandardScaler).",
    "sgd": "SGD's steps suit standardized features: standardize them (StandardScaler), or "
           "lower eta0.",
}


def stop_advice(reason, dtype=None):
    """The advice of :data:`ADVICE` for a stop of ``reason`` on data of ``dtype``.

    At the precision limit of float32 data, float64 data would take ``tol``
    further: the advice says so.
    """
    advice = ADVICE.get(reason, ADVICE["max_iter"])
    if reason == "precision" and dtype is not None and str(dtype).endswith("float32"):
        advice = advice[:-1] + ", or float64 X (float32 carries 7 digits)."
    return advice


# A second-order stop also waits until the next step would lower the objective
# by at most this fraction of tol, relative to the objective (see settled).
SETTLED = 5e-3


def settled(decrement, tol, value):
    """Whether a step predicted to lower the objective by ``decrement / 2`` is negligible.

    At a stop with optimality within ``tol``, the largest gradient entry
    bounds the remaining objective only through the curvature: where the
    curvature is low (a weak penalty on many rows), gradient entries below
    ``tol`` can still leave the objective further above its minimum than
    L-BFGS leaves it. Half the Newton decrement ``-g . d`` estimates that
    excess; below ``SETTLED * tol`` relative (5e-7 at tol=1e-4) the objective
    is as settled as the gradient.
    """
    return decrement / 2 <= SETTLED * tol * max(abs(value), 1.0)


class IterationTrace:
    """Callback for ``scipy.optimize.minimize`` that records and stops.

    After each iteration it records the objective, prints a line when
    ``verbose``, reports the iteration to ``callback`` and raises
    ``StopIteration`` (which scipy treats as a clean stop) once the
    problem's optimality measure is at most ``tol`` or ``callback`` asks to
    stop.

    Parameters
    ----------
    bridge : ScipyBridge
    tol : float
    verbose : int
    name : str
        The solver's name, for the verbose lines.
    callback : callable or None, default=None
        ``callback(coef) -> bool``, called after every iteration (the one
        that meets ``tol`` included) with the coefficients in the problem's
        layout; a true value stops the solver after that iteration.
    """

    def __init__(self, bridge, tol, verbose, name, callback=None):
        self.bridge = bridge
        self.tol = tol
        self.verbose = verbose
        self.name = name
        self.callback = callback
        self.history = []
        self.optimality = float("nan")
        self.converged = False
        self.stopped_by_callback = False

    def start(self, x0, first=None):
        """Check the starting point; True if it already meets ``tol``.

        ``first``: the bridge of a float32 copy that the solve begins on. The
        start is evaluated there first, and on this trace's bridge (where
        every stop is judged) only where it meets ``tol`` there, or cannot be
        evaluated there: the float32 phase then begins from that evaluation,
        without a float64 one it does not need.
        """
        if first is not None:
            try:
                with np.errstate(over="raise", invalid="raise"):
                    value, optimality = first.state_at(x0)
            except FloatingPointError:
                optimality = math.nan
            if optimality > self.tol:  # False for NaN: float64 decides
                self.optimality = optimality
                if self.verbose:
                    print(f"[{self.name}] start  objective={value:.10g}  "
                          f"optimality={optimality:.3e} (float32)")
                return False
        value, self.optimality = self.bridge.state_at(x0)
        if self.verbose:
            print(f"[{self.name}] start  objective={value:.10g}  optimality={self.optimality:.3e}")
        return self.optimality <= self.tol

    def __call__(self, intermediate_result):
        value, optimality = self.bridge.state_at(intermediate_result.x)
        if self.record(intermediate_result.x, value, optimality):
            raise StopIteration

    def record(self, x, value, optimality):
        """Record an iteration ending at ``x``; True when the solver should stop."""
        self.optimality = optimality
        self.history.append(value)
        if self.verbose:
            print(
                f"[{self.name}] iter {len(self.history):4d}  objective={value:.10g}"
                f"  optimality={self.optimality:.3e}"
            )
        self.converged = self.optimality <= self.tol
        # The iteration is reported even when it meets tol, so that a callback
        # sees exactly n_iter_ iterations.
        if self.callback is not None and self.callback(self.bridge.to_coef(x)):
            self.stopped_by_callback = True
        return self.converged or self.stopped_by_callback

    def result(self, x, at_precision_limit=False, message="", curvature=None, reason="max_iter"):
        """The :class:`SolverResult` at ``x``.

        ``at_precision_limit`` says that the solver stopped because the
        objective cannot decrease further in floating point. That counts as
        converged when the optimality measure is within
        :data:`PRECISION_SLACK` times ``tol`` (the objective's rounding then
        hides the last digits of the gradient), and not beyond: a stop far
        from optimality is not convergence. ``reason`` (a key of
        :data:`MESSAGES`) says why a stop that is not convergence happened;
        the result's ``stop`` keeps it.
        """
        _, optimality = self.bridge.state_at(x)
        coef = self.bridge.to_coef(x)
        converged = (
            self.converged
            or optimality <= self.tol
            or at_precision_limit and optimality <= PRECISION_SLACK * self.tol
        )
        stop = ""
        if self.stopped_by_callback and not converged:
            message = f"stopped by a callback after {len(self.history)} iterations"
        elif at_precision_limit and not converged:
            message, stop = MESSAGES["precision"], "precision"
        elif not converged:
            stop = reason
        return SolverResult(
            coef=coef,
            n_iter=len(self.history),
            converged=bool(converged),
            objective_history=list(self.history),
            optimality=optimality,
            n_evaluations=self.bridge.n_evaluations,
            n_hessian_products=self.bridge.n_hessian_products,
            message=message,
            stopped_by_callback=self.stopped_by_callback,
            curvature=curvature,
            stop=stop,
            loss_at_coef=self.bridge.loss_at(x),
        )
