"""Agreement with LogisticRegression: the same objective gives the same model."""

import functools
import warnings

import numpy as np
import pytest
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier
from softmax_regression._solvers import SOLVERS

# Deterministic solvers reach the optimum to any tolerance; SGD is tested
# against them in test_sgd.py.
EXACT_SOLVERS = sorted(name for name, spec in SOLVERS.items() if not spec.stateful)

TIGHT = dict(tol=1e-10, max_iter=10000)


@functools.cache
def load(name):
    if name == "synthetic_multiclass":
        X, y = datasets.make_classification(
            n_samples=500, n_features=20, n_informative=10, n_classes=5,
            n_clusters_per_class=1, random_state=0)
    elif name == "synthetic_binary":
        X, y = datasets.make_classification(n_samples=400, n_features=15, random_state=1)
    else:
        X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@functools.cache
def reference(name, C, fit_intercept):
    X, y = load(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return LogisticRegression(C=C, fit_intercept=fit_intercept, **TIGHT).fit(X, y)


def assert_same_model(model, ref, X, coef_rtol=1e-4, proba_atol=1e-5):
    scale = np.max(np.abs(ref.coef_))
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=0, atol=coef_rtol * scale)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=0, atol=coef_rtol * scale)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), rtol=0, atol=proba_atol)


DATASETS = ["iris", "wine", "digits", "breast_cancer", "synthetic_multiclass", "synthetic_binary"]


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("name", DATASETS)
@pytest.mark.parametrize("solver", EXACT_SOLVERS)
def test_matches_logistic_regression(solver, name, C, fit_intercept):
    X, y = load(name)
    ref = reference(name, C, fit_intercept)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxClassifier(C=C, fit_intercept=fit_intercept, solver=solver, **TIGHT).fit(X, y)
    assert model.coef_.shape == ref.coef_.shape
    assert model.intercept_.shape == ref.intercept_.shape
    assert_same_model(model, ref, X)
    np.testing.assert_array_equal(model.predict(X), ref.predict(X))


def test_binary_problem_has_logistic_shapes():
    X, y = load("breast_cancer")
    ref = reference("breast_cancer", 1.0, True)
    model = SoftmaxClassifier(**TIGHT).fit(X, y)
    assert model.coef_.shape == (1, X.shape[1]) and model.intercept_.shape == (1,)
    scores = model.decision_function(X)
    assert scores.shape == (len(X),)
    np.testing.assert_allclose(scores, ref.decision_function(X), rtol=1e-5, atol=1e-5)


def test_integer_sample_weight_equals_repetition():
    X, y = load("iris")
    rng = np.random.default_rng(0)
    sw = rng.integers(0, 4, size=len(y))
    weighted = SoftmaxClassifier(**TIGHT).fit(X, y, sample_weight=sw)
    repeated = SoftmaxClassifier(**TIGHT).fit(np.repeat(X, sw, axis=0), np.repeat(y, sw))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1.0, 1: 3.0, 2: 0.5}])
@pytest.mark.parametrize("solver", EXACT_SOLVERS)
def test_class_weight_matches_logistic_regression(class_weight, solver):
    X, y = load("wine")
    sw = np.random.default_rng(1).uniform(0.5, 2.0, size=len(y))
    ref = LogisticRegression(class_weight=class_weight, **TIGHT).fit(X, y, sample_weight=sw)
    model = SoftmaxClassifier(class_weight=class_weight, solver=solver, **TIGHT).fit(
        X, y, sample_weight=sw)
    assert_same_model(model, ref, X)


def test_unpenalized_model_matches_logistic_regression():
    X, y = load("wine")
    X = X[:, :4]  # not separable with four features
    ref = LogisticRegression(C=np.inf, **TIGHT).fit(X, y)
    model = SoftmaxClassifier(C=np.inf, **TIGHT).fit(X, y)
    assert_same_model(model, ref, X)
