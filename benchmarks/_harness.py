"""What the ``bench_<library>`` modules share: the record, counters and traces.

Every library module exposes the same three names:

- ``LIBRARY``: the name in the results;
- ``solvers()``: the solver names it benchmarks;
- ``fit(problem, *, solver, dtype, tol, max_iter, C, trace=False) -> FitRecord``.

``fit`` raises :class:`SkipFit` when a combination cannot run (for example a
full Hessian that does not fit in memory). With ``trace=True`` it also
records the objective against wall time since the start of the fit, for the
convergence plots and the time-to-target column.
"""

import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from objective import objective


class SkipFit(Exception):
    """This solver cannot run on this problem; the message says why."""


@dataclass
class FitRecord:
    """One fit of one solver.

    ``iterations`` are epochs for stochastic solvers. ``evaluations`` counts
    value(+gradient) passes over the data, ``hessian_products`` the
    Hessian-vector products (or full Hessians, see ``note``); None where the
    library does not expose them. ``trace`` is a list of
    ``(seconds since the fit started, objective)`` pairs.
    """

    library: str
    solver: str
    estimator: object
    iterations: int = None
    evaluations: int = None
    hessian_products: int = None
    stochastic: bool = False
    converged: bool = None
    trace: list = field(default_factory=list)
    note: str = ""
    cpu_seconds: float = None  # set by the runner

    def scored_trace(self, X, y, C):
        """The trace as ``(seconds, objective)``, scoring the coefficients a
        sweep kept (done here, after the fit, so that it adds neither time nor
        memory to the measured fit)."""
        return [
            (t, v if np.isscalar(v) else objective(X, y, v[0], v[1], C=C))
            for t, v in self.trace
        ]

    @property
    def passes(self):
        """Passes over the data that cost two matrix products each."""
        if self.stochastic:
            return self.iterations
        if self.evaluations is None:
            return None
        return self.evaluations + (self.hessian_products or 0)


class Convergence:
    """Whether a ConvergenceWarning was raised (and hidden) in :func:`quiet`."""

    warned = False

    @property
    def converged(self):
        return not self.warned


@contextmanager
def quiet():
    """Silence the fit; a ConvergenceWarning sets ``status.warned``.

    Non-convergence is a column, not a message; the other warnings seen here
    (scipy line searches giving up at float32 precision) are not news either.
    """
    status = Convergence()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("ignore")
        warnings.simplefilter("always", ConvergenceWarning)
        yield status
    status.warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)


class CallCounter:
    """Count (and optionally trace) calls of methods, patched on their class.

    ``methods`` maps a name to ``(class, attribute, kind)``; ``kind`` names
    what the method returns: ``"value"`` (the objective, or a tuple starting
    with it), ``"hessp"`` (a tuple ending with a Hessian-product closure,
    whose calls are counted too), both (``"value+hessp"``) or ``"plain"``.
    ``value_of(args, kwargs, returned_value)`` turns the returned loss into
    the objective when tracing.
    """

    def __init__(self, methods, value_of=None, trace=False):
        self.methods = methods
        self.value_of = value_of
        self.tracing = trace
        self.counts = {name: 0 for name in methods}
        self.hessp_calls = 0
        self.trace = []
        self.t0 = None

    def _wrap(self, name, original, kind):
        counter = self

        def wrapper(*args, **kwargs):
            out = original(*args, **kwargs)
            counter.counts[name] += 1
            if counter.tracing and "value" in kind:
                value = out[0] if isinstance(out, tuple) else out
                if counter.value_of is not None:
                    value = counter.value_of(args, kwargs, value)
                counter.trace.append((time.perf_counter() - counter.t0, float(value)))
            if "hessp" in kind:
                hessp = out[-1]

                def counted_hessp(*a, **k):
                    counter.hessp_calls += 1
                    return hessp(*a, **k)

                # What the closure carries (the Hessian's diagonal) goes along.
                counted_hessp.__dict__.update(hessp.__dict__)
                out = (*out[:-1], counted_hessp)
            return out

        return wrapper

    @contextmanager
    def active(self):
        saved = []
        for name, (cls, attr, kind) in self.methods.items():
            original = cls.__dict__[attr]
            saved.append((cls, attr, original))
            setattr(cls, attr, self._wrap(name, original, kind))
        self.t0 = time.perf_counter()
        try:
            yield self
        finally:
            for cls, attr, original in saved:
                setattr(cls, attr, original)


def sweep_max_iter(fit_once, max_iter):
    """Trace a solver without hooks: refit with growing ``max_iter``.

    ``fit_once(k)`` fits with ``max_iter=k`` and returns ``(record, seconds)``.
    Each fit restarts from scratch, so the point ``(seconds_k, coef_k)`` is
    exactly where a run stopped at ``k`` iterations would be; ``k`` grows
    threefold (1, 3, 9, 27, ...) so the sweep costs about 1.5 fits. Stops at
    ``max_iter`` or once a fit stops on its own criterion. Returns the last
    record, with the trace attached (scored by :meth:`FitRecord.scored_trace`).
    """
    steps, k = [], 1
    while k < max_iter:
        steps.append(k)
        k = max(k + 1, int(round(k * 3)))
    steps.append(max_iter)
    trace = []
    for k in steps:
        record, seconds = fit_once(k)
        estimator = record.estimator
        coef = np.array(estimator.coef_.toarray() if hasattr(estimator.coef_, "toarray")
                        else estimator.coef_, dtype=np.float64)
        trace.append((seconds, (coef, np.array(estimator.intercept_, dtype=np.float64))))
        if record.iterations is not None and record.iterations < k:
            break
    record.trace = trace
    return record


def timed(fn):
    """``(fn(), seconds)``."""
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start
