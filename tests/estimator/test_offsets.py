"""Offsets: a fixed, known part of the logits in fit and in every prediction method."""

import warnings

import numpy as np
import pytest
import sklearn
from scipy.special import log_softmax, softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from _data import blobs

# scikit-learn 1.7's default scorer routes only sample_weight to a Pipeline's
# score: cross_validate and GridSearchCV score a pipeline without the offset
# there (1.8 routes it).
SKLEARN_17 = tuple(int(part) for part in sklearn.__version__.split(".")[:2]) < (1, 8)
from _soft_referee import soft_optimum
from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV


def _data(n_classes, n_samples=90):
    X, y = blobs(n_samples=n_samples, n_features=3, n_classes=n_classes, seed=3, spread=2.5)
    X = StandardScaler().fit_transform(X)
    offset = np.random.default_rng(4).normal(size=(n_samples, n_classes))
    return X, y, offset


@pytest.mark.parametrize("solver", ["auto", "lbfgs", "newton-cg"])
def test_binary_offset_at_no_penalty_equals_statsmodels_glm(solver):
    sm = pytest.importorskip("statsmodels.api")
    X, y, offset = _data(2)
    offset = offset[:, 0]
    glm = sm.GLM(y, sm.add_constant(X), family=sm.families.Binomial(), offset=offset)
    expected = glm.fit(tol=1e-12).predict(sm.add_constant(X), offset=offset)
    model = SoftmaxClassifier(C=np.inf, solver=solver, tol=1e-10, max_iter=500)
    model.fit(X, y, offset=offset)
    np.testing.assert_allclose(model.predict_proba(X, offset=offset)[:, 1], expected,
                               rtol=1e-6)


@pytest.mark.parametrize("solver", ["auto", "lbfgs", "newton-cg"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_offset_reaches_the_referee_optimum(solver, n_classes):
    X, y, offset = _data(n_classes)
    _, _, expected = soft_optimum(X, np.eye(n_classes)[y], C=0.5, offset=offset)
    model = SoftmaxClassifier(C=0.5, solver=solver, tol=1e-10, max_iter=500)
    model.fit(X, y, offset=offset)
    np.testing.assert_allclose(model.predict_proba(X, offset=offset), expected, rtol=1e-6)


def test_sgd_with_an_offset_reaches_the_optimum_within_its_tolerance():
    X, y, offset = _data(3)
    _, _, expected = soft_optimum(X, np.eye(3)[y], C=1.0, offset=offset)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxClassifier(solver="sgd", tol=1e-6, max_iter=300, random_state=0)
        model.fit(X, y, offset=offset)
    np.testing.assert_allclose(model.predict_proba(X, offset=offset), expected, atol=1e-3)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_every_prediction_method_adds_the_offset(n_classes):
    X, y, offset = _data(n_classes)
    model = SoftmaxClassifier(max_iter=500).fit(X, y, offset=offset)
    logits = X @ model.coef_.T + model.intercept_
    if n_classes == 2:
        logits = np.column_stack([np.zeros(len(y)), logits[:, 0]])
    logits = logits + offset
    np.testing.assert_allclose(model.predict_proba(X, offset=offset), softmax(logits, axis=1),
                               rtol=1e-12)
    np.testing.assert_allclose(model.predict_log_proba(X, offset=offset),
                               log_softmax(logits, axis=1), rtol=1e-12, atol=1e-12)
    predicted = np.argmax(logits, axis=1)
    np.testing.assert_array_equal(model.predict(X, offset=offset), predicted)
    assert model.score(X, y, offset=offset) == np.mean(predicted == y)
    scores = model.decision_function(X, offset=offset)
    expected = logits[:, 1] - logits[:, 0] if n_classes == 2 else logits
    np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-12)


def test_binary_one_column_offset_equals_the_two_column_difference():
    X, y, offset = _data(2)
    one = SoftmaxClassifier(tol=1e-10).fit(X, y, offset=offset[:, 1] - offset[:, 0])
    two = SoftmaxClassifier(tol=1e-10).fit(X, y, offset=offset)
    np.testing.assert_allclose(one.coef_, two.coef_, rtol=1e-12)


def test_the_offset_routes_through_a_pipeline_and_grid_search():
    X, y, offset = _data(3)
    with sklearn.config_context(enable_metadata_routing=True):
        classifier = SoftmaxClassifier(tol=1e-10).set_fit_request(offset=True)
        classifier.set_score_request(offset=True)
        classifier.set_predict_proba_request(offset=True)
        pipe = make_pipeline(StandardScaler(), classifier).fit(X, y, offset=offset)
        direct = SoftmaxClassifier(tol=1e-10).fit(StandardScaler().fit_transform(X), y,
                                                  offset=offset)
        np.testing.assert_allclose(pipe.predict_proba(X, offset=offset),
                                   direct.predict_proba(StandardScaler().fit_transform(X),
                                                        offset=offset), rtol=1e-10)
        search = GridSearchCV(pipe, {"softmaxclassifier__C": [0.1, 10.0]}, cv=3)
        search.fit(X, y, offset=offset)
        # A refit without the offset would give other coefficients.
        final = search.best_estimator_[-1]
        expected = SoftmaxClassifier(C=search.best_params_["softmaxclassifier__C"],
                                     tol=1e-10).fit(StandardScaler().fit_transform(X), y,
                                                    offset=offset)
        np.testing.assert_allclose(final.coef_, expected.coef_, rtol=1e-8)
        if SKLEARN_17:
            return  # its default scorer does not pass the offset to a pipeline's score
        results = cross_validate(pipe, X, y, cv=KFold(3), params={"offset": offset})
    for k, (train, test) in enumerate(KFold(3).split(X)):
        scaler = StandardScaler().fit(X[train])
        model = SoftmaxClassifier(tol=1e-10).fit(scaler.transform(X[train]), y[train],
                                                 offset=offset[train])
        expected = model.score(scaler.transform(X[test]), y[test], offset=offset[test])
        assert results["test_score"][k] == pytest.approx(expected, abs=1e-12)


def test_cross_validate_routes_the_offset_to_the_classifier_in_every_version():
    X, y, offset = _data(3)
    X = StandardScaler().fit_transform(X)
    with sklearn.config_context(enable_metadata_routing=True):
        classifier = SoftmaxClassifier(tol=1e-10).set_fit_request(offset=True)
        classifier.set_score_request(offset=True)
        results = cross_validate(classifier, X, y, cv=KFold(3), params={"offset": offset})
    for k, (train, test) in enumerate(KFold(3).split(X)):
        model = SoftmaxClassifier(tol=1e-10).fit(X[train], y[train], offset=offset[train])
        expected = model.score(X[test], y[test], offset=offset[test])
        assert results["test_score"][k] == pytest.approx(expected, abs=1e-12)


def test_cv_splits_the_offset_with_the_folds():
    X, y, offset = _data(3)
    folds = [(np.arange(30, 90), np.arange(30)), (np.arange(60), np.arange(60, 90))]
    cv = SoftmaxClassifierCV(Cs=[0.5], cv=folds, tol=1e-10).fit(X, y, offset=offset)
    for k, (train, test) in enumerate(folds):
        model = SoftmaxClassifier(C=0.5, tol=1e-10).fit(X[train], y[train],
                                                         offset=offset[train])
        expected = np.mean(model.predict_log_proba(X[test], offset=offset[test])[
            np.arange(len(test)), y[test]])
        np.testing.assert_allclose(cv.scores_[k, 0, 0], expected, rtol=1e-6)
    refit = SoftmaxClassifier(C=0.5, tol=1e-10).fit(X, y, offset=offset)
    np.testing.assert_allclose(cv.coef_, refit.coef_, rtol=1e-6, atol=1e-8)
    assert cv.score(X, y, offset=offset) == pytest.approx(
        -np.mean(-refit.predict_log_proba(X, offset=offset)[np.arange(90), y]), rel=1e-6)


@pytest.mark.parametrize("n_classes, shape, words", [
    (3, (90,), r"offset must have shape \(90, 3\).*changes no probability"),
    (3, (90, 2), r"offset must have shape \(90, 3\) for 90 samples and 3 classes"),
    (3, (80, 3), r"offset must have shape \(90, 3\)"),
    (2, (90, 3), r"offset must have shape \(90,\) or \(90, 2\)"),
])
def test_a_wrong_shape_is_refused_and_the_model_left_as_it_was(n_classes, shape, words):
    X, y, _ = _data(n_classes)
    model = SoftmaxClassifier().fit(X, y)
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match=words):
        model.fit(X, y, offset=np.zeros(shape))
    np.testing.assert_array_equal(model.coef_, coef)
    with pytest.raises(ValueError, match=words):
        model.predict_proba(X, offset=np.zeros(shape))


def test_a_non_finite_offset_is_refused():
    X, y, offset = _data(3)
    offset[3, 1] = np.nan
    with pytest.raises(ValueError, match="offset contains NaN or infinity"):
        SoftmaxClassifier().fit(X, y, offset=offset)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_a_dask_offset_chunked_like_x_fits_and_predicts_as_in_memory(n_classes):
    da = pytest.importorskip("dask.array")
    X, y, offset = _data(n_classes)
    if n_classes == 2:
        offset = offset[:, 1]
    memory = SoftmaxClassifier(solver="lbfgs", tol=1e-10).fit(X, y, offset=offset)
    chunked = SoftmaxClassifier(solver="lbfgs", tol=1e-10).fit(
        da.from_array(X, chunks=(30, 3)), da.from_array(y, chunks=30),
        offset=da.from_array(offset, chunks=30))
    np.testing.assert_allclose(chunked.coef_, memory.coef_, rtol=1e-9, atol=1e-12)
    lazy = chunked.predict_proba(da.from_array(X, chunks=(30, 3)),
                                 offset=da.from_array(offset, chunks=30))
    np.testing.assert_allclose(lazy.compute(), memory.predict_proba(X, offset=offset),
                               rtol=1e-9)
    assert chunked.score(da.from_array(X, chunks=(30, 3)), y, offset=offset) == \
        memory.score(X, y, offset=offset)


def test_inference_with_the_offset_equals_statsmodels_glm():
    sm = pytest.importorskip("statsmodels.api")
    from softmax_regression import inference

    X, y, offset = _data(2)
    offset = offset[:, 0]
    glm = sm.GLM(y, sm.add_constant(X, prepend=False), family=sm.families.Binomial(),
                 offset=offset).fit(tol=1e-12)
    model = SoftmaxClassifier(C=np.inf, solver="newton-cg", tol=1e-10).fit(X, y, offset=offset)
    result = inference(model, X, y, offset=offset)
    np.testing.assert_allclose(result.params[0], glm.params, rtol=1e-6)
    np.testing.assert_allclose(result.bse[0], glm.bse, rtol=1e-6)
    with pytest.raises(ValueError, match=r"offset must have shape \(90,\) or \(90, 2\)"):
        inference(model, X, y, offset=np.zeros((90, 3)))
