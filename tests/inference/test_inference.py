"""inference(): standard errors, p-values and intervals of a fitted model.

statsmodels is the reference where it applies (unpenalized, its anes96 data);
elsewhere the numbers are checked against their definitions, computed here
independently and densely, and against invariances (frequency weights as
repeated rows, sparse as dense, float32 data as float64).
"""

import re
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from scipy.special import log_softmax
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression

from softmax_regression import SoftmaxClassifier
from softmax_regression._inference import linalg as _inference_linalg
from softmax_regression._inference.api import inference

sm = pytest.importorskip("statsmodels.api")
pd = pytest.importorskip("pandas")

FEATURES = ["logpopul", "selfLR", "age", "educ", "income"]
COV_TYPES = ["nonrobust", "HC0", "cluster"]
# Agreement with statsmodels required by the issue; measured: 4e-7 at most.
RTOL_STATSMODELS = 1e-5


def exact_fit(X, y, sw=None, **params):
    """An unpenalized (unless told) fit at the optimum to ~machine precision."""
    params = {"C": np.inf, "solver": "newton-cg", "tol": 1e-12, "max_iter": 1000, **params}
    with warnings.catch_warnings():
        # tol is set below what the data allow on purpose: stopping at the
        # floor of floating point is the optimum these tests want.
        warnings.filterwarnings("ignore", message=".*limit of floating-point precision",
                                category=ConvergenceWarning)
        return SoftmaxClassifier(**params).fit(X, y, sample_weight=sw)


@pytest.fixture(scope="module")
def anes():
    data = sm.datasets.anes96.load_pandas().data
    return data[FEATURES], data["PID"], data["vote"], data["income"].to_numpy()


@pytest.fixture(scope="module")
def pid_model(anes):
    X, pid, _, _ = anes
    return exact_fit(X, pid)


@pytest.fixture(scope="module")
def pid_model_array(anes):
    # Fitted without feature names, for arrays and sparse matrices.
    X, pid, _, _ = anes
    return exact_fit(X.to_numpy(), pid.to_numpy())


def statsmodels_fit(model_class, y, X, cov_type, groups, add_constant=True):
    exog = sm.add_constant(X, prepend=False) if add_constant else X
    kwargs = {"cov_type": cov_type}
    if cov_type == "cluster":
        kwargs["cov_kwds"] = {"groups": groups}
    return model_class(y, exog).fit(method="newton", tol=1e-14, maxiter=100, disp=0, **kwargs)


def assert_matches_statsmodels(result, reference, shape):
    params = np.asarray(reference.params).T.reshape(shape)
    assert_allclose(result.params, params, rtol=RTOL_STATSMODELS)
    assert_allclose(result.bse, np.asarray(reference.bse).T.reshape(shape),
                    rtol=RTOL_STATSMODELS)
    assert_allclose(result.pvalues, np.asarray(reference.pvalues).T.reshape(shape),
                    rtol=RTOL_STATSMODELS)
    assert_allclose(result.zvalues, np.asarray(reference.tvalues).T.reshape(shape),
                    rtol=RTOL_STATSMODELS)
    assert_allclose(result.conf_int(), np.asarray(reference.conf_int()).reshape(*shape, 2),
                    rtol=RTOL_STATSMODELS)
    # statsmodels orders its parameters class-major with the constant last, as we do.
    assert_allclose(result.cov_params(), np.asarray(reference.cov_params()),
                    rtol=RTOL_STATSMODELS, atol=1e-12)
    assert result.llf == pytest.approx(reference.llf, rel=1e-10)


# --- agreement with statsmodels ------------------------------------------------------


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_multinomial_matches_mnlogit(anes, pid_model, cov_type):
    X, pid, _, income = anes
    groups = income if cov_type == "cluster" else None
    result = inference(pid_model, X, pid, cov_type=cov_type, groups=groups)
    reference = statsmodels_fit(sm.MNLogit, pid, X, cov_type, groups)
    assert_matches_statsmodels(result, reference, (6, 6))
    assert result.reference == 0.0
    assert_allclose(result.classes, [1, 2, 3, 4, 5, 6])
    assert result.feature_names == FEATURES + ["intercept"]
    assert result.nobs == len(X)
    assert result.n_groups == (24 if cov_type == "cluster" else None)


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_binary_matches_logit(anes, cov_type):
    X, _, vote, income = anes
    groups = income if cov_type == "cluster" else None
    result = inference(exact_fit(X, vote), X, vote, cov_type=cov_type, groups=groups)
    reference = statsmodels_fit(sm.Logit, vote, X, cov_type, groups)
    assert_matches_statsmodels(result, reference, (1, 6))


def test_without_intercept_matches_mnlogit(anes):
    X, pid, _, _ = anes
    result = inference(exact_fit(X, pid, fit_intercept=False), X, pid)
    reference = statsmodels_fit(sm.MNLogit, pid, X, "nonrobust", None, add_constant=False)
    assert_matches_statsmodels(result, reference, (6, 5))
    assert result.feature_names == FEATURES


def test_other_reference_matches_mnlogit_with_that_class_first(anes, pid_model):
    X, pid, _, _ = anes
    result = inference(pid_model, X, pid, cov_type="HC0", reference=6.0)
    # MNLogit's reference is its smallest label: give class 6 the smallest one.
    relabeled = pid.where(pid != 6.0, -1.0)
    reference = statsmodels_fit(sm.MNLogit, relabeled, X, "HC0", None)
    assert_matches_statsmodels(result, reference, (6, 6))
    assert result.reference == 6.0
    assert_allclose(result.classes, [0, 1, 2, 3, 4, 5])


def test_binary_other_reference_flips_the_sign(anes):
    X, _, vote, _ = anes
    model = exact_fit(X, vote)
    first, second = inference(model, X, vote), inference(model, X, vote, reference=1.0)
    assert_allclose(second.params, -first.params, rtol=1e-14)
    assert_allclose(second.bse, first.bse, rtol=1e-14)
    assert_allclose(first.params[0], np.r_[model.coef_[0], model.intercept_], rtol=1e-14)


# --- frequency weights, sparse input, float32 ----------------------------------------


@pytest.fixture(scope="module")
def weighted_data(anes):
    X, pid, _, income = anes
    rng = np.random.default_rng(0)
    weights = rng.integers(0, 4, size=len(X))  # zeros included: rows that vanish
    weights[income == 1] = 0  # and a whole cluster, absent from the repeated rows
    repeat = np.repeat(np.arange(len(X)), weights)
    return (X.to_numpy(), pid.to_numpy(), income, weights,
            X.to_numpy()[repeat], pid.to_numpy()[repeat], income[repeat])


@pytest.mark.parametrize("cov_type", COV_TYPES)
def test_frequency_weights_give_the_repeated_rows_result(weighted_data, cov_type):
    X, y, groups, weights, X_rep, y_rep, groups_rep = weighted_data
    cluster = cov_type == "cluster"
    weighted = inference(exact_fit(X, y, sw=weights), X, y, sample_weight=weights,
                         cov_type=cov_type, groups=groups if cluster else None)
    repeated = inference(exact_fit(X_rep, y_rep), X_rep, y_rep, cov_type=cov_type,
                         groups=groups_rep if cluster else None)
    assert weighted.nobs == len(X_rep)
    assert weighted.n_groups == repeated.n_groups
    assert_allclose(weighted.params, repeated.params, rtol=1e-6)
    assert_allclose(weighted.bse, repeated.bse, rtol=1e-6)
    # z, not p: p-values down to 1e-44 here magnify a 1e-8 difference in z 200-fold.
    assert_allclose(weighted.zvalues, repeated.zvalues, rtol=1e-6)


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_gives_the_dense_numbers(anes, pid_model_array, cov_type, fmt):
    X, pid, _, income = anes
    groups = income if cov_type == "cluster" else None
    dense = inference(pid_model_array, X.to_numpy(), pid, cov_type=cov_type, groups=groups)
    sparse = inference(pid_model_array, sp.csr_matrix(X.to_numpy()).asformat(fmt), pid,
                       cov_type=cov_type, groups=groups)
    assert sparse.feature_names == ["x0", "x1", "x2", "x3", "x4", "intercept"]
    assert_allclose(sparse.bse, dense.bse, rtol=1e-8)
    assert_allclose(sparse.cov_params(), dense.cov_params(), rtol=1e-8, atol=1e-14)


def test_sparse_input_is_not_densified():
    rng = np.random.default_rng(0)
    n, p = 50_000, 200
    X = sp.random(n, p, density=0.002, format="csr", random_state=0)
    y = rng.integers(0, 3, size=n)
    model = SoftmaxClassifier(C=10.0).fit(X, y)
    dense_bytes = n * p * 8
    tracemalloc.start()
    with pytest.warns(UserWarning, match="penalized"):
        inference(model, X, y, cov_type="HC0")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < dense_bytes / 4, f"peak {peak / 1e6:.1f} MB"


def test_float32_data_and_model_are_computed_in_float64(anes, pid_model_array):
    X, pid, _, _ = anes
    X32 = X.to_numpy(dtype=np.float32)
    # The float32 copy of X, read in float64, gives exactly the same numbers:
    # nothing is rounded to float32 on the way.
    result = inference(pid_model_array, X32, pid, cov_type="HC0")
    widened = inference(pid_model_array, X32.astype(np.float64), pid, cov_type="HC0")
    assert result.bse.dtype == np.float64
    assert_allclose(result.bse, widened.bse, rtol=1e-12)

    model32 = exact_fit(X32, pid, tol=1e-6)
    assert model32.coef_.dtype == np.float32
    result32 = inference(model32, X32, pid)
    assert result32.params.dtype == result32.bse.dtype == np.float64
    assert_allclose(result32.params[:, :-1], model32.coef_[1:] - model32.coef_[0], rtol=1e-6)
    # A float32 fit is at the optimum to float32 precision only.
    assert_allclose(result32.bse, inference(pid_model_array, X.to_numpy(), pid).bse, rtol=1e-3)


# --- the two ways of forming the Hessian, and the row blocks --------------------------


@pytest.mark.parametrize("cov_type", COV_TYPES)
@pytest.mark.parametrize("sparse", [False, True])
def test_hessian_products_path_equals_gram_path(anes, pid_model_array, monkeypatch, cov_type,
                                                sparse):
    X, pid, _, income = anes
    X = sp.csr_matrix(X.to_numpy()) if sparse else X.to_numpy()
    groups = income if cov_type == "cluster" else None
    gram = inference(pid_model_array, X, pid, cov_type=cov_type, groups=groups)
    # Batches of 13 directions and row blocks of ~20 rows: the loops run many times.
    monkeypatch.setattr(_inference_linalg, "DENSE_HESSIAN_MAX_PARAMS", 0)
    monkeypatch.setattr(_inference_linalg, "_SCRATCH_ELEMENTS", 100 * len(pid) // 8 + 1)
    products = inference(pid_model_array, X, pid, cov_type=cov_type, groups=groups)
    assert_allclose(products.cov_params(), gram.cov_params(), rtol=1e-10, atol=1e-16)


# --- definitions, computed independently --------------------------------------------


def reduced_objective_terms(X, y, theta, weight, class_weight, C, n_classes):
    """Per-sample scores and the Hessian of the penalized objective, densely.

    Written without the library: the logits with the reference class pinned
    at 0, the symmetric ridge penalty by its definition, and the Hessian by
    central differences of the analytic gradient.
    """
    X1 = np.column_stack([X, np.ones(len(X))])
    K = n_classes
    Y = np.eye(K)[y][:, 1:]
    s = weight * class_weight[y]

    def penalty_value_gradient(flat):
        th = flat.reshape(K - 1, -1)[:, :-1]
        if K == 2:
            return 0.5 * np.sum(th**2) / C, np.column_stack([th / C, np.zeros(1)]).ravel()
        full = np.vstack([np.zeros(th.shape[1]), th])
        W = full - full.mean(axis=0)  # the common shift that minimizes ||W||^2
        grad = (W[1:] - 0.0)  # d/d theta_k of ||W||^2/2 is W_k (the shift is optimal)
        return 0.5 * np.sum(W**2) / C, np.column_stack([grad / C, np.zeros(K - 1)]).ravel()

    def gradient(flat):
        Z = np.column_stack([np.zeros(len(X)), X1 @ flat.reshape(K - 1, -1).T])
        P = np.exp(log_softmax(Z, axis=1))[:, 1:]
        return ((s[:, None] * (P - Y)).T @ X1).ravel() + penalty_value_gradient(flat)[1]

    flat = theta.ravel()
    step = 1e-6
    H = np.column_stack([(gradient(flat + step * e) - gradient(flat - step * e)) / (2 * step)
                         for e in np.eye(len(flat))])
    Z = np.column_stack([np.zeros(len(X)), X1 @ theta.T])
    P = np.exp(log_softmax(Z, axis=1))[:, 1:]
    scores = np.einsum("nk,nj->nkj", (weight * class_weight[y] ** 2)[:, None] ** 0.5
                       * (P - Y), X1).reshape(len(X), -1)
    return gradient(flat), (H + H.T) / 2, scores


@pytest.mark.parametrize("n_classes", [2, 3, 4])
@pytest.mark.parametrize("class_weight", [None, {0: 1.0, 1: 3.0, 2: 0.5, 3: 2.0}])
def test_penalized_covariances_follow_their_definitions(rng, n_classes, class_weight):
    X = rng.standard_normal((300, 3))
    y = rng.integers(0, n_classes, size=300)
    weight = rng.integers(1, 4, size=300).astype(float)
    cw = None if class_weight is None else {k: class_weight[k] for k in range(n_classes)}
    model = exact_fit(X, y, C=0.5, class_weight=cw, sw=weight)
    cw_array = np.array([1.0 if cw is None else cw[k] for k in range(n_classes)])
    with pytest.warns(UserWarning, match=r"penalized \(C=0.5\)"):
        result = inference(model, X, y, sample_weight=weight)
    gradient, H, scores = reduced_objective_terms(X, y, result.params, weight, cw_array,
                                                  0.5, n_classes)
    # The fitted coefficients are the optimum of the profile penalty in this
    # parametrization: its gradient vanishes there.
    assert np.max(np.abs(gradient)) < 1e-6
    H_inv = np.linalg.inv(H)
    assert_allclose(result.cov_params(), H_inv, rtol=1e-6)
    with pytest.warns(UserWarning, match="penalized"):
        robust = inference(model, X, y, sample_weight=weight, cov_type="HC0")
    meat = scores.T @ scores
    assert_allclose(robust.cov_params(), H_inv @ meat @ H_inv, rtol=1e-6, atol=1e-14)


def test_penalized_binary_model_matches_logistic_regression_hessian(rng):
    X = rng.standard_normal((200, 2))
    y = (X[:, 0] + rng.standard_normal(200) > 0).astype(int)
    lr = LogisticRegression(C=2.0, tol=1e-12, max_iter=1000).fit(X, y)
    model = exact_fit(X, y, C=2.0)
    assert_allclose(model.coef_, lr.coef_, rtol=1e-6)
    p = lr.predict_proba(X)[:, 1]
    X1 = np.column_stack([X, np.ones(len(X))])
    H = X1.T @ (X1 * (p * (1 - p))[:, None]) + np.diag([1 / 2.0, 1 / 2.0, 0.0])
    with pytest.warns(UserWarning, match="penalized"):
        result = inference(model, X, y)
    assert_allclose(result.cov_params(), np.linalg.inv(H), rtol=1e-6)


def test_class_weight_as_frequency_weight_nonrobust(rng):
    # Class weights weigh the objective like frequency weights, so the inverse
    # Hessian is the same; only the sandwich tells them apart.
    X = rng.standard_normal((200, 2))
    y = rng.integers(0, 3, size=200)
    cw = {0: 1.0, 1: 2.0, 2: 3.0}
    weighted_classes = exact_fit(X, y, class_weight=cw)
    as_rows = exact_fit(X, y, sw=np.array([cw[k] for k in y]))
    a = inference(weighted_classes, X, y)
    b = inference(as_rows, X, y, sample_weight=np.array([cw[k] for k in y]))
    assert_allclose(a.bse, b.bse, rtol=1e-6)
    a, b = (inference(weighted_classes, X, y, cov_type="HC0"),
            inference(as_rows, X, y, sample_weight=np.array([cw[k] for k in y]),
                      cov_type="HC0"))
    assert not np.allclose(a.bse, b.bse, rtol=1e-3)


# --- the result object -----------------------------------------------------------------


def test_result_arrays_are_consistent(anes, pid_model):
    X, pid, _, _ = anes
    result = inference(pid_model, X, pid, alpha=0.1)
    assert result.params.shape == result.bse.shape == result.pvalues.shape == (6, 6)
    cov = result.cov_params()
    assert cov.shape == (36, 36)
    assert_allclose(cov, cov.T, rtol=0, atol=0)
    assert_allclose(np.sqrt(np.diag(cov)).reshape(6, 6), result.bse, rtol=1e-15)
    assert_allclose(result.zvalues, result.params / result.bse, rtol=1e-15)
    # alpha=0.1 is the default interval; alpha=0.05 is wider by 1.960 / 1.645.
    ci90, ci95 = result.conf_int(), result.conf_int(0.05)
    assert ci90.shape == (6, 6, 2)
    assert_allclose((ci95[..., 1] - ci95[..., 0]) / (ci90[..., 1] - ci90[..., 0]),
                    1.959963984540054 / 1.6448536269514722, rtol=1e-12)
    assert_allclose(ci90.mean(axis=-1), result.params, rtol=1e-12)
    # cov_params() hands out a copy.
    result.cov_params()[0, 0] = -1.0
    assert result.cov_params()[0, 0] > 0


def test_summary_dataframe(anes, pid_model):
    X, pid, _, _ = anes
    result = inference(pid_model, X, pid)
    table = result.summary()
    assert list(table.columns) == ["coef", "std err", "z", "P>|z|", "[0.025", "0.975]"]
    assert table.index.names == ["class", "feature"]
    assert table.index[0] == ("PID=1.0", "logpopul")
    assert table.index[-1] == ("PID=6.0", "intercept")
    assert_allclose(table["std err"].to_numpy(), result.bse.ravel())
    assert_allclose(table["[0.025"].to_numpy(), result.conf_int()[..., 0].ravel())
    assert list(result.summary(alpha=0.1).columns[-2:]) == ["[0.05", "0.95]"]


def test_summary_without_pandas_is_a_structured_array(anes, pid_model, monkeypatch):
    X, pid, _, _ = anes
    result = inference(pid_model, X, pid.to_numpy())
    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas now fails
    table = result.summary()
    assert isinstance(table, np.ndarray)
    assert table.dtype.names == ("class", "feature", "coef", "std err", "z", "P>|z|",
                                 "[0.025", "0.975]")
    assert table["class"][0] == "y=1.0" and table["feature"][0] == "logpopul"
    assert table["feature"][5] == "intercept"
    assert_allclose(table["P>|z|"], result.pvalues.ravel())


def test_printed_summary_reads_like_statsmodels(anes, pid_model):
    X, pid, _, income = anes
    text = str(inference(pid_model, X, pid, cov_type="cluster", groups=income))
    assert re.search(r"PID=1\.0\s+coef\s+std err\s+z\s+P>\|z\|\s+\[0\.025\s+0\.975\]", text)
    # Four decimals for the coefficient, three for the rest, as statsmodels prints them.
    assert re.search(r"\nselfLR\s+0\.2977\s+0\.118\s+2\.526\s+0\.012\s+0\.067\s+0\.529\n", text)
    assert "cluster, 24 groups" in text and "Reference class:" in text


# --- penalty, L1, separation, singular Hessian, mismatched data -----------------------


def test_l1_model_is_refused(anes):
    X, pid, _, _ = anes
    X = (X - X.mean()) / X.std()
    model = SoftmaxClassifier(C=1.0, l1_ratio=0.5, max_iter=500).fit(X, pid)
    with pytest.raises(ValueError, match=r"L1 penalty \(l1_ratio=0.5, C=1.0\).*exact zeros"):
        inference(model, X, pid)


def test_l1_ratio_without_penalty_is_no_penalty(anes, pid_model):
    X, pid, _, _ = anes
    model = exact_fit(X, pid, l1_ratio=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither the penalty nor the L1 warning/error
        result = inference(model, X, pid)
    assert_allclose(result.bse, inference(pid_model, X, pid).bse, rtol=1e-6)


def test_completely_separated_data_warn(rng):
    X = rng.standard_normal((100, 2))
    y = (X[:, 0] > 0).astype(int)
    with pytest.warns(ConvergenceWarning):
        model = SoftmaxClassifier(C=np.inf).fit(X, y)
    with pytest.warns(UserWarning, match="completely separate the classes.*refit with a finite C"):
        result = inference(model, X, y)
    assert result.separated == "complete"
    assert "Separation:         complete" in str(result)


def test_quasi_separated_data_warn(rng):
    # Class 2 is exactly the rows with x0 > 1: the others overlap.
    X = rng.standard_normal((300, 2))
    y = rng.integers(0, 2, size=300)
    y[X[:, 0] > 1] = 2
    # The fit may well report convergence: the gradient vanishes as the
    # coefficients of class 2 run off. Only the probabilities give it away.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxClassifier(C=np.inf, max_iter=300).fit(X, y)
    with pytest.warns(UserWarning, match=r"The data are quasi-separated.*does not exist"):
        result = inference(model, X, y)
    assert result.separated == "quasi"


def test_well_posed_unpenalized_data_do_not_warn(anes, pid_model):
    X, pid, _, _ = anes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = inference(pid_model, X, pid)
    assert result.separated is None and not result.penalized


def test_collinear_features_warn_singular_hessian(rng):
    X = rng.standard_normal((200, 2))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])
    y = rng.integers(0, 3, size=200)
    model = exact_fit(X, y, solver="lbfgs", tol=1e-10)
    with pytest.warns(UserWarning, match="The Hessian is singular"):
        result = inference(model, X, y)
    assert np.all(np.isfinite(result.bse))


def test_other_data_than_the_fit_warn(anes, pid_model):
    X, pid, _, _ = anes
    half = slice(0, len(X) // 2)
    with pytest.warns(UserWarning, match=r"not at the optimum .* standard errors"):
        inference(pid_model, X[half], pid[half])


def test_unconverged_fit_warns(anes):
    X, pid, _, _ = anes
    with pytest.warns(ConvergenceWarning):
        model = SoftmaxClassifier(C=np.inf, solver="lbfgs", max_iter=5).fit(X, pid)
    with pytest.warns(UserWarning, match="refit with a smaller tol"):
        inference(model, X, pid)


# --- bad input: each a precise error -------------------------------------------------


def test_unfitted_model(anes):
    X, pid, _, _ = anes
    with pytest.raises(NotFittedError, match="SoftmaxClassifier instance is not fitted"):
        inference(SoftmaxClassifier(), X, pid)


def test_not_a_softmax_classifier(anes):
    X, pid, _, _ = anes
    with pytest.raises(TypeError,
                       match="needs a fitted SoftmaxClassifier, got LogisticRegression"):
        inference(LogisticRegression(), X, pid)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"cov_type": "HC1"},
         r"cov_type must be one of \('nonrobust', 'HC0', 'cluster'\), got 'HC1'"),
        ({"cov_type": "cluster"}, r"cov_type='cluster' needs groups"),
        ({"groups": np.zeros(944)},
         r"groups is only used with cov_type='cluster', not with cov_type='nonrobust'"),
        ({"cov_type": "cluster", "groups": np.zeros(10)},
         r"groups has 10 entries but X has 944 samples"),
        ({"cov_type": "cluster", "groups": np.zeros(944)},
         r"needs at least 2 groups with positive weight, got 1"),
        ({"reference": 7.0},
         r"reference must be one of the model's classes \[0.0, .*6.0\], got 7.0"),
        ({"alpha": 1.0}, r"alpha must be a number strictly between 0 and 1, got 1.0"),
        ({"alpha": 0}, r"alpha must be a number strictly between 0 and 1, got 0"),
        ({"sample_weight": -np.ones(944)}, r"sample_weight has negative values"),
        ({"sample_weight": np.zeros(944)}, r"sample weights are all zero"),
        ({"sample_weight": np.ones(943)},
         r"sample_weight must have shape \(944,\), got \(943,\)"),
        ({"sample_weight": np.r_[np.nan, np.ones(943)]},
         r"sample_weight contains NaN or infinity"),
    ],
)
def test_bad_options(anes, pid_model, kwargs, message):
    X, pid, _, _ = anes
    with pytest.raises(ValueError, match=message):
        inference(pid_model, X, pid, **kwargs)


def test_conf_int_bad_alpha(anes, pid_model):
    X, pid, _, _ = anes
    with pytest.raises(ValueError,
                       match="alpha must be a number strictly between 0 and 1, got -0.1"):
        inference(pid_model, X, pid).conf_int(-0.1)


def test_mismatched_lengths(anes, pid_model):
    X, pid, _, _ = anes
    with pytest.raises(ValueError, match=r"inconsistent numbers of samples: \[944, 943\]"):
        inference(pid_model, X, pid[:-1])


def test_wrong_number_of_features(anes, pid_model_array):
    X, pid, _, _ = anes
    with pytest.raises(ValueError, match="X has 4 features, but SoftmaxClassifier is expecting 5"):
        inference(pid_model_array, X.to_numpy()[:, :4], pid)


def test_other_feature_names(anes, pid_model):
    X, pid, _, _ = anes
    with pytest.raises(ValueError, match="feature names should match"):
        inference(pid_model, X.rename(columns={"age": "years"}), pid)


def test_unknown_labels(anes, pid_model):
    X, pid, _, _ = anes
    with pytest.raises(ValueError, match=r"labels the model was not fitted on: \[7.0\]"):
        inference(pid_model, X, pid.replace(6.0, 7.0))


def test_nan_in_X(anes, pid_model):
    X, pid, _, _ = anes
    X = X.copy()
    X.iloc[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        inference(pid_model, X, pid)


def test_inputs_are_not_modified(anes, pid_model_array):
    X, pid, _, income = anes
    X_arr, weights = X.to_numpy().copy(), np.ones(len(X))
    before = (X_arr.copy(), weights.copy(), income.copy(), pid_model_array.coef_.copy())
    inference(pid_model_array, X_arr, pid, sample_weight=weights, cov_type="cluster",
              groups=income)
    for a, b in zip(before, (X_arr, weights, income, pid_model_array.coef_)):
        assert_allclose(a, b, rtol=0, atol=0)


def test_cluster_needs_more_samples_than_parameters(anes, pid_model):
    X, pid, _, income = anes
    with pytest.raises(ValueError, match=r"needs more samples \(30\) than parameters \(36\)"):
        inference(pid_model, X[:30], pid[:30], cov_type="cluster", groups=income[:30])


# --- separation means separated data; information that is not there -----------------


def test_one_far_sample_is_not_separation(rng):
    # One sample far out on its own side: its fitted probability is above
    # 1 - 1e-8, but the data overlap and the MLE exists (statsmodels' Logit
    # fits it normally), so there is no separation warning, and the
    # off-optimum check still runs.
    x = rng.standard_normal(500)
    y = (rng.random(500) < 1 / (1 + np.exp(-2 * x))).astype(int)
    x[0], y[0] = 12.0, 1
    X = x[:, None]
    model = exact_fit(X, y)
    assert model.predict_proba(X[:1])[0, 1] > 1 - 1e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = inference(model, X, y)
    assert result.separated is None
    logit = sm.Logit(y, sm.add_constant(X, prepend=False)).fit(disp=0)
    assert_allclose(result.bse.ravel(), logit.bse, rtol=1e-5)
    with pytest.warns(UserWarning, match="not at the optimum"):
        inference(model, X[::2], y[1::2])


def test_binary_quasi_separation_is_found_in_the_data(rng):
    # x0 in {-1, 0, 1}: y = 1 at 1, y = 0 at -1, both at 0. Quasi-separated
    # along x0 (the samples at 0 lie on the boundary), not completely. The
    # check is on the data (a direction no sample contradicts), and says so.
    X = np.column_stack([rng.integers(-1, 2, size=200), rng.standard_normal(200)]).astype(float)
    y = np.where(X[:, 0] == 0, rng.integers(0, 2, size=200), X[:, 0] > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxClassifier(C=np.inf, max_iter=300, tol=1e-12).fit(X, y)
    with pytest.warns(UserWarning, match=r"The data are quasi-separated.*does not exist"):
        result = inference(model, X, y)
    assert result.separated == "quasi"


def test_zero_feature_is_not_identified(rng):
    X = np.column_stack([rng.standard_normal((60, 2)), np.zeros(60)])
    y = (X[:, 0] + rng.standard_normal(60) > 0).astype(int)
    model = exact_fit(X, y)
    reference = inference(exact_fit(X[:, :2], y), X[:, :2], y)
    for cov_type, groups in [("nonrobust", None), ("HC0", None), ("cluster", np.arange(60) % 7)]:
        with pytest.warns(UserWarning, match=r"not identified.*'x2'"):
            result = inference(model, X, y, cov_type=cov_type, groups=groups)
        assert np.all(np.isnan(result.bse[:, 2]))
        assert np.all(np.isnan(result.pvalues[:, 2])) and np.all(np.isnan(result.conf_int()[:, 2]))
        cov = result.cov_params()
        assert np.all(np.isnan(cov[2])) and np.all(np.isnan(cov[:, 2]))
        # The other coefficients are those of the model without the column.
        if cov_type != "cluster":
            expected = inference(exact_fit(X[:, :2], y), X[:, :2], y, cov_type=cov_type)
        else:
            expected = inference(exact_fit(X[:, :2], y), X[:, :2], y, cov_type=cov_type,
                                 groups=groups)
        assert_allclose(result.bse[:, [0, 1, 3]], expected.bse, rtol=1e-6)
    assert reference.bse.shape == (1, 3)


def test_sparsified_model(rng):
    X = rng.standard_normal((200, 3))
    y = rng.integers(0, 3, size=200)
    model = exact_fit(X, y)
    expected = inference(model, X, y)
    model.sparsify()
    assert sp.issparse(model.coef_)
    result = inference(model, X, y)
    assert_allclose(result.bse, expected.bse, rtol=1e-12)
    assert_allclose(result.params, expected.params, rtol=1e-12)


@pytest.mark.parametrize("groups, message", [
    (np.r_[np.nan, np.arange(943) % 5.0], r"groups has missing labels \(NaN or None\) at 1 "
                                          r"sample\(s\), the first at index 0"),
    (np.array([None] + [1] * 943, dtype=object), r"groups has missing labels .* index 0"),
    (pd.Series(["a"] * 943 + [pd.NA], dtype=object),
     r"groups has missing labels \(NaN or None\) at 1 sample\(s\), the first at index 943"),
    (np.array(["a", 1] * 472, dtype=object),
     r"groups labels cannot be sorted \(mixed types: int, str\)"),
])
def test_bad_groups(anes, pid_model, groups, message):
    X, pid, _, _ = anes
    with pytest.raises(ValueError, match=message):
        inference(pid_model, X, pid, cov_type="cluster", groups=groups)


@pytest.mark.parametrize("scale", [1e-6, 1e-9, 1e6])
def test_the_printed_table_keeps_every_number_apart(scale):
    # A feature scaled by 1e-6 has a coefficient and interval near 1e6: each
    # cell must still be one number of its own, equal to the value it shows.
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] + X[:, 1] + rng.normal(size=300) > 0).astype(int)
    X[:, 1] *= scale
    model = SoftmaxClassifier(C=np.inf, tol=1e-10, max_iter=1000).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = inference(model, X, y)
    rows = [line.split() for line in str(result).splitlines()
            if line.split()[:1] and line.split()[0] in result.feature_names]
    assert [row[0] for row in rows] == result.feature_names
    intervals = result.conf_int()
    for j, row in enumerate(rows):
        expected = [result.params[0, j], result.bse[0, j], result.zvalues[0, j],
                    result.pvalues[0, j], intervals[0, j, 0], intervals[0, j, 1]]
        assert len(row) == 7, row
        # Each shown number is its value to the shown precision (3 decimals
        # or 4 significant digits).
        assert_allclose([float(text) for text in row[1:]], expected, rtol=1e-3, atol=1e-3)
