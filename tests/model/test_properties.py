"""Property-based tests: invariants that hold for every drawn problem.

Shapes, dtypes (float32/float64), formats (dense, CSR, CSC), label types,
sample weights and ``C`` are drawn by hypothesis (see ``_strategies.py``).
All tests are derandomized and have a bounded number of examples, so the run
is deterministic and takes well under a minute.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _strategies import ALL_SOLVERS, EXACT_SOLVERS, problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier
from softmax_regression._model.loss import LinearSoftmaxLoss
from softmax_regression._model.referee import objective
from softmax_regression._solvers import SOLVERS


def bounded(max_examples):
    return settings(
        derandomize=True,
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def _sum_tol(dtype):
    return 1e-12 if np.dtype(dtype) == np.float64 else 1e-6


def _fit(problem, solver, **params):
    model = SoftmaxClassifier(C=problem.C, solver=solver, **params)
    return model.fit(problem.X, problem.y, sample_weight=problem.sample_weight)


def _rows(X, index):
    return X[index] if not sp.issparse(X) else X[index, :]


# -- probabilities ---------------------------------------------------------------------------


@bounded(500)
@given(
    problem=problems(),
    solver=st.sampled_from(ALL_SOLVERS),
    fit_intercept=st.booleans(),
    l1_ratio=st.sampled_from([0.0, 0.0, 0.5, 1.0]),
    class_weight=st.sampled_from([None, "balanced"]),
)
def test_probabilities_are_normalized_and_consistent_with_predict(
    problem, solver, fit_intercept, l1_ratio, class_weight
):
    if not SOLVERS[solver].supports_l1:
        l1_ratio = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _fit(problem, solver, fit_intercept=fit_intercept, l1_ratio=l1_ratio,
                     class_weight=class_weight)
    assert model.coef_.dtype == problem.dtype
    # The training rows, fresh rows, and fresh rows 1000x larger (large logits).
    for X in (problem.X, problem.other_X(15), problem.other_X(15, scale=1e3)):
        proba = model.predict_proba(X)
        log_proba = model.predict_log_proba(X)
        predicted = model.predict(X)
        assert proba.shape == (X.shape[0], problem.n_classes)
        assert proba.dtype == problem.dtype

        assert np.all(np.isfinite(proba))
        assert np.all((proba >= 0) & (proba <= 1))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=_sum_tol(problem.dtype))

        # predict is the class of largest probability. Where two logits differ
        # by less than the resolution of exp() their probabilities are equal
        # and either class is an argmax; otherwise it must be THE argmax.
        predicted_index = np.searchsorted(model.classes_, predicted)
        assert np.array_equal(model.classes_[predicted_index], predicted)
        top = proba.max(axis=1)
        np.testing.assert_array_equal(proba[np.arange(len(top)), predicted_index], top)
        unique_top = (proba == top[:, None]).sum(axis=1) == 1
        np.testing.assert_array_equal(
            model.classes_[np.argmax(proba, axis=1)][unique_top], predicted[unique_top]
        )

        # log-probabilities: finite everywhere (no -inf from underflow), and
        # equal to log(proba) wherever proba is a normal floating-point number.
        assert np.all(np.isfinite(log_proba)) and np.all(log_proba <= 0)
        tiny = 1e-300 if problem.dtype == np.float64 else np.finfo(np.float32).tiny
        representable = proba > tiny
        tol = 1e-12 if problem.dtype == np.float64 else 1e-6
        np.testing.assert_allclose(
            log_proba[representable], np.log(proba[representable]), rtol=tol, atol=tol
        )


# -- invariances -----------------------------------------------------------------------------

TIGHT = dict(tol=1e-10, max_iter=10_000)
float64_problems = problems(dtypes=(np.float64,), Cs=(0.01, 0.1, 1.0, 10.0))


@bounded(300)
@given(problem=float64_problems, solver=st.sampled_from(EXACT_SOLVERS), data=st.data())
def test_predictions_do_not_depend_on_the_order_of_the_rows(problem, solver, data):
    perm = data.draw(st.permutations(range(problem.X.shape[0])).map(np.array), label="perm")
    model = _fit(problem, solver, **TIGHT)
    sw = None if problem.sample_weight is None else problem.sample_weight[perm]
    permuted = SoftmaxClassifier(C=problem.C, solver=solver, **TIGHT).fit(
        _rows(problem.X, perm), problem.y[perm], sample_weight=sw
    )
    np.testing.assert_array_equal(permuted.classes_, model.classes_)
    for X in (problem.X, problem.other_X(15)):
        np.testing.assert_allclose(permuted.predict_proba(X), model.predict_proba(X),
                                   rtol=0, atol=1e-6)


@bounded(300)
@given(problem=float64_problems, solver=st.sampled_from(EXACT_SOLVERS))
def test_predictions_do_not_depend_on_the_names_of_the_labels(problem, solver):
    # The same problem with labels 0..K-1 and with the drawn labels (strings,
    # bools, negative ints, object arrays in reverse sorted order).
    base = SoftmaxClassifier(C=problem.C, solver=solver, **TIGHT).fit(
        problem.X, problem.y_index, sample_weight=problem.sample_weight
    )
    model = _fit(problem, solver, **TIGHT)
    order = np.argsort(problem.labels)  # model's column j is base's column order[j]
    np.testing.assert_array_equal(model.classes_, problem.labels[order])
    for X in (problem.X, problem.other_X(15)):
        base_proba = base.predict_proba(X)
        proba = model.predict_proba(X)
        np.testing.assert_allclose(proba, base_proba[:, order], rtol=0, atol=1e-6)
        # Labels agree wherever the decision is not a near tie.
        top2 = np.sort(base_proba, axis=1)[:, -2:]
        clear = top2[:, 1] - top2[:, 0] > 1e-5
        np.testing.assert_array_equal(
            model.predict(X)[clear], problem.labels[base.predict(X)][clear]
        )


# -- the loss gradient -----------------------------------------------------------------------


def _reference_loss(coef, X, y_index, w, n_classes, fit_intercept):
    """Weighted float64 cross-entropy sum from the package's reference objective."""
    coef = np.asarray(coef, dtype=np.float64)
    d = X.shape[1]
    intercept = coef[:, d] if fit_intercept else None
    w = np.asarray(w, dtype=np.float64)
    return objective(X, y_index, coef[:, :d], intercept, C=np.inf, sample_weight=w) * float(
        np.sum(w))


@bounded(200)
@given(
    problem=problems(dtypes=(np.float64,), max_samples=30, max_features=5),
    fit_intercept=st.booleans(),
    coef_scale=st.sampled_from([0.0, 0.1, 1.0, 5.0]),
)
def test_loss_gradient_matches_finite_differences(problem, fit_intercept, coef_scale):
    K = problem.n_classes
    loss = LinearSoftmaxLoss(K, fit_intercept)
    shape = loss.coef_shape(problem.X.shape[1])
    rng = np.random.default_rng(problem.seed)
    coef = rng.standard_normal(shape) * coef_scale
    w = (np.ones(problem.X.shape[0]) if problem.sample_weight is None
         else problem.sample_weight)
    Y = loss.one_hot(problem.y_index, np.float64)

    value, G = loss.loss_gradient(coef, problem.X, Y, w)
    reference = _reference_loss(coef, problem.X, problem.y_index, w, K, fit_intercept)
    assert value == pytest.approx(reference, rel=1e-12, abs=1e-12)
    assert G.shape == coef.shape

    eps = 1e-6
    fd = np.empty(shape)
    for idx in np.ndindex(shape):
        step = np.zeros(shape)
        step[idx] = eps
        fd[idx] = (
            _reference_loss(coef + step, problem.X, problem.y_index, w, K, fit_intercept)
            - _reference_loss(coef - step, problem.X, problem.y_index, w, K, fit_intercept)
        ) / (2 * eps)
    # Rounding in the differences is about |f| * 1e-16 / eps.
    np.testing.assert_allclose(G, fd, rtol=1e-6, atol=1e-7 * max(1.0, abs(reference)))


# -- monotone objective ----------------------------------------------------------------------


@bounded(300)
@given(
    problem=problems(),
    solver=st.sampled_from(EXACT_SOLVERS),
    l1_ratio=st.sampled_from([0.0, 0.5, 1.0]),
)
def test_objective_never_increases_between_iterations(problem, solver, l1_ratio):
    if not SOLVERS[solver].supports_l1:
        l1_ratio = 0.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = _fit(problem, solver, l1_ratio=l1_ratio, tol=1e-8, max_iter=300)
    curve = np.asarray(model.loss_curve_)
    assert len(curve) == model.n_iter_[0]
    assert np.all(np.isfinite(curve))
    if len(curve) > 1:
        increase = np.diff(curve)
        # Where the objective is flat to its rounding in the data's dtype, the
        # L-BFGS line search accepts a step within that rounding (64 eps times
        # max(|f|, 1): approximate Wolfe conditions); beyond it, never.
        rounding = max(1e-12, 64 * float(np.finfo(problem.dtype).eps))
        allowed = rounding * np.maximum(np.abs(curve[:-1]), 1.0)
        assert np.all(increase <= allowed), (
            f"objective increased at iterations {np.flatnonzero(increase > allowed) + 1}: "
            f"{curve}"
        )
