"""L-BFGS in two precisions: a float32 phase, then float64 judges the stop.

The default solver takes L-BFGS on small float64 tables with many
coefficients (digits-like) and on sparse X; it iterates on a float32 copy
first (of sparse X: the values, beside X's own index arrays) and finishes on
the float64 problem. It must stop only where the float64 problem meets
tol, count every iteration, and leave the float64 path alone where the copy
would be unfaithful, too large or not worth it (its optimum on every problem
class: ``test_auto.py::test_lbfgs_reaches_newton_cg_optimum``).
"""

import dataclasses
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import blobs
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier
from softmax_regression._fitting.prepare import prepare
from softmax_regression._model.penalties import ElasticNet
from softmax_regression._model.problem import TRANSPOSED_BYTES
from softmax_regression._solvers.auto import choose_method
from softmax_regression._solvers.lbfgs import SINGLE_PRECISION_WORK, solve_lbfgs


def _lbfgs_data(n_classes=10, n_samples=1500, n_features=40, seed=0):
    # 10 x 41 coefficients on 1,500 rows: too many for exact Newton, too few
    # rows for a sample; overlapping classes.
    return blobs(n_samples, n_features, n_classes, seed=seed, spread=3.0)


def _problem(X, y, sample_weight=None, **params):
    return prepare(SoftmaxClassifier(**params), X, y, sample_weight).problem


def _verbose_fit(capsys, X, y, **params):
    model = SoftmaxClassifier(verbose=1, **params).fit(X, y)
    return model, capsys.readouterr().out


def test_the_stop_is_judged_in_float64(capsys):
    X, y = _lbfgs_data()
    model, out = _verbose_fit(capsys, X, y)
    assert "float64 from iteration" in out
    problem = _problem(X, y)
    coef = np.column_stack([model.coef_, model.intercept_])
    _, G = problem.smooth_value_gradient(coef)
    assert problem.optimality(coef, G) <= model.tol
    # Every iteration of both phases is counted and reported.
    assert model.n_iter_[0] == out.count("[lbfgs] iter")


def test_unscaled_features_stop_within_tol_in_float64():
    # Feature scales over two decades: L-BFGS needs hundreds of iterations,
    # most of them in float32 here; the float64 problem still judges the stop.
    X, y = _lbfgs_data()
    X = X * np.logspace(-1, 1, X.shape[1])
    problem = _problem(X, y)
    assert problem.single_precision() is not None
    mixed = solve_lbfgs(problem, problem.initial_coef(), tol=1e-4, max_iter=2000, settle=True,
                        single_precision=True)
    assert mixed.converged and mixed.stop == ""
    _, G = problem.smooth_value_gradient(mixed.coef)
    assert problem.optimality(mixed.coef, G) <= 1e-4


def test_a_tol_below_float32s_reach_is_finished_in_float64(capsys):
    X, y = _lbfgs_data()
    model, out = _verbose_fit(capsys, X, y, tol=1e-9, max_iter=1000)
    float32_part, float64_part = out.split("float64 from iteration")
    assert "float32 first" in float32_part
    assert "[lbfgs] iter" in float32_part and "[lbfgs] iter" in float64_part
    problem = _problem(X, y)
    coef = np.column_stack([model.coef_, model.intercept_])
    _, G = problem.smooth_value_gradient(coef)
    assert problem.optimality(coef, G) <= 1e-9


def test_max_iter_counts_both_phases():
    X, y = _lbfgs_data()
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        model = SoftmaxClassifier(max_iter=5).fit(X, y)
    assert model.n_iter_[0] == 5


def test_callbacks_see_float64_coefficients_in_every_iteration():
    X, y = _lbfgs_data()
    problem = _problem(X, y)
    seen = []

    def callback(coef):
        seen.append(coef.dtype)
        return False

    result = solve_lbfgs(problem, problem.initial_coef(), tol=1e-4, max_iter=100,
                         callback=callback, single_precision=True)
    assert result.converged and len(seen) == result.n_iter > 0
    assert set(seen) == {np.dtype(np.float64)}


def test_a_callback_stop_in_the_float32_phase_stops_the_fit():
    X, y = _lbfgs_data()
    problem = _problem(X, y)
    result = solve_lbfgs(problem, problem.initial_coef(), tol=1e-4, max_iter=100,
                         callback=lambda coef: True, single_precision=True)
    assert result.n_iter == 1 and result.stopped_by_callback and not result.converged


def test_an_overflow_in_float32_leaves_the_fit_to_float64():
    # Logits of about 1e39 at the start: finite in float64, not in float32.
    X, y = _lbfgs_data()
    problem = _problem(X, y)
    assert problem.single_precision() is not None
    coef0 = problem.initial_coef()
    coef0[:, :-1] = 1e38 * np.sign(np.arange(coef0.shape[0]) - 4.5)[:, None]
    plain = solve_lbfgs(problem, coef0, tol=1e-4, max_iter=20)
    mixed = solve_lbfgs(problem, coef0, tol=1e-4, max_iter=20, single_precision=True)
    assert np.array_equal(mixed.coef, plain.coef)
    assert mixed.n_iter == plain.n_iter


def test_an_overflow_in_float32_at_the_start_leaves_sparse_x_to_float64():
    # On sparse X the Hessian diagonal comes from the float32 copy; where its
    # logits overflow, from the float64 data, and the fit is float64's.
    X, y = _lbfgs_data()
    X[np.abs(X) < 1.0] = 0.0
    problem = _problem(sp.csr_array(X), y)
    assert problem.single_precision() is not None
    coef0 = problem.initial_coef()
    coef0[:, :-1] = 1e38 * np.sign(np.arange(coef0.shape[0]) - 4.5)[:, None]
    plain = solve_lbfgs(problem, coef0, tol=1e-4, max_iter=20, precondition=True)
    mixed = solve_lbfgs(problem, coef0, tol=1e-4, max_iter=20, precondition=True,
                        single_precision=True)
    assert np.array_equal(mixed.coef, plain.coef)
    assert mixed.n_iter == plain.n_iter and mixed.n_hessian_products == 1


@pytest.mark.parametrize("kind", ["float32", "offset", "large", "unfaithful",
                                  "beyond_float32", "sparse_unfaithful", "sparse_beyond_float32",
                                  "sparse_coo"])
def test_no_float32_phase_where_the_copy_would_not_serve(kind):
    X, y = _lbfgs_data()
    offset = None
    if kind == "float32":
        X = X.astype(np.float32)
    elif kind == "sparse_unfaithful":
        X[:, 0] += 1e6  # stored in every row: its extremes decide
        X = sp.csr_array(X)
    elif kind == "sparse_beyond_float32":
        X[0, 0] = 1e39
        X = sp.csc_array(X)
    elif kind == "offset":
        offset = np.zeros((len(y), 10))
    elif kind == "large":
        X = np.tile(X, (TRANSPOSED_BYTES // X.nbytes + 1, 1))
        y = np.tile(y, TRANSPOSED_BYTES // len(y) // 320 + 1)[: len(X)]
    elif kind == "unfaithful":
        X[:, 0] += 1e6  # float32 would keep 2 digits of this column's variation
    elif kind == "beyond_float32":
        X[0, 0] = 1e39
    problem = prepare(SoftmaxClassifier(), X, y, offset=offset).problem
    if kind == "sparse_coo":
        # Only CSR and CSC share their index arrays with a copy of the values.
        problem = dataclasses.replace(problem, X=sp.coo_array(problem.X))
    assert problem.single_precision() is None


def test_a_larger_copy_is_made_only_where_the_caller_allows_it():
    # One fit copies dense X of at most 4 MiB; a path of fits allows more.
    X, y = _lbfgs_data(n_samples=6000, n_features=100)
    problem = _problem(X, y)
    assert problem.X.nbytes > TRANSPOSED_BYTES
    assert problem.single_precision() is None
    single = problem.single_precision(2 * problem.X.nbytes)
    assert single.X.dtype == np.float32 and single.penalty is problem.penalty
    # The problems of a path share it; each keeps its own penalty.
    other = problem.with_penalty(ElasticNet(l2_strength=0.5))
    assert other.single_precision(2 * problem.X.nbytes).X is single.X
    assert other.single_precision(2 * problem.X.nbytes).penalty is other.penalty


def test_the_float32_copy_keeps_the_problem():
    X, y = _lbfgs_data()
    problem = _problem(X, y, np.random.default_rng(0).uniform(0, 3, len(y)))
    twin = problem.single_precision()
    for name in ("X", "Y", "sample_weight"):
        original, copy = getattr(problem, name), getattr(twin, name)
        assert copy.dtype == np.float32
        assert_allclose(copy, original, rtol=1e-7)
    assert twin.penalty is problem.penalty and twin.loss is problem.loss


@pytest.mark.parametrize("fmt", [sp.csr_array, sp.csc_matrix], ids=lambda f: f.__name__)
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
def test_sparse_copy_holds_float32_values_beside_xs_own_indices(fmt, index_dtype):
    rng = np.random.default_rng(0)
    X = fmt(sp.random_array((300, 50), density=0.1, rng=rng))
    X.indices, X.indptr = X.indices.astype(index_dtype), X.indptr.astype(index_dtype)
    X.data *= 1e3  # a column with an implicit zero spreads as far as its largest value
    y = np.arange(300) % 3
    problem = _problem(X, y)
    twin = problem.single_precision()
    assert twin.X.format == X.format and twin.X.dtype == np.float32
    assert np.shares_memory(twin.X.indices, problem.X.indices)
    assert np.shares_memory(twin.X.indptr, problem.X.indptr)
    assert_allclose(twin.X.toarray(), problem.X.toarray(), rtol=1e-7)


@pytest.mark.parametrize("fmt", [sp.csr_array, sp.csc_array], ids=lambda f: f.__name__)
def test_sparse_columns_stored_in_every_row_are_judged_by_their_extremes(fmt):
    X, y = _lbfgs_data()
    X[:, 0] = 1e3 + X[:, 0]  # spread about 10: float32 keeps five digits of it
    assert _problem(fmt(X), y).single_precision() is not None
    X[:, 0] += 1e5  # now 1e5 times its spread: two digits
    assert _problem(fmt(X), y).single_precision() is None
    X[7, 0] = 0.0  # one implicit zero: the column spreads as far as it reaches
    assert _problem(fmt(X), y).single_precision() is not None


def test_sparse_x_with_unsorted_indices_takes_the_float32_phase():
    # Text vectorizers (CountVectorizer, TfidfVectorizer) give unsorted indices.
    X, y = _lbfgs_data()
    csr = sp.csr_array(X)
    n, d = X.shape
    order = np.concatenate([start + np.arange(d)[::-1] for start in csr.indptr[:-1]])
    unsorted = sp.csr_array((csr.data[order], csr.indices[order], csr.indptr), shape=(n, d))
    assert not unsorted.has_canonical_format
    twin = dataclasses.replace(_problem(csr, y), X=unsorted).single_precision()
    assert twin is not None
    assert_allclose(twin.X.toarray(), X, rtol=1e-7)


def test_cancelling_duplicates_still_stop_within_tol_in_float64():
    # 1e8 + v and -1e8 in one row: float32 keeps none of v, the float64
    # phase does, and judges the stop on X.
    X, y = _lbfgs_data()
    n, d = X.shape
    per_row = np.column_stack([1e8 + X[:, 3], np.full(n, -1e8), np.delete(X, 3, axis=1)])
    indices = np.tile(np.r_[3, 3, np.delete(np.arange(d), 3)], n)
    doubled = sp.csr_array((per_row.ravel(), indices, np.arange(n + 1) * (d + 1)),
                           shape=(n, d))
    assert not doubled.has_canonical_format
    assert_allclose(doubled.toarray(), X, atol=1e-7)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxClassifier().fit(doubled, y)
    problem = _problem(X, y)
    coef = np.column_stack([model.coef_, model.intercept_])
    _, G = problem.smooth_value_gradient(coef)
    assert problem.optimality(coef, G) <= model.tol + 1e-7  # 1e8 + v rounds v by 1e-8


def test_sparse_default_fit_stops_within_tol_in_float64(capsys):
    X, y = _lbfgs_data()
    X[np.abs(X) < 1.0] = 0.0
    X = sp.csr_array(X)
    model, out = _verbose_fit(capsys, X, y)
    assert "float32 first" in out and "float64 from iteration" in out
    problem = _problem(X, y)
    coef = np.column_stack([model.coef_, model.intercept_])
    _, G = problem.smooth_value_gradient(coef)
    assert problem.optimality(coef, G) <= model.tol
    # The same optimum as the dense rows, to the tolerance.
    dense = SoftmaxClassifier(tol=1e-10, max_iter=1000).fit(X.toarray(), y)
    assert_allclose(model.predict_proba(X), dense.predict_proba(X.toarray()), atol=1e-3)


def _uncentred_sparse(seed=0):
    # Sparse rows beside a feature spread over 0..1e5 that decides a class:
    # float32 gradients err by about tol in that column.
    rng = np.random.default_rng(seed)
    n, d, k = 3000, 500, 8
    X = sp.random_array((n, d), density=0.05, rng=rng, format="csr")
    X.data = rng.standard_normal(X.nnz)
    y = (X @ (2 * rng.standard_normal((k, d))).T + rng.gumbel(size=(n, k))).argmax(1)
    big = rng.uniform(0, 1e5, n)
    y[big > np.quantile(big, 0.8)] = 0
    return sp.csr_array(sp.hstack([X, big[:, None]])), y


def test_a_float32_phase_at_its_rounding_hands_over_to_float64(capsys):
    # Without the hand-over the float32 phase wandered at float32's rounding
    # for about 270 iterations (a ConvergenceWarning at max_iter=100).
    X, y = _uncentred_sparse()
    problem = _problem(X, y)
    assert problem.single_precision() is not None  # faithful by the spread rule
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model, out = _verbose_fit(capsys, X, y)
    handed_over = int(out.split("float64 from iteration")[1].split()[0])
    assert handed_over < model.n_iter_[0] < 100
    coef = np.column_stack([model.coef_, model.intercept_])
    _, G = problem.smooth_value_gradient(coef)
    assert problem.optimality(coef, G) <= model.tol


def test_small_passes_stay_in_float64(capsys):
    # 200 x 64 x 10 products per pass: the copy and the float64 check would
    # cost more than the cheaper passes save.
    X, y = blobs(200, 64, 10, seed=0, spread=3.0)
    assert 200 * 64 * 10 < SINGLE_PRECISION_WORK
    problem = _problem(X, y)
    assert choose_method(problem) == "lbfgs" and problem.single_precision() is not None
    _, out = _verbose_fit(capsys, X, y)
    assert "[lbfgs] iter" in out and "float64 from iteration" not in out


def test_the_float32_phase_does_not_depend_on_the_memory_layout():
    # The float32 copy is C-ordered whatever X is: a Fortran-ordered array or
    # a data frame takes the same iterations as a C-ordered array.
    pd = pytest.importorskip("pandas")
    X, y = _lbfgs_data()
    reference = SoftmaxClassifier().fit(X, y)
    for other in (np.asfortranarray(X), pd.DataFrame(X)):
        model = SoftmaxClassifier().fit(other, y)
        assert model.n_iter_[0] == reference.n_iter_[0]
        assert_allclose(model.coef_, reference.coef_, rtol=1e-10, atol=1e-12)


def _phases(monkeypatch):
    """Record ``(problem dtype, memory dtype)`` of every L-BFGS run a solve makes."""
    from softmax_regression._solvers import lbfgs as lbfgs_module

    runs = []
    original = lbfgs_module.minimize_lbfgs

    def recording(fun, x0, memory, **options):
        runs.append((fun.__self__.problem.dtype, memory.dtype))
        return original(fun, x0, memory, **options)

    monkeypatch.setattr(lbfgs_module, "minimize_lbfgs", recording)
    return runs


def test_the_float32_phase_keeps_its_pairs_in_float32_and_float64_takes_them_over(monkeypatch):
    X, y = _lbfgs_data()
    problem = _problem(X, y)
    runs = _phases(monkeypatch)
    result = solve_lbfgs(problem, problem.initial_coef(), tol=1e-9, max_iter=1000,
                         single_precision=True)
    assert result.converged
    assert runs == [(np.float32, np.float32), (np.float64, np.float64)]
    assert result.curvature.dtype == np.float64 and len(result.curvature) > 0
    # Plain float64 solves never see a float32 memory.
    runs.clear()
    solve_lbfgs(problem, problem.initial_coef(), tol=1e-4, max_iter=1000)
    assert runs == [(np.float64, np.float64)]


def _counting_evaluations(monkeypatch):
    """``(dtype, with_hessp)`` of every evaluation a bridge computes (not its cached ones)."""
    from softmax_regression._solvers._scipy_bridge import ScipyBridge

    evaluated = []
    original = ScipyBridge._evaluate

    def counting(self, x, with_hessp):
        key = x.tobytes()
        if not any(key == last for last, _, _ in self._recent):
            evaluated.append((self.problem.dtype, with_hessp))
        return original(self, x, with_hessp)

    monkeypatch.setattr(ScipyBridge, "_evaluate", counting)
    return evaluated


def test_a_sparse_default_solve_evaluates_float64_at_the_stop_only(monkeypatch):
    # The Hessian diagonal that scales L-BFGS comes from the float32 copy, at
    # the float32 phase's first point, which is also the start's check;
    # float64 judges the stop.
    from softmax_regression._solvers.auto import solve_auto

    X, y = _lbfgs_data()
    X[np.abs(X) < 1.0] = 0.0
    problem = _problem(sp.csr_array(X), y)
    evaluated = _counting_evaluations(monkeypatch)
    result = solve_auto(problem, problem.initial_coef(), tol=1e-4, max_iter=100)
    assert result.converged and result.curvature.scale is not None
    float64 = [e for e in evaluated if e[0] == np.float64]
    assert float64 == [(np.float64, False)]
    assert evaluated[-1] == (np.float64, False)
    assert evaluated[0] == (np.float32, True)  # the diagonal's, the start's and the phase's
    assert result.n_hessian_products == 1


def test_a_start_that_meets_tol_in_float32_is_judged_in_float64(monkeypatch, capsys):
    X, y = _lbfgs_data()
    problem = _problem(X, y)
    solution = solve_lbfgs(problem, problem.initial_coef(), tol=1e-8, max_iter=1000).coef
    evaluated = _counting_evaluations(monkeypatch)
    result = solve_lbfgs(problem, solution, tol=1e-4, max_iter=100, single_precision=True,
                         verbose=1)
    assert result.converged and result.n_iter == 0
    assert evaluated == [(np.float32, False), (np.float64, False)]
    assert "(float32)" not in capsys.readouterr().out  # the start line shows float64's check
    # Where float32 does not meet tol, float64 is not asked at the start; the
    # stop is still judged in float64, here at a tol float32 cannot reach.
    evaluated.clear()
    result = solve_lbfgs(problem, solution, tol=1e-9, max_iter=100, single_precision=True,
                         verbose=1)
    out = capsys.readouterr().out
    assert evaluated[0] == (np.float32, False) and evaluated[-1][0] == np.float64
    assert "optimality" in out.splitlines()[0] and "(float32)" in out.splitlines()[0]
    _, G = problem.smooth_value_gradient(result.coef)
    assert result.converged and problem.optimality(result.coef, G) <= 1e-9


def test_a_start_that_overflows_in_float32_is_checked_in_float64(monkeypatch):
    X, y = _lbfgs_data()
    problem = _problem(X, y)
    coef0 = problem.initial_coef()
    coef0[:, :-1] = 1e38 * np.sign(np.arange(coef0.shape[0]) - 4.5)[:, None]
    evaluated = _counting_evaluations(monkeypatch)
    result = solve_lbfgs(problem, coef0, tol=1e-4, max_iter=5, single_precision=True)
    assert evaluated[:2] == [(np.float32, False), (np.float64, False)]
    assert result.n_iter > 0
