"""Bad input: a clear error of scikit-learn's type, and nothing changed."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from softmax_regression import SoftmaxClassifier
from softmax_regression._solvers import SOLVERS


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    return X, y


def _nan_X(X, y):
    X = X.copy()
    X[3, 2] = np.nan
    return X, y


def _inf_X(X, y):
    X = X.copy()
    X[0, 0] = np.inf
    return X, y


BAD_FITS = {
    "nan in X": (_nan_X, {}, ValueError, "NaN"),
    "inf in X": (_inf_X, {}, ValueError, "infinity"),
    "one class": (lambda X, y: (X, np.zeros_like(y)), {}, ValueError, "one class"),
    "continuous target": (lambda X, y: (X, y + 0.5), {}, ValueError, "Unknown label type"),
    "mismatched lengths": (lambda X, y: (X, y[:-1]), {}, ValueError, "inconsistent numbers"),
    "negative weight": (lambda X, y: (X, y), {"sample_weight": "negative"}, ValueError,
                        "Negative values"),
    "all-zero weights": (lambda X, y: (X, y), {"sample_weight": "zeros"}, ValueError,
                         "(sum to zero|positive weight|zero)"),
    "weights leave one class": (lambda X, y: (X, y), {"sample_weight": "one_class"}, ValueError,
                                "fewer than 2 classes"),
    "nan weight": (lambda X, y: (X, y), {"sample_weight": "nan"}, ValueError, "(NaN|nan)"),
    "1-D X": (lambda X, y: (X[:, 0], y), {}, ValueError, "2D array"),
    "no samples": (lambda X, y: (X[:0], y[:0]), {}, ValueError, "0 sample"),
}


def _weights(kind, y):
    return {
        "negative": np.where(np.arange(len(y)) == 5, -1.0, 1.0),
        "zeros": np.zeros(len(y)),
        "one_class": (y == 1).astype(float),
        "nan": np.where(np.arange(len(y)) == 5, np.nan, 1.0),
    }[kind]


@pytest.mark.parametrize("case", sorted(BAD_FITS))
def test_bad_fit_input_raises_and_keeps_the_fitted_model(data, case):
    X, y = data
    make, kwargs, error, match = BAD_FITS[case]
    model = SoftmaxClassifier().fit(X, y)
    before = pickle.dumps(model)
    proba = model.predict_proba(X)
    Xb, yb = make(X, y)
    if "sample_weight" in kwargs:
        kwargs = {"sample_weight": _weights(kwargs["sample_weight"], yb)}
    with pytest.raises(error, match=match):
        model.fit(Xb, yb, **kwargs)
    assert pickle.dumps(model) == before
    np.testing.assert_array_equal(model.predict_proba(X), proba)


def test_wrong_number_of_features_at_predict(data):
    X, y = data
    model = SoftmaxClassifier().fit(X, y)
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        with pytest.raises(ValueError, match="features"):
            getattr(model, method)(X[:, :-1])


def test_nan_at_predict(data):
    X, y = data
    model = SoftmaxClassifier().fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        model.predict(_nan_X(X, y)[0])


def test_unfitted_estimator(data):
    X, _ = data
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        with pytest.raises(NotFittedError):
            getattr(SoftmaxClassifier(), method)(X)


@pytest.mark.parametrize(
    "params, match",
    [({"C": 0.0}, "C"), ({"C": -1.0}, "C"), ({"solver": "sag"}, "solver"),
     ({"l1_ratio": 1.5}, "l1_ratio"), ({"tol": -1.0}, "tol"), ({"max_iter": -1}, "max_iter"),
     ({"class_weight": "auto"}, "class_weight")],
)
def test_invalid_parameters(data, params, match):
    X, y = data
    model = SoftmaxClassifier().fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match=match):
        model.set_params(**params).fit(X, y)
    np.testing.assert_array_equal(model.coef_, coef)


def test_unsupported_solver_penalty_names_both(data):
    X, y = data
    with pytest.raises(ValueError, match=r"solver='newton-cg'.*l1_ratio=0\.5.*lbfgs"):
        SoftmaxClassifier(solver="newton-cg", l1_ratio=0.5).fit(X, y)
    # Without a penalty, l1_ratio does not matter.
    SoftmaxClassifier(solver="newton-cg", l1_ratio=0.5, C=np.inf, max_iter=20).fit(X[:, :1], y)


def test_class_weight_for_unknown_label(data):
    X, y = data
    with pytest.raises(ValueError, match=r"class_weight has keys that are not classes: \[7\]; "
                                         r"the classes are \[0, 1, 2\]"):
        SoftmaxClassifier(class_weight={7: 2.0}).fit(X, y)


def test_interrupted_fit_restores_the_model(data, monkeypatch):
    X, y = data
    model = SoftmaxClassifier().fit(X, y)
    before = pickle.dumps(model)
    import softmax_regression._model.loss as loss_module

    calls = {"n": 0}

    def interrupting(original):
        def interrupted(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 3:
                raise KeyboardInterrupt
            return original(self, *args, **kwargs)

        return interrupted

    # Every solver evaluates through one of these two.
    for name in ("loss_gradient", "loss_gradient_hessian_product"):
        original = getattr(loss_module.LinearSoftmaxLoss, name)
        monkeypatch.setattr(loss_module.LinearSoftmaxLoss, name, interrupting(original))
    with pytest.raises(KeyboardInterrupt):
        model.fit(X[:60, :4] * 2, y[:60])
    assert pickle.dumps(model) == before


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_max_iter_reached_warns(data, solver):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        SoftmaxClassifier(solver=solver, max_iter=2, tol=1e-12).fit(X, y)


@pytest.mark.parametrize("solver", sorted(SOLVERS))
@pytest.mark.parametrize("n_classes", [2, 3])
def test_separable_data_without_penalty_warns_and_stays_finite(solver, n_classes):
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [10, 10], [-10, 10]])[:n_classes]
    y = np.repeat(np.arange(n_classes), 20)
    X = centers[y] + rng.standard_normal((len(y), 2))
    # SGD stops by its own rule, possibly before its model separates the data;
    # it must still warn (it cannot converge) and stay finite.
    match = "separated" if not SOLVERS[solver].stateful else "separated|converge"
    with pytest.warns(ConvergenceWarning, match=match):
        model = SoftmaxClassifier(C=np.inf, solver=solver).fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    assert np.all(np.isfinite(model.predict_proba(X)))
    np.testing.assert_array_equal(model.predict(X), y)
