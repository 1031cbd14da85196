"""Every way of running a pass gives the same numbers.

A pass over the data is a sum over row blocks (``_blocks.py``) of one block
evaluation, done with the logits laid out K x rows for NumPy floats (dense or
scipy sparse X) or by the array-API code (``_loss.py``). Each path is forced
here and compared with the one-block array-API evaluation: values, gradients and Hessian products to
rounding, derivatives by finite differences through each path, fits to the
same optimum; and a dense fit's temporary memory is bounded by the block size.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import traced_peak
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier
from softmax_regression._model import blocks as _blocks
from softmax_regression._model.loss import LinearSoftmaxLoss
from softmax_regression._fitting.prepare import prepare
from softmax_regression._model.referee import objective
from softmax_regression._solvers import SOLVERS

EVALUATIONS = ["array-api", "k-major"]
SCHEDULES = ["one-block", "blocked", "threaded"]
PATHS = [f"{e}/{s}" for e in EVALUATIONS for s in SCHEDULES]


@pytest.fixture
def path(request, monkeypatch):
    """Force one path: a block evaluation, and one block, blocks of 64 rows, or 2 threads."""
    evaluation, schedule = request.param.split("/")
    natural = LinearSoftmaxLoss._block_path

    def forced(self, X, Y, sample_weight):
        if natural(self, X, Y, sample_weight) == "array-api" and not isinstance(Y, np.ndarray):
            return "array-api"
        return evaluation

    monkeypatch.setattr(LinearSoftmaxLoss, "_block_path", forced)
    if schedule == "one-block":
        monkeypatch.setattr(_blocks, "block_rows", lambda *shape: 10**9)
    else:
        monkeypatch.setattr(_blocks, "block_rows", lambda *shape: 64)
        monkeypatch.setattr(_blocks, "pass_threads", lambda: 2 if schedule == "threaded" else 1)
    return request.param


def _data(n_classes, dtype, sparse, n=300, d=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random((n, d)) < 0.5] = 0.0
        X = sp.csr_array(X)
    y = rng.integers(0, n_classes, size=n)
    w = rng.uniform(0.0, 2.0, size=n)
    w[::7] = 0.0  # zero weights are allowed and must stay out of every sum
    return X.astype(dtype), y, w.astype(dtype)


def _reference(coef, X, y, w, fit_intercept):
    """float64 weighted cross-entropy sum from the package's referee."""
    coef = np.asarray(coef, dtype=np.float64)
    d = X.shape[1]
    intercept = coef[:, d] if fit_intercept else None
    w = np.asarray(w, dtype=np.float64)
    return objective(X, y, coef[:, :d], intercept, C=np.inf, sample_weight=w) * float(np.sum(w))


def _one_block_array_api(loss, coef, X, Y, w):
    """The unblocked array-API evaluation: the reference every path must match."""
    Z = loss.logits(coef, X)
    value, P = loss._value_and_proba(Z, Y, w)
    R = (P - Y) * w[:, None]
    return value, loss._transpose_product(R, X), P


CASES = [
    pytest.param(k, icpt, dtype, sparse,
                 id=f"K{k}-icpt{int(icpt)}-{np.dtype(dtype).name}-{'csr' if sparse else 'dense'}")
    for k in (2, 5)
    for icpt in (True, False)
    for dtype in (np.float64, np.float32)
    for sparse in (False, True)
]


@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("n_classes, fit_intercept, dtype, sparse", CASES)
def test_every_path_agrees(path, n_classes, fit_intercept, dtype, sparse):
    X, y, w = _data(n_classes, dtype, sparse)
    loss = LinearSoftmaxLoss(n_classes, fit_intercept)
    rng = np.random.default_rng(1)
    coef = rng.standard_normal(loss.coef_shape(X.shape[1])).astype(dtype)
    Y = loss.one_hot(y, dtype)
    ref_value, ref_G, ref_P = _one_block_array_api(loss, coef, X, Y, w)
    rtol = 1e-12 if dtype == np.float64 else 2e-5

    value, G = loss.loss_gradient(coef, X, Y, w)
    assert G.dtype == dtype and G.shape == coef.shape
    assert value == pytest.approx(ref_value, rel=rtol)
    assert value == pytest.approx(_reference(coef, X, y, w, fit_intercept), rel=rtol)
    np.testing.assert_allclose(G, ref_G, rtol=rtol, atol=rtol * np.abs(ref_G).max())
    assert loss.loss(coef, X, Y, w) == pytest.approx(ref_value, rel=rtol)

    value2, G2, P = loss.loss_gradient_proba(coef, X, Y, w)
    assert value2 == pytest.approx(ref_value, rel=rtol)
    np.testing.assert_allclose(G2, ref_G, rtol=rtol, atol=rtol * np.abs(ref_G).max())
    np.testing.assert_allclose(P, ref_P, rtol=rtol, atol=rtol)
    V = rng.standard_normal(coef.shape).astype(dtype)
    HV = loss.hessian_product(V, X, P, w)
    dR = loss.logits(V, X) * ref_P
    dR = (dR - ref_P * dR.sum(axis=1, keepdims=True)) * w[:, None]
    ref_HV = loss._transpose_product(dR, X)
    np.testing.assert_allclose(HV, ref_HV, rtol=rtol, atol=rtol * np.abs(ref_HV).max())
    if not sparse:
        # With the problem's C-contiguous copy of X.T for the first product.
        XT = np.ascontiguousarray(X.T)
        value3, G3 = loss.loss_gradient(coef, X, Y, w, XT=XT)
        assert value3 == pytest.approx(ref_value, rel=rtol)
        np.testing.assert_allclose(G3, ref_G, rtol=rtol, atol=rtol * np.abs(ref_G).max())
        assert loss.loss(coef, X, Y, w, XT=XT) == pytest.approx(ref_value, rel=rtol)
        value4, G4, P4 = loss.loss_gradient_proba(coef, X, Y, w, XT=XT)
        assert value4 == pytest.approx(ref_value, rel=rtol)
        np.testing.assert_allclose(P4, ref_P, rtol=rtol, atol=rtol)
        # The K-major Hessian product of a row sample kept transposed.
        HV2 = loss.hessian_product(V, XT.T, P, w, XT=XT)
        assert HV2.dtype == dtype
        np.testing.assert_allclose(HV2, ref_HV, rtol=rtol, atol=rtol * np.abs(ref_HV).max())


def test_transposed_rows_gathers_in_blocks():
    from softmax_regression._utils.arrays import transposed_rows

    X = np.arange(70.0).reshape(10, 7).astype(np.float32)
    rows = np.array([0, 3, 4, 9])
    out = transposed_rows(X, rows, block=3)
    assert out.flags.c_contiguous and out.dtype == np.float32
    np.testing.assert_array_equal(out, X[rows].T)


def test_transpose_into_blocks_along_the_long_axis():
    from softmax_regression._utils.arrays import transpose_into

    rng = np.random.default_rng(0)
    for shape in [(1000, 7), (7, 1000), (5, 5), (0, 3)]:
        A = rng.standard_normal(shape)
        # Into a view with a spare column, as a gradient beside its intercept.
        out = np.full((shape[1], shape[0] + 1), np.nan)
        transpose_into(out[:, : shape[0]], A, block=64)
        np.testing.assert_array_equal(out[:, : shape[0]], A.T)
        assert np.isnan(out[:, -1]).all()


@pytest.mark.parametrize("n_classes, n_features", [(2, 6), (5, 6), (5, 2)])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_blocks_of_rows_give_the_one_block_numbers(monkeypatch, n_classes, n_features,
                                                          fmt):
    # Sparse logits go through the K-major residual a few rows at a time:
    # 7 rows (the last block short) must add up to the array-API pass; with
    # more classes than features the gradient's transpose runs the other way.
    from softmax_regression._model import kmajor

    monkeypatch.setattr(kmajor, "ROWS", 7)
    X, y, w = _data(n_classes, np.float64, sparse=True, n=59, d=n_features)
    X = X.asformat(fmt)
    loss = LinearSoftmaxLoss(n_classes, True)
    rng = np.random.default_rng(3)
    coef = rng.standard_normal(loss.coef_shape(X.shape[1]))
    offset = rng.standard_normal((X.shape[0], loss.n_logits))
    Y = loss.one_hot(y, np.float64, column_major=True)
    assert loss._block_path(X, Y, w) == "k-major"
    Z = loss.logits(coef, X, offset)
    ref_value, ref_P = loss._value_and_proba(Z, Y, w)
    ref_G = loss._transpose_product((ref_P - Y) * w[:, None], X)

    value, G, P = loss.loss_gradient_proba(coef, X, Y, w, offset)
    assert value == pytest.approx(ref_value, rel=1e-12)
    np.testing.assert_allclose(G, ref_G, rtol=1e-12, atol=1e-12 * np.abs(ref_G).max())
    np.testing.assert_allclose(P, ref_P, rtol=1e-12, atol=1e-15)
    assert loss.loss(coef, X, Y, w, offset) == pytest.approx(ref_value, rel=1e-12)
    assert G.flags.c_contiguous


def test_a_problem_keeps_a_transposed_copy_of_small_dense_x_only(monkeypatch):
    from softmax_regression._model import problem as problem_module

    X, y, w = _data(3, np.float64, sparse=False)
    problem = prepare(SoftmaxClassifier(), X, y, w).problem
    XT = problem.transposed_X
    assert XT.flags.c_contiguous and np.array_equal(XT, X.T)
    assert problem.transposed_X is XT  # made once per problem
    # A path over C changes the penalty only: the copy goes along.
    assert problem.with_penalty(problem.penalty).transposed_X is XT
    # Pickles (process pools, dask) carry the data only.
    assert "transposed_X" not in problem.__getstate__()
    sparse_problem = prepare(SoftmaxClassifier(), sp.csr_array(X), y, w).problem
    assert sparse_problem.transposed_X is None
    monkeypatch.setattr(problem_module, "TRANSPOSED_BYTES", X.nbytes - 1)
    assert prepare(SoftmaxClassifier(), X, y, w).problem.transposed_X is None



@pytest.mark.parametrize("n_classes", [2, 5])
def test_targets_are_laid_out_for_the_pass_that_reads_them(n_classes):
    # K-major passes read Y^T, kept contiguous, over dense and sparse X.
    X, y, w = _data(n_classes, np.float64, sparse=False)
    dense = prepare(SoftmaxClassifier(), X, y, w).problem
    assert dense.Y.T.flags.c_contiguous
    sparse = prepare(SoftmaxClassifier(), sp.csr_array(X), y, w).problem
    assert sparse.Y.T.flags.c_contiguous
    np.testing.assert_array_equal(dense.Y, sparse.Y)
    # A cross-validation fold's rows (and their float32 copy) keep the layout.
    from softmax_regression._cv.path import fold_problem

    train = np.flatnonzero(np.arange(X.shape[0]) % 3)
    fold, _ = fold_problem(dense, (1.0,), train)
    assert fold.Y.T.flags.c_contiguous
    np.testing.assert_array_equal(fold.Y, dense.Y[train])
    assert fold.single_precision().Y.T.flags.c_contiguous
    # Soft targets (rows of class probabilities) too.
    soft = np.eye(n_classes)[y] * 0.8 + 0.2 / n_classes
    for X_in in (X, sp.csr_array(X)):
        problem = prepare(SoftmaxClassifier(), X_in, soft, w).problem
        assert problem.Y.T.flags.c_contiguous
        np.testing.assert_allclose(problem.Y.sum(axis=1),
                                   1.0 if n_classes > 2 else soft[:, 1])


def test_rows_of_a_column_major_array_stay_column_major():
    from softmax_regression._utils.arrays import take_rows

    A = np.asfortranarray(np.arange(30.0).reshape(10, 3))
    rows = np.array([7, 0, 3, 3])
    taken = take_rows(A, rows, np)
    assert taken.flags.f_contiguous
    np.testing.assert_array_equal(taken, A[rows])
    # Row-major arrays and vectors come back as plain indexing gives them.
    assert take_rows(np.ascontiguousarray(A), rows, np).flags.c_contiguous
    np.testing.assert_array_equal(take_rows(A[:, 0].copy(), rows, np), A[rows, 0])

@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("n_classes", [2, 5])
def test_derivatives_by_finite_differences_through_each_path(path, n_classes):
    X, y, w = _data(n_classes, np.float64, sparse=False)
    loss = LinearSoftmaxLoss(n_classes, True)
    rng = np.random.default_rng(2)
    coef = 0.5 * rng.standard_normal(loss.coef_shape(X.shape[1]))
    Y = loss.one_hot(y, np.float64)
    V = rng.standard_normal(coef.shape)
    _, G, hessp = loss.loss_gradient_hessian_product(coef, X, Y, w)
    h = 1e-6
    plus, G_plus = loss.loss_gradient(coef + h * V, X, Y, w)
    minus, G_minus = loss.loss_gradient(coef - h * V, X, Y, w)
    # Central differences: error O(h^2) against a directional derivative O(n).
    assert (plus - minus) / (2 * h) == pytest.approx(np.sum(G * V), rel=1e-7)
    np.testing.assert_allclose(hessp(V), (G_plus - G_minus) / (2 * h), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("path", PATHS, indirect=True)
@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_fits_reach_the_same_optimum_on_every_path(path, solver):
    X, y, w = _data(4, np.float64, sparse=False, n=400)
    model = SoftmaxClassifier(solver=solver, tol=1e-10, max_iter=500, C=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a stop at precision
        model.fit(X, y, sample_weight=w + 0.1)
    reference = _FITS.setdefault(solver, _unblocked_fit(solver, X, y, w + 0.1))
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, reference.intercept_, rtol=1e-6, atol=1e-7)


_FITS = {}


def _unblocked_fit(solver, X, y, w):
    """The fit of the one-block array-API path (nothing forced but that)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(LinearSoftmaxLoss, "_block_path", lambda *args: "array-api")
        patch.setattr(_blocks, "block_rows", lambda *shape: 10**9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return SoftmaxClassifier(solver=solver, tol=1e-10, max_iter=500, C=0.5).fit(
                X, y, sample_weight=w)


def test_threads_follow_numpys_blas_limit():
    from threadpoolctl import threadpool_limits

    X = np.zeros((50 * _blocks.block_rows(3, 8), 4))
    with threadpool_limits(limits=1, user_api="blas"):
        assert _blocks.plan(X, 3)[1] == 1
    assert len(_blocks.plan(X, 3)[0]) == 50
    assert _blocks.plan(X[:10], 3) == ([(0, 10)], 1)
    # Sparse X is one block (CSR slices copy their indices; CSC rows are scattered).
    assert _blocks.plan(sp.csc_array(X), 3)[0] == [(0, X.shape[0])]
    assert _blocks.plan(sp.csr_array(X), 3)[0] == [(0, X.shape[0])]


def test_an_overflow_in_a_worker_thread_is_the_solvers_error(monkeypatch):
    monkeypatch.setattr(_blocks, "block_rows", lambda *shape: 64)
    monkeypatch.setattr(_blocks, "pass_threads", lambda: 2)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((400, 3)) * 1e300
    y = np.arange(400) % 3
    with pytest.raises(ValueError, match="overflowed"):
        SoftmaxClassifier(solver="newton-cg").fit(X, y)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_dense_fits_temporary_memory_is_bounded_by_the_block_not_by_n_times_k(dtype):
    """lbfgs on dense X: beyond the one-hot targets Y the fit keeps (n x K,
    built before the solver), a pass needs a few blocks of logits per thread,
    not the n x K logits, probabilities and residual of the whole data."""
    n, d, k = 120_000, 8, 20
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = np.arange(n) % k
    itemsize = np.dtype(dtype).itemsize
    model = SoftmaxClassifier(max_iter=3)

    def fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)

    fit()  # imports and caches first
    peak = traced_peak(fit)
    kept = n * k * itemsize + 8 * n * 8  # Y, and length-n vectors (labels, weights)
    threads = 2
    # Per thread: the block's logits/residual, a product of their size, and
    # a few vectors of the block's rows.
    per_block = 3 * _blocks.BLOCK_BYTES
    budget = kept + threads * per_block + 2**20
    one_logits_array = n * k * itemsize
    assert one_logits_array > threads * per_block  # the test can tell the two apart
    assert peak <= budget, (peak / 2**20, budget / 2**20)


def test_no_threads_of_our_own_outside_the_main_thread():
    """dask's threaded scheduler and joblib already run passes on several
    threads: a pass there runs its blocks in that thread."""
    from concurrent.futures import ThreadPoolExecutor

    X = np.zeros((50 * _blocks.block_rows(3, 8), 4))
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(lambda: _blocks.plan(X, 3)[1]).result() == 1


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg"])
def test_a_solve_holds_numpys_blas_at_one_thread_and_keeps_the_pass_budget(solver):
    # Passes inside a solver run their products on one BLAS thread (a single
    # block too), while their blocks may use the threads that numpy's BLAS
    # limit allowed when the solver started.
    from threadpoolctl import threadpool_limits

    from softmax_regression._utils import threads as _threads

    if not _threads._numpy_blas():
        pytest.skip("threadpoolctl sees no BLAS of numpy's own")
    seen = []

    def record(coef):
        libs = _threads._numpy_blas()
        seen.append(([lib.num_threads for lib in libs], _threads.pass_threads()))
        return False

    X, y, _ = _data(3, np.float64, sparse=False)
    problem = prepare(SoftmaxClassifier(), X, y).problem
    with threadpool_limits(limits=2, user_api="blas"):
        budget = min(2, _threads.usable_cores())
        SOLVERS[solver].function(problem, problem.initial_coef(), tol=1e-8, max_iter=5,
                                 callback=record)
        after = [lib.num_threads for lib in _threads._numpy_blas()]
    assert seen
    assert all(threads == [1] * len(threads) for threads, _ in seen)
    assert all(passes == budget for _, passes in seen)
    assert after == [2] * len(after)


def test_a_cross_validation_path_holds_numpys_blas_at_one_thread(monkeypatch):
    # The whole path of a fold, its scores and starts included, runs as one
    # solve: numpy's BLAS on one thread, the passes' budget read on entry.
    from threadpoolctl import threadpool_limits

    from softmax_regression import SoftmaxClassifierCV
    from softmax_regression._cv import path as _path
    from softmax_regression._utils import threads as _threads

    if not _threads._numpy_blas():
        pytest.skip("threadpoolctl sees no BLAS of numpy's own")
    seen = []
    score = _path.HeldOutScore.__call__

    def record(self, *args):
        seen.append(([lib.num_threads for lib in _threads._numpy_blas()],
                     _threads.pass_threads()))
        return score(self, *args)

    monkeypatch.setattr(_path.HeldOutScore, "__call__", record)
    X, y, _ = _data(3, np.float64, sparse=False)
    with threadpool_limits(limits=2, user_api="blas"):
        budget = min(2, _threads.usable_cores())
        SoftmaxClassifierCV(Cs=[0.1, 1.0], cv=2).fit(X, y)
        after = [lib.num_threads for lib in _threads._numpy_blas()]
    assert len(seen) == 4
    assert all(threads == [1] * len(threads) for threads, _ in seen)
    assert all(passes == budget for _, passes in seen)
    assert after == [2] * len(after)

