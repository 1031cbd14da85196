"""The default solver "auto": its choice of method, and each method's optimum.

Each method must reach the optimum newton-cg reaches at tol=1e-10, on every
problem class; the choice is tested at its boundaries; a default fit is
deterministic, and ``random_state`` changes only the Hessian's row sample.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import blobs, traced_peak
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier
from softmax_regression._fitting.prepare import prepare
from softmax_regression._solvers.auto import EXACT_OVERHEAD_FLOPS, EXACT_PASSES, choose_method
from softmax_regression._solvers.newton_family import SubsampledNewtonCG

TIGHT = dict(tol=1e-10, max_iter=1000)


def _method(X, y, **params):
    return choose_method(prepare(SoftmaxClassifier(**params), X, y).problem)


def _fit(X, y, solver, sample_weight=None, **params):
    with warnings.catch_warnings():
        # tol=1e-10 is below what float32 (and some float64 data) allow: a
        # stop at the floor of floating point is the optimum wanted here.
        warnings.filterwarnings("ignore", message=".*limit of floating-point precision",
                                category=ConvergenceWarning)
        return SoftmaxClassifier(solver=solver, **TIGHT, **params).fit(
            X, y, sample_weight=sample_weight)


def _exact_data(n_classes=3, n_features=6, n_samples=300, seed=0):
    return blobs(n_samples, n_features, n_classes, seed=seed, spread=2.0)


def _sampled_data(dtype=np.float64, n_samples=12_000, n_features=60, n_classes=4):
    # 4 x 61 = 244 coefficients (> 200) on 12,000 rows: the sampled method.
    X, y = blobs(n_samples, n_features, n_classes, seed=1, spread=6.0)
    return X.astype(dtype), y


CASES = {
    "binary": lambda: (_exact_data(n_classes=2), {}, None),
    "multiclass": lambda: (_exact_data(), {}, None),
    "weights": lambda: (_exact_data(), {}, np.random.default_rng(0).uniform(0, 3, 300)),
    "class_weight": lambda: (_exact_data(), {"class_weight": "balanced"}, None),
    "sparse": lambda: ((sp.csr_array(_exact_data()[0]), _exact_data()[1]), {}, None),
    "float32": lambda: ((_exact_data()[0].astype(np.float32), _exact_data()[1]), {}, None),
    "no_intercept": lambda: (_exact_data(), {"fit_intercept": False}, None),
    "C_inf": lambda: (_exact_data(), {"C": np.inf}, None),
    "C_inf_binary": lambda: (_exact_data(n_classes=2), {"C": np.inf}, None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_exact_newton_reaches_newton_cg_optimum(case):
    (X, y), params, weight = CASES[case]()
    assert _method(X, y, **params) == "newton-exact"
    auto = _fit(X, y, "auto", weight, **params)
    reference = _fit(X, y, "newton-cg", weight, **params)
    rtol = 1e-4 if X.dtype == np.float32 else 1e-6
    assert_allclose(auto.coef_, reference.coef_, rtol=rtol, atol=rtol * np.abs(reference.coef_).max())
    assert_allclose(auto.intercept_, reference.intercept_, rtol=rtol,
                    atol=rtol * np.abs(reference.coef_).max())
    assert auto.coef_.dtype == X.dtype
    assert auto.n_iter_[0] < reference.n_iter_[0] or auto.n_iter_[0] <= 15


@pytest.mark.parametrize("case", ["multiclass", "weights", "float32", "no_intercept", "C_inf"])
def test_sampled_newton_cg_reaches_newton_cg_optimum(case):
    dtype = np.float32 if case == "float32" else np.float64
    X, y = _sampled_data(dtype)
    params = {"fit_intercept": False} if case == "no_intercept" else {}
    if case == "C_inf":
        params["C"] = np.inf
    weight = np.random.default_rng(0).uniform(0, 3, len(y)) if case == "weights" else None
    assert _method(X, y, **params) == "newton-cg-sampled"
    auto = _fit(X, y, "auto", weight, **params)
    reference = _fit(X, y, "newton-cg", weight, **params)
    rtol = 1e-3 if dtype == np.float32 else 1e-5
    scale = np.abs(reference.coef_).max()
    assert_allclose(auto.coef_, reference.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(auto.intercept_, reference.intercept_, rtol=rtol, atol=rtol * scale)


def test_sampled_binary_reaches_newton_cg_optimum():
    X, y = blobs(12_000, 220, 2, seed=2, spread=8.0)
    assert _method(X, y) == "newton-cg-sampled"
    auto, reference = _fit(X, y, "auto"), _fit(X, y, "newton-cg")
    scale = np.abs(reference.coef_).max()
    assert_allclose(auto.coef_, reference.coef_, rtol=1e-5, atol=1e-5 * scale)


def _lbfgs_data(n_samples=1500, n_features=40, n_classes=10):
    # 10 x 41 coefficients on 1,500 rows: too many for exact Newton, too few
    # rows for a sample: L-BFGS, from the Hessian's diagonal and in float32 first.
    return blobs(n_samples, n_features, n_classes, seed=0, spread=3.0)


LBFGS_CASES = {
    "multiclass": lambda: (_lbfgs_data(), {}, None),
    "binary": lambda: (blobs(1000, 300, 2, seed=1, spread=3.0), {}, None),
    "weights": lambda: (_lbfgs_data(), {}, np.random.default_rng(0).uniform(0, 3, 1500)),
    "class_weight": lambda: (_lbfgs_data(), {"class_weight": "balanced"}, None),
    "no_intercept": lambda: (_lbfgs_data(), {"fit_intercept": False}, None),
    # Overlapping classes: the unpenalized objective has a minimizer.
    "C_inf": lambda: (_lbfgs_data(2000, 20, 10), {"C": np.inf}, None),
}


@pytest.mark.parametrize("case", list(LBFGS_CASES))
def test_lbfgs_reaches_newton_cg_optimum(case):
    (X, y), params, weight = LBFGS_CASES[case]()
    problem = prepare(SoftmaxClassifier(**params), X, y, weight).problem
    assert choose_method(problem) == "lbfgs"
    assert problem.single_precision() is not None
    auto = _fit(X, y, "auto", weight, **params)
    reference = _fit(X, y, "newton-cg", weight, **params)
    # At an optimality of 1e-10, L-BFGS (float64 only as well) leaves the
    # least curved directions some 1e-6 from newton-cg's point; a stop at
    # float32's reach would leave the objective 1e-9 above it, not 1e-12.
    scale = np.abs(reference.coef_).max()
    assert_allclose(auto.coef_, reference.coef_, rtol=1e-5, atol=1e-5 * scale)
    assert_allclose(auto.intercept_, reference.intercept_, rtol=1e-5, atol=1e-5 * scale)
    objective = {name: problem.objective(np.column_stack([model.coef_, model.intercept_])
                                         if model.fit_intercept else model.coef_)
                 for name, model in (("auto", auto), ("newton-cg", reference))}
    assert objective["auto"] == pytest.approx(objective["newton-cg"], rel=1e-12)
    assert auto.coef_.dtype == np.float64


def _exact_limit_rows(n_features, n_classes):
    """The most rows for which exact Newton's Hessian is cheap enough (auto's rule)."""
    n_logits = 1 if n_classes == 2 else n_classes
    p = n_logits * (n_features + 1)
    per_row = p**2 - EXACT_PASSES * 4 * n_features * n_logits
    return int(EXACT_OVERHEAD_FLOPS // per_row)


def test_the_choice_at_the_size_boundaries():
    # 3 x 21 coefficients: the Hessian costs more per row than 12 passes.
    limit = _exact_limit_rows(20, 3)
    assert 1000 < limit < 10_000
    X, y = blobs(limit + 1, 20, 3)
    assert _method(X[:limit], y[:limit]) == "newton-exact"
    assert _method(X, y) == "lbfgs"  # too few rows for a sample
    # Binary: one logit, 1 x 101 coefficients.
    limit = _exact_limit_rows(100, 2)
    X, y = blobs(limit + 1, 100, 2)
    assert _method(X[:limit], y[:limit]) == "newton-exact"
    assert _method(X, y) == "lbfgs"
    # Few coefficients per row: exact Newton at any size.
    X, y = blobs(30_000, 4, 3)
    assert _method(X, y) == "newton-exact"
    # Rows: the sample must be at most half of them.
    assert SubsampledNewtonCG.sample_size(10_000) == 5_000
    X, y = blobs(10_000, 66, 3)
    assert _method(X, y) == "newton-cg-sampled"
    assert _method(X[:9_999], y[:9_999]) == "lbfgs"
    # Coefficients: the 5,000-row sample needs two rows per coefficient.
    X, y = blobs(10_000, 2_499, 2)  # 1 x 2,500
    assert _method(X, y) == "newton-cg-sampled"
    X, y = blobs(10_000, 2_500, 2)  # 1 x 2,501
    assert _method(X, y) == "lbfgs"


def test_the_choice_for_l1_sparse_and_dask_like_problems():
    X, y = blobs(300, 6, 3)
    assert _method(X, y, l1_ratio=0.5) == "newton-proximal"
    assert _method(X, y, l1_ratio=1.0, C=np.inf) == "newton-exact"  # no penalty at C=inf
    assert _method(X, y, l1_ratio=0.0, C=np.inf) == "newton-exact"
    X, y = blobs(10_000, 66, 3)
    assert _method(X, y) == "newton-cg-sampled"
    assert _method(sp.csr_array(X), y) == "lbfgs"
    assert _method(sp.csr_array(X[:, :6]), y) == "newton-exact"


@pytest.mark.parametrize("data", [_exact_data, _sampled_data, _lbfgs_data])
def test_two_default_fits_are_bit_identical(data):
    X, y = data()
    first, second = SoftmaxClassifier().fit(X, y), SoftmaxClassifier().fit(X, y)
    assert np.array_equal(first.coef_, second.coef_)
    assert np.array_equal(first.intercept_, second.intercept_)


def test_random_state_changes_the_sample_only():
    X, y = _sampled_data()
    fits = {seed: SoftmaxClassifier(random_state=seed).fit(X, y) for seed in (None, 0, 1)}
    # None draws the fixed stream of seed 0.
    assert np.array_equal(fits[None].coef_, fits[0].coef_)
    # Another sample takes other steps ...
    assert not np.array_equal(fits[0].coef_, fits[1].coef_)
    # ... to the same optimum, to the tolerance.
    tight = {seed: _fit(X, y, "auto", random_state=seed) for seed in (0, 1)}
    scale = np.abs(tight[0].coef_).max()
    assert_allclose(tight[0].coef_, tight[1].coef_, rtol=1e-6, atol=1e-6 * scale)


def test_the_exact_method_ignores_random_state():
    X, y = _exact_data()
    assert np.array_equal(SoftmaxClassifier(random_state=0).fit(X, y).coef_,
                          SoftmaxClassifier(random_state=5).fit(X, y).coef_)


def test_default_stop_meets_tol_on_the_full_data():
    X, y = _sampled_data()
    model = SoftmaxClassifier().fit(X, y)
    problem = prepare(model, X, y).problem
    coef = np.column_stack([model.coef_, model.intercept_])
    _, G = problem.smooth_value_gradient(coef)
    assert problem.optimality(coef, G) <= model.tol


def test_separable_data_without_penalty_warn():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    y = np.array([0, 0, 1, 1])
    with pytest.warns(ConvergenceWarning):
        model = SoftmaxClassifier(C=np.inf, max_iter=30).fit(X, y)
    assert np.all(np.isfinite(model.coef_))
    assert model.predict(X).tolist() == y.tolist()


def test_verbose_reports_method_and_passes(capsys):
    X, y = _exact_data()
    SoftmaxClassifier(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "[newton-exact]" in out and "pass-equivalents" in out


def test_the_sampled_method_copies_only_its_sample():
    X, y = _sampled_data(n_samples=20_000, n_features=200)
    # The sample (5,000 of 20,000 rows here) is copied once, its squares once
    # more for the preconditioner; nothing of the size of X.
    size_X = X.nbytes
    model = SoftmaxClassifier(max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        peak = traced_peak(lambda: model.fit(X, y))
    sample = SubsampledNewtonCG.sample_size(len(y)) / len(y)
    assert peak < (2 * sample + 0.15) * size_X


def test_a_tight_tol_on_correlated_features_converges_once_the_sample_is_all_rows():
    # Correlated features at tol=1e-7: the sample grows to all the rows, whose
    # exact products then get newton-cg's inner solve (it took 942 iterations
    # with a sample's ten conjugate-gradient steps, ending just above tol).
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60_000, 40)) @ (np.eye(40) + 0.3 * rng.standard_normal((40, 40)))
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    W = rng.standard_normal((6, 40)) * 0.4
    Z = X @ W.T
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    y = ((P / P.sum(axis=1, keepdims=True)).cumsum(axis=1) > rng.random((60_000, 1))).argmax(axis=1)
    assert _method(X, y, C=3.0) == "newton-cg-sampled"
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxClassifier(C=3.0, tol=1e-7, max_iter=20_000).fit(X, y)
    assert model.n_iter_[0] <= 50
    problem = prepare(model, X, y).problem
    coef = np.column_stack([model.coef_, model.intercept_])
    _, G = problem.smooth_value_gradient(coef)
    assert problem.optimality(coef, G) <= 1e-7


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", [4, 5, 6, 8, 10, 11])
def test_exact_newton_leaves_a_direction_the_data_do_not_determine_alone(dtype, seed):
    # Without a penalty, a constant column beside the intercept (or a
    # duplicated feature) leaves the objective flat along one direction: the
    # Cholesky pivot there is rounding, and dividing by it once sent the
    # coefficients to 1e6-1e9, where float32 predictions are noise (silently,
    # or with a ConvergenceWarning).
    from sklearn.datasets import make_classification

    X, y = make_classification(300, 5, n_informative=3, n_classes=3, random_state=seed)
    # Features rounded to float32 in both precisions (the seeds where the
    # pivot's rounding once sent the fit astray).
    X = np.hstack([X, np.full((300, 1), 3.0)]).astype(np.float32).astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxClassifier(C=np.inf).fit(X, y)
    assert model.n_iter_[0] <= 10
    reference = SoftmaxClassifier(C=np.inf, solver="lbfgs", tol=1e-8, max_iter=2000).fit(
        X.astype(np.float64), y)
    assert np.abs(model.coef_).max() < 10
    proba = model.predict_proba(X)
    assert_allclose(proba, reference.predict_proba(X.astype(np.float64)),
                    atol=1e-5 if dtype == np.float32 else 1e-7)


def test_badly_scaled_features_are_not_taken_for_dependent_ones():
    from softmax_regression._solvers.newton_family import dependent_pivots, least_norm_step
    from scipy.linalg.lapack import dpotrf

    rng = np.random.default_rng(0)
    A = rng.normal(size=(50, 4))
    scales = np.array([1e-6, 1.0, 1e6, 1e9])
    H = (A * scales).T @ (A * scales)
    factor, info = dpotrf(H, lower=False, clean=False)
    assert info == 0 and not dependent_pivots(factor, H).any()
    # A column that repeats another (rescaled) is dependent, whatever its scale.
    B = np.hstack([A * scales, 1e3 * A[:, 2:3] * scales[2]])
    H = B.T @ B
    factor, _ = dpotrf(H, lower=False, clean=False)
    assert dependent_pivots(factor, H)[-1]
    # The least-norm step solves the determined part and leaves the other alone.
    rhs = H @ np.array([1.0, -2.0, 0.5, 0.25, 0.0])
    step = least_norm_step(H, rhs)
    assert_allclose(H @ step, rhs, rtol=1e-6, atol=1e-6 * np.abs(rhs).max())


def test_lbfgs_on_sparse_rows_reaches_newton_cg_optimum():
    # Sparse columns of very different frequency (their Hessian diagonal
    # spans orders of magnitude): auto's L-BFGS starts from that diagonal.
    rng = np.random.default_rng(0)
    n, d = 2000, 400
    frequency = 0.3 / np.arange(1, d + 1) ** 0.8
    X = sp.csr_array(rng.random((n, d)) < frequency) * rng.uniform(0.5, 2.0, (n, d))
    X = sp.csr_array(X)
    assert X.nnz < 0.1 * n * d
    y = np.argmax(X @ rng.standard_normal((d, 4)) + rng.gumbel(size=(n, 4)), axis=1)
    assert _method(X, y) == "lbfgs"
    auto = _fit(X, y, "auto")
    reference = _fit(X, y, "newton-cg")
    scale = np.abs(reference.coef_).max()
    assert_allclose(auto.coef_, reference.coef_, rtol=1e-5, atol=1e-5 * scale)
    assert_allclose(auto.intercept_, reference.intercept_, rtol=1e-5, atol=1e-5 * scale)
