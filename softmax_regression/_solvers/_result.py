"""What every solver returns."""

from dataclasses import dataclass, field


@dataclass
class SolverResult:
    """Outcome of one solver run.

    Attributes
    ----------
    coef : ndarray
        Final coefficients, 2-D, in the problem's dtype.
    n_iter : int
        Iterations (epochs for SGD) performed.
    converged : bool
        Whether the stopping criterion was met within ``max_iter``.
    objective_history : list of float
        The objective after each iteration.
    optimality : float
        The problem's optimality measure at ``coef`` (``nan`` if not computed).
    n_evaluations : int
        Loss and gradient evaluations (passes over the data).
    n_hessian_products : int
        Hessian-vector products (each one more pass over the data).
    message : str
        Why the solver stopped.
    stop : str
        For a stop that is not convergence (nor a callback's), its reason: a
        key of :data:`~._trace.ADVICE` (``"max_iter"``, ``"precision"``,
        ``"line search"``, ``"sgd"``); ``""`` otherwise.
    state : object or None
        What a stochastic solver needs to continue (its optimizer state).
    validation_scores : list of float
        Held-out accuracy after each epoch, when early stopping is on.
    stopped_by_callback : bool
        Whether the solver stopped because a callback asked it to (see
        :mod:`softmax_regression._callbacks`). Such a stop is the user's
        choice: ``converged`` still says whether ``tol`` was met, but no
        ConvergenceWarning is due.
    curvature : CurvatureMemory or None
        L-BFGS's curvature pairs at the end of a smooth problem, which a run
        on a nearby problem (another C, more rows) can start from.
    pass_equivalents : float
        The work done, in passes over the data: evaluations plus Hessian
        products or factorizations, each counted at its cost in passes
        (``nan`` where a solver does not count it).
    method : str
        The method that ran, for a solver that chooses one per problem.
    loss_at_coef : tuple of (float, ndarray) or None
        ``(value, G)`` of the loss alone (no penalty) at ``coef``: its value
        and 2-D gradient on the host, in float64, from the solver's last
        evaluation. The next point of a path, whose loss is the same, judges
        ``coef`` as its start from it without a pass over the data.
    """

    coef: object
    n_iter: int
    converged: bool
    objective_history: list = field(default_factory=list)
    optimality: float = float("nan")
    n_evaluations: int = 0
    n_hessian_products: int = 0
    message: str = ""
    stop: str = ""
    state: object = None
    validation_scores: list = field(default_factory=list)
    stopped_by_callback: bool = False
    curvature: object = None
    pass_equivalents: float = float("nan")
    method: str = ""
    loss_at_coef: tuple = None
