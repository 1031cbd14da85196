"""The default solver: the method that measured fastest for the problem at hand.

Second-order steps need fewer passes over the data than L-BFGS's, which makes
them faster wherever a step is cheap enough (see ``benchmarks/``):

- exact Newton (:class:`~.newton_family.ExactNewton`) while forming the
  full Hessian costs less than the passes and per-iteration overhead it
  saves (:data:`EXACT_PASSES`, :data:`EXACT_OVERHEAD_FLOPS`): small tables,
  or few coefficients per row;
- sub-sampled Newton-CG (:class:`~.newton_family.SubsampledNewtonCG`) for
  larger smooth problems on dense arrays with enough rows that the sample is
  at most half of them and has at least :data:`SAMPLE_PER_COEF` rows per
  coefficient;
- proximal Newton (:class:`~.proximal_newton.ProximalNewton`) for an L1
  part of the penalty, with the Hessian of all the rows or of a sample under
  the same rules, while the sample's full Hessian costs at most
  :data:`EXACT_PASSES` passes;
- L-BFGS everywhere else: many coefficients on few rows, sparse X beyond
  the exact Newton's reach (L-BFGS-B on the split weights with an L1 part),
  and dask collections, whose passes run where the data live.
"""

import scipy.sparse as sp

from .._model.problem import SoftmaxProblem
from .lbfgs import solve_lbfgs
from .newton_family import ExactNewton, SubsampledNewtonCG
from .proximal_newton import ProximalNewton

# Exact Newton takes about 7 iterations where L-BFGS takes about 15-25, each
# with a pass (4 n d K flops) and a fixed cost in Python of about 100 us; its
# Hessian costs n p^2 flops. It wins while that is below about 12 passes plus
# the fixed cost it saves, counted as flops at the speed of small products.
EXACT_PASSES = 12
EXACT_OVERHEAD_FLOPS = 3e6
# A row sample carries the curvature of p coefficients only with several rows
# per coefficient: 20,000 coefficients on a 5,000-row sample took 88
# iterations (8x LogisticRegression's time) where L-BFGS takes 100 passes.
SAMPLE_PER_COEF = 2


def hessian_rows(problem):
    """Where a Newton method's curvature would come from: ``"all"`` rows, a ``"sample"``, or None.

    ``"all"`` where forming the full Hessian costs less than the passes and
    per-iteration overhead it saves; ``"sample"`` where a random sample of
    the rows can carry the curvature of every coefficient (dense X, at most
    half the rows, :data:`SAMPLE_PER_COEF` rows per coefficient); None where
    L-BFGS's passes win.
    """
    # The choice reads shapes only, never the array namespace: the same data
    # get the same method on NumPy, array-API arrays or a GPU.
    n_samples, n_features = problem.X.shape
    n_logits, width = problem.coef_shape
    p = n_logits * width
    if n_samples * p**2 <= EXACT_OVERHEAD_FLOPS + EXACT_PASSES * pass_flops(problem):
        return "all"
    # Sparse rows are wide: a sample of them sees too few features for its
    # curvature to stand for the data's (measured: 100 iterations, 5x slower).
    sample = SubsampledNewtonCG.sample_size(n_samples)
    if not sp.issparse(problem.X) and 2 * sample <= n_samples and sample >= SAMPLE_PER_COEF * p:
        return "sample"
    # Few rows and many coefficients: each conjugate-gradient step would cost
    # a whole pass, and L-BFGS's passes win.
    return None


def pass_flops(problem):
    """The flops of one pass (value and gradient): two products of X with the coefficients."""
    n_samples, n_features = problem.X.shape
    return 4 * n_samples * n_features * problem.coef_shape[0]


def choose_method(problem):
    """The name of the method :func:`solve_auto` runs on ``problem``."""
    if type(problem) is not SoftmaxProblem:
        return "lbfgs"
    rows = hessian_rows(problem)
    if problem.penalty.is_smooth:
        return {"all": "newton-exact", "sample": "newton-cg-sampled", None: "lbfgs"}[rows]
    if rows == "sample":
        # The proximal model needs the whole Hessian of the sample, not
        # products with it: worth it while that costs a few passes.
        sample = SubsampledNewtonCG.sample_size(problem.X.shape[0])
        p = problem.coef_shape[0] * problem.coef_shape[1]
        if sample * p**2 > EXACT_PASSES * pass_flops(problem):
            return "lbfgs"
    return "lbfgs" if rows is None else "newton-proximal"


def solve_auto(problem, coef0, *, tol, max_iter, verbose=0, callback=None, random_state=None,
               curvature=None, start_loss=None):
    """Minimize ``problem``'s objective with the method :func:`choose_method` picks.

    Parameters
    ----------
    problem : SoftmaxProblem or ChunkedSoftmaxProblem
    coef0 : ndarray
        Starting coefficients, 2-D.
    tol : float
        Stop when the problem's optimality measure is at most ``tol``.
    max_iter : int
        Maximum number of iterations (Newton or L-BFGS).
    verbose : int, default=0
        Print one line per iteration, and the pass count at the end, when positive.
    callback : callable or None, default=None
        ``callback(coef) -> bool`` after each iteration; true stops the solver.
    random_state : int, RandomState or None, default=None
        Draws the rows of a sub-sampled Hessian; None uses a fixed stream, so
        the same data always give the same coefficients.
    curvature : CurvatureMemory or None, default=None
        For L-BFGS: curvature pairs of a nearby problem to start from.
    start_loss : tuple of (float, ndarray) or None, default=None
        The loss's value and gradient alone at ``coef0``, known from an
        earlier evaluation on the same data (see :func:`.lbfgs.solve_lbfgs`):
        the start is judged from them without a pass.

    Returns
    -------
    SolverResult
        ``method`` names the method that ran.
    """
    method = choose_method(problem)
    if verbose:
        print(f"[auto] method: {method}")
    options = dict(tol=tol, max_iter=max_iter, verbose=verbose, callback=callback)
    if method == "lbfgs":
        in_memory = type(problem) is SoftmaxProblem
        result = solve_lbfgs(problem, coef0, curvature=curvature,
                             settle=problem.penalty.is_smooth, single_precision=in_memory,
                             precondition=in_memory, start_loss=start_loss, **options)
        # The Hessian diagonal of the start counts as a product (about a pass).
        result.pass_equivalents = float(result.n_evaluations + result.n_hessian_products)
    else:
        if method == "newton-exact":
            solver = ExactNewton(problem, **options)
        elif method == "newton-proximal":
            solver = ProximalNewton(problem, sample=hessian_rows(problem) == "sample",
                                    random_state=random_state, **options)
        else:
            solver = SubsampledNewtonCG(problem, random_state=random_state, **options)
        if start_loss is not None:
            solver.bridge.remember(solver.bridge.to_flat(coef0), *start_loss)
        result = solver.solve(coef0)
    result.method = method
    return result
