"""Pickle / deepcopy round trips, and use of one model from several threads."""

import copy
import pickle
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from _strategies import ALL_SOLVERS
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier

pd = pytest.importorskip("pandas")

PREDICT_METHODS = ("predict", "predict_proba", "predict_log_proba", "decision_function")
FITTED_ATTRIBUTES = ("classes_", "coef_", "intercept_", "n_iter_", "n_features_in_",
                     "loss_curve_")


def _data(kind, n_samples=300, n_features=6, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    X = rng.standard_normal((n_classes, n_features))[y] + rng.standard_normal((n_samples, n_features))
    labels = np.array(["ant", "bee", "cat", "dog"])[:n_classes]
    if kind == "float32":
        return X.astype(np.float32), labels[y]
    if kind == "csr":
        return sp.csr_array(np.where(rng.random(X.shape) < 0.5, 0.0, X)), y
    if kind == "frame":
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(n_features)]), labels[y]
    if kind == "binary":
        return X, y % 2 == 1
    return X, y


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


def _predictions(model, X, y):
    out = {name: getattr(model, name)(X) for name in PREDICT_METHODS}
    out["score"] = model.score(X, y)
    return out


def _assert_identical(a, b):
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
        assert np.asarray(a[name]).dtype == np.asarray(b[name]).dtype, name


KINDS = ["float64", "float32", "csr", "frame", "binary"]


# -- pickle and deepcopy -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize(
    "round_trip",
    [pytest.param(lambda m: pickle.loads(pickle.dumps(m)), id="pickle"),
     pytest.param(lambda m: pickle.loads(pickle.dumps(m, protocol=2)), id="pickle-protocol-2"),
     pytest.param(copy.deepcopy, id="deepcopy")],
)
def test_round_trip_gives_identical_predictions(kind, solver, round_trip):
    X, y = _data(kind)
    model = _fit(SoftmaxClassifier(solver=solver), X, y)
    expected = _predictions(model, X, y)
    copied = round_trip(model)
    assert copied is not model
    _assert_identical(_predictions(copied, X, y), expected)
    for name in FITTED_ATTRIBUTES:
        np.testing.assert_array_equal(getattr(copied, name), getattr(model, name), err_msg=name)
    if hasattr(model, "feature_names_in_"):
        np.testing.assert_array_equal(copied.feature_names_in_, model.feature_names_in_)
    assert copied.get_params() == model.get_params()
    # The copy is independent: refitting it leaves the original alone.
    _fit(copied.set_params(C=0.01), X, y)
    _assert_identical(_predictions(model, X, y), expected)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_round_trip_then_warm_start_continues_identically(solver):
    X, y = _data("float64")
    params = dict(solver=solver, warm_start=True, max_iter=3, tol=1e-12, random_state=0)
    model = _fit(SoftmaxClassifier(**params), X, y)
    copied = pickle.loads(pickle.dumps(model))
    deep = copy.deepcopy(model)
    for m in (model, copied, deep):
        _fit(m, X, y)
    np.testing.assert_array_equal(copied.coef_, model.coef_)
    np.testing.assert_array_equal(deep.coef_, model.coef_)
    np.testing.assert_array_equal(copied.predict_proba(X), model.predict_proba(X))


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_unfitted_round_trip_fits_identically(solver):
    X, y = _data("float64")
    model = SoftmaxClassifier(solver=solver, C=0.5, random_state=0)
    copied = pickle.loads(pickle.dumps(model))
    assert copied.get_params() == model.get_params()
    _fit(model, X, y)
    _fit(copied, X, y)
    _assert_identical(_predictions(copied, X, y), _predictions(model, X, y))


# -- threads -------------------------------------------------------------------------------------

N_THREADS = 8


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_concurrent_predictions_equal_single_threaded_ones(kind, solver):
    X, y = _data(kind, n_samples=2000)
    model = _fit(SoftmaxClassifier(solver=solver), X, y)
    # Every thread predicts on the full data and on its own slice.
    slices = [slice(i, None, N_THREADS) for i in range(N_THREADS)]

    def rows(s):
        return X.iloc[s] if isinstance(X, pd.DataFrame) else X[s]

    expected_full = {name: getattr(model, name)(X) for name in PREDICT_METHODS}
    expected_slices = [{name: getattr(model, name)(rows(s)) for name in PREDICT_METHODS}
                       for s in slices]
    start = threading.Barrier(N_THREADS)

    def work(i):
        start.wait()
        results = []
        for _ in range(3):
            for name in PREDICT_METHODS:
                results.append((name, None, getattr(model, name)(X)))
                results.append((name, i, getattr(model, name)(rows(slices[i]))))
        return results

    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        all_results = list(pool.map(work, range(N_THREADS)))
    for results in all_results:
        for name, i, value in results:
            expected = expected_full[name] if i is None else expected_slices[i][name]
            np.testing.assert_array_equal(value, expected, err_msg=name)


# warnings.catch_warnings is not thread-safe, so the filter is set for the whole test.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_concurrent_fits_of_clones_equal_sequential_fits(solver):
    X, y = _data("float64", n_samples=600)
    models = [SoftmaxClassifier(solver=solver, C=C, random_state=0)
              for C in (0.01, 0.1, 1.0, 10.0)]
    expected = [_fit(clone(m), X, y).coef_ for m in models]
    start = threading.Barrier(len(models))

    def work(model):
        start.wait()
        return model.fit(X, y).coef_

    with ThreadPoolExecutor(max_workers=len(models)) as pool:
        got = list(pool.map(work, models))
    for coef, reference in zip(got, expected):
        np.testing.assert_array_equal(coef, reference)

