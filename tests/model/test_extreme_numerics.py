"""Extreme numerics: every case gives a finite model or a clear ValueError.

Never NaN or inf in ``coef_``, ``intercept_`` or the predictions, and never an
overflow/invalid-value RuntimeWarning on the way (those are errors here, as
in the project's pytest configuration).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import blobs
from _strategies import ALL_SOLVERS
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def assert_finite_model(model, X, n_classes):
    assert np.all(np.isfinite(model.coef_)), model.coef_
    assert np.all(np.isfinite(model.intercept_)), model.intercept_
    decision = model.decision_function(X)
    proba = model.predict_proba(X)
    log_proba = model.predict_log_proba(X)
    assert np.all(np.isfinite(decision))
    assert np.all(np.isfinite(proba)) and np.all((proba >= 0) & (proba <= 1))
    assert np.all(np.isfinite(log_proba)) and np.all(log_proba <= 0)
    assert proba.shape == (X.shape[0], n_classes)
    atol = 1e-12 if model.coef_.dtype == np.float64 else 1e-6
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=atol)
    assert set(np.unique(model.predict(X))) <= set(model.classes_)


def assert_clear_value_error(error):
    """A ValueError of this library or of scikit-learn's input validation.

    A ValueError leaking out of numpy/scipy internals (say scipy's "array must
    not contain infs or NaNs" from inside an optimizer) names nothing the user
    can act on, so it does not count as a clear error.
    """
    assert str(error), "a ValueError must say what is wrong"
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    origin = tb.tb_frame.f_code.co_filename
    assert "softmax_regression" in origin or "sklearn" in origin, (
        f"ValueError from {origin}: {error}"
    )


# The ValueError for features too large for a solver's arithmetic: it names
# the overflow and says to standardize.
OVERFLOW = r"^The solver overflowed \(.+\): the features are too large in magnitude .* Standardize them"


def fit_finite(X, y, **params):
    """Fit, then check that the model and its predictions are finite."""
    model = SoftmaxClassifier(**params)
    with warnings.catch_warnings():
        # Not converging on a degenerate problem is fine; not being finite is not.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    assert_finite_model(model, X, len(np.unique(y)))
    return model


# -- scaled features ---------------------------------------------------------------------------

# 1e+-150 is about the square root of the largest/smallest float64, so squares
# of features (the Hessian) are near the edge of the range; 1e+-18 is the
# float32 counterpart.
SCALES = [
    pytest.param(np.float64, 1e150, id="float64-1e150"),
    pytest.param(np.float64, 1e-150, id="float64-1e-150"),
    pytest.param(np.float32, 1e18, id="float32-1e18"),
    pytest.param(np.float32, 1e-18, id="float32-1e-18"),
]


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("C", [1.0, np.inf])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("dtype, scale", SCALES)
def test_scaled_features(dtype, scale, fmt, C, solver):
    X, y = blobs()
    X = (X * scale).astype(dtype)
    if fmt == "csr":
        X = sp.csr_array(X)
    model = fit_finite(X, y, C=C, solver=solver)
    assert model.coef_.dtype == dtype


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("scale", [1e150, 1e-150])
def test_predicting_on_scaled_rows_is_finite(solver, scale):
    X, y = blobs()
    model = fit_finite(X, y, solver=solver)
    assert_finite_model(model, X * scale, 3)


# -- degenerate features -----------------------------------------------------------------------


def _with_constant_column(X):
    return np.column_stack([X, np.full(len(X), 3.0)])


DEGENERATE = {
    "one constant feature": lambda X: _with_constant_column(X),
    "all features constant": lambda X: np.full_like(X, 7.0),
    "all features zero": lambda X: np.zeros_like(X),
    "duplicated features": lambda X: np.column_stack([X, X, X[:, :1]]),
    "a feature duplicated at 1e8 scale": lambda X: np.column_stack([X, 1e8 * X[:, :1]]),
}


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("C", [1.0, np.inf])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", sorted(DEGENERATE))
def test_degenerate_features(case, dtype, C, solver):
    X, y = blobs(spread=3.0)  # overlapping classes: a finite optimum exists
    X = DEGENERATE[case](X).astype(dtype)
    fit_finite(X, y, C=C, solver=solver)
    fit_finite(sp.csc_array(X), y, C=C, solver=solver)


# -- separable data without a penalty ------------------------------------------------------------


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("max_iter", [100, 10_000])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize(
    "dtype, fmt, weighted",
    [(np.float64, "dense", False), (np.float32, "dense", False),
     (np.float64, "csr", True), (np.float32, "csc", True)],
)
def test_separable_data_with_C_inf_warns_and_stays_finite(
    dtype, fmt, weighted, n_classes, max_iter, solver
):
    X, y = blobs(n_samples=60, n_features=2, n_classes=n_classes, spread=0.05)
    X = X.astype(dtype)
    if fmt != "dense":
        X = {"csr": sp.csr_array, "csc": sp.csc_array}[fmt](X)
    sample_weight = np.linspace(0.5, 2.0, len(y)) if weighted else None
    model = SoftmaxClassifier(C=np.inf, solver=solver, max_iter=max_iter)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, y, sample_weight=sample_weight)
    assert_finite_model(model, X, n_classes)
    assert model.coef_.dtype == dtype


# -- unusual class structure ---------------------------------------------------------------------


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("C", [1.0, np.inf])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_a_class_with_a_single_sample(n_classes, class_weight, C, solver):
    X, y = blobs(n_samples=60, n_classes=n_classes - 1, spread=3.0)
    y[7] = 99  # the only sample of its class
    model = fit_finite(X, y, C=C, solver=solver, class_weight=class_weight)
    if model is not None:
        assert 99 in model.classes_ and len(model.classes_) == n_classes


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_a_thousand_classes(solver):
    n_classes = 1000
    X, y = blobs(n_samples=2 * n_classes, n_features=3, n_classes=n_classes, spread=1.0)
    # Finiteness, not convergence, is what this checks; SGD epochs over 1000
    # classes are expensive, so it gets only a few.
    max_iter = 3 if solver == "sgd" else 100
    model = fit_finite(X, y, solver=solver, max_iter=max_iter)
    assert model is not None
    assert model.coef_.shape == (n_classes, 3)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("C", [1.0, np.inf])
@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_many_more_features_than_samples(fmt, C, solver):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 5000))
    y = np.arange(20) % 3
    if fmt == "csr":
        X[rng.random(X.shape) < 0.9] = 0.0
        X = sp.csr_array(X)
    model = fit_finite(X, y, C=C, solver=solver)
    assert model is not None and model.coef_.shape == (3, 5000)
