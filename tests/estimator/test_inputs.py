"""Input formats: sparse, float32, read-only, F-ordered, data frames, labels."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier
from softmax_regression._solvers import SOLVERS

SOLVER_NAMES = sorted(SOLVERS)


@pytest.fixture(scope="module")
def sparse_data():
    rng = np.random.default_rng(0)
    X = sp.random_array((300, 40), density=0.1, format="csr", rng=rng)
    y = rng.integers(0, 4, size=300)
    return X, y


@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("fmt", ["csr_array", "csc_array", "csr_matrix", "csc_matrix"])
def test_sparse_gives_the_dense_solution(sparse_data, solver, fmt):
    X, y = sparse_data
    Xs = getattr(sp, fmt)(X)
    params = dict(solver=solver, tol=1e-10, max_iter=5000)
    sparse_model = SoftmaxClassifier(**params).fit(Xs, y)
    dense_model = SoftmaxClassifier(**params).fit(X.toarray(), y)
    np.testing.assert_allclose(sparse_model.coef_, dense_model.coef_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(sparse_model.intercept_, dense_model.intercept_, rtol=0, atol=1e-6)
    np.testing.assert_allclose(sparse_model.predict_proba(Xs), dense_model.predict_proba(X.toarray()),
                               atol=1e-6)


def test_sparse_input_is_never_densified(sparse_data, monkeypatch):
    X, y = sparse_data
    def refuse(*args, **kwargs):
        raise AssertionError("sparse input was densified")
    for cls in (sp.csr_array, sp.csc_array):
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)
    model = SoftmaxClassifier().fit(X, y)
    model.predict_proba(X)
    model.decision_function(X.tocsc())


@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_float32_end_to_end(solver):
    X, y = load_iris(return_X_y=True)
    X32 = StandardScaler().fit_transform(X).astype(np.float32)
    model = SoftmaxClassifier(solver=solver, max_iter=500).fit(X32, y)
    assert model.coef_.dtype == np.float32 and model.intercept_.dtype == np.float32
    proba = model.predict_proba(X32)
    assert proba.dtype == np.float32
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    model64 = SoftmaxClassifier(solver=solver, max_iter=500).fit(X32.astype(np.float64), y)
    assert model64.coef_.dtype == np.float64
    np.testing.assert_allclose(model.coef_, model64.coef_, atol=2e-3)


def test_float32_sparse_stays_float32(sparse_data):
    X, y = sparse_data
    model = SoftmaxClassifier().fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32


def test_read_only_and_fortran_ordered_input():
    X, y = make_classification(n_samples=200, n_features=5, n_informative=3, n_classes=3,
                               random_state=0)
    reference = SoftmaxClassifier(tol=1e-8).fit(X, y)
    X_f = np.asfortranarray(X)
    X_ro = X.copy()
    X_ro.setflags(write=False)
    y_ro = y.copy()
    y_ro.setflags(write=False)
    for Xv, yv in [(X_f, y), (X_ro, y_ro)]:
        model = SoftmaxClassifier(tol=1e-8).fit(Xv, yv)
        np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(model.predict_proba(Xv), reference.predict_proba(X), atol=1e-12)


def test_input_is_never_modified():
    X, y = make_classification(n_samples=100, n_features=5, n_informative=3, n_classes=3,
                               random_state=0)
    sw = np.linspace(0.5, 2, 100)
    copies = X.copy(), y.copy(), sw.copy()
    model = SoftmaxClassifier(class_weight="balanced").fit(X, y, sample_weight=sw)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        getattr(model, method)(X)
    for before, after in zip(copies, (X, y, sw)):
        np.testing.assert_array_equal(before, after)


def test_pandas_and_polars_frames_set_feature_names():
    pd = pytest.importorskip("pandas")
    X, y = load_iris(return_X_y=True, as_frame=True)
    model = SoftmaxClassifier(max_iter=500).fit(X, y)
    np.testing.assert_array_equal(model.feature_names_in_, X.columns.to_numpy())
    assert model.predict(X).shape == (150,)
    pl = pytest.importorskip("polars")
    frame = pl.from_pandas(X)
    model_pl = SoftmaxClassifier(max_iter=500).fit(frame, pl.Series(y.to_numpy()))
    assert list(model_pl.feature_names_in_) == list(X.columns)
    np.testing.assert_allclose(model_pl.coef_, model.coef_)
    assert isinstance(pd.DataFrame(model.predict_proba(X)), pd.DataFrame)


@pytest.mark.parametrize(
    "labels",
    [np.array(["setosa", "versicolor", "virginica"]), np.array([10, -3, 7]),
     np.array(["b", "a", "c"], dtype=object)],
)
def test_any_hashable_labels_give_the_same_model(labels):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    base = SoftmaxClassifier(tol=1e-10, max_iter=1000).fit(X, y)
    model = SoftmaxClassifier(tol=1e-10, max_iter=1000).fit(X, labels[y])
    np.testing.assert_array_equal(model.classes_, np.sort(labels))
    np.testing.assert_array_equal(model.predict(X), labels[base.predict(X)])
    order = np.argsort(labels)  # column j of model is class sorted(labels)[j]
    np.testing.assert_allclose(model.predict_proba(X), base.predict_proba(X)[:, order], atol=1e-8)


def test_boolean_labels_are_binary():
    X, y = make_classification(n_samples=100, n_features=4, random_state=0)
    model = SoftmaxClassifier().fit(X, y.astype(bool))
    np.testing.assert_array_equal(model.classes_, [False, True])
    assert model.coef_.shape == (1, 4)
    assert model.predict(X).dtype == bool


def test_warm_start_continues_from_previous_fit():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    full = SoftmaxClassifier(tol=1e-8, max_iter=1000).fit(X, y)
    model = SoftmaxClassifier(tol=1e-8, max_iter=5, warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    first_objective = model.loss_curve_[-1]
    model.set_params(max_iter=1000).fit(X, y)
    assert model.loss_curve_[0] <= first_objective + 1e-12
    np.testing.assert_allclose(model.coef_, full.coef_, atol=1e-6)
    # Refitting at the optimum takes no iterations at all.
    model.fit(X, y)
    assert model.n_iter_[0] == 0
    # Without warm_start the same call starts from scratch.
    cold = SoftmaxClassifier(tol=1e-8, max_iter=1000).fit(X, y)
    assert cold.n_iter_[0] > 0


def test_fitted_attributes():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxClassifier(max_iter=500).fit(X, y)
    assert model.n_features_in_ == 4
    assert model.n_iter_.shape == (1,) and model.n_iter_[0] == len(model.loss_curve_)
    assert all(isinstance(v, float) for v in model.loss_curve_)
    assert model.loss_curve_[-1] <= model.loss_curve_[0]
    np.testing.assert_allclose(model.intercept_.sum(), 0.0, atol=1e-12)
    log_p = model.predict_log_proba(X)
    np.testing.assert_allclose(np.exp(log_p), model.predict_proba(X), rtol=1e-12, atol=1e-300)


def test_no_intercept_gives_zero_intercepts():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxClassifier(fit_intercept=False, max_iter=500).fit(X, y)
    np.testing.assert_array_equal(model.intercept_, np.zeros(3))


def test_verbose_prints_iterations(capsys):
    X, y = load_iris(return_X_y=True)
    for solver in SOLVER_NAMES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            SoftmaxClassifier(solver=solver, verbose=1, max_iter=500).fit(X, y)
        out = capsys.readouterr().out
        if SOLVERS[solver].stateful:
            assert "[sgd] epoch" in out and "eta=" in out
        elif solver == "auto":
            # The method it chose names its lines.
            assert "[auto] method: newton-exact" in out and "[newton-exact] iter" in out
        else:
            assert f"[{solver}] iter" in out and "optimality=" in out
