"""Warnings point at the user's line: the file and line that called fit (or the scikit-learn
function that fit for them), whatever lies in between."""

import sys
import warnings

import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV, inference

X, y = load_iris(return_X_y=True)


def _line():
    """The line number of the caller's next line."""
    return sys._getframe(1).f_lineno + 1


def _where(caught, category=ConvergenceWarning):
    places = {(w.filename, w.lineno) for w in caught if issubclass(w.category, category)}
    assert places, "no warning"
    return places


def test_a_direct_fit_warns_at_the_fit_line():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line()
        SoftmaxClassifier(max_iter=1).fit(X, y)
    assert _where(caught) == {(__file__, line)}


@pytest.mark.parametrize("solver", ["lbfgs", "newton-cg", "sgd"])
def test_a_pipeline_fit_warns_at_the_pipeline_line(solver):
    pipe = make_pipeline(StandardScaler(), SoftmaxClassifier(solver=solver, max_iter=1))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line()
        pipe.fit(X, y)
    assert _where(caught) == {(__file__, line)}


def test_cross_val_score_and_grid_search_warn_at_the_line_that_calls_them():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line()
        cross_val_score(SoftmaxClassifier(max_iter=1), X, y, cv=2)
    assert _where(caught) == {(__file__, line)}
    search = GridSearchCV(SoftmaxClassifier(max_iter=1), {"C": [0.1, 1.0]}, cv=2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line()
        search.fit(X, y)
    assert _where(caught) == {(__file__, line)}


def test_the_cv_estimator_warns_at_its_fit_line():
    # The path fits run in joblib's Parallel (in this process with n_jobs=None).
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line()
        SoftmaxClassifierCV(Cs=2, cv=2, max_iter=1).fit(X, y)
    assert _where(caught) == {(__file__, line)}


def test_partial_fit_and_inference_warn_at_the_call_line():
    model = SoftmaxClassifier(solver="sgd", precondition=False, eta0=1.5e-6, random_state=0)
    Xs = StandardScaler().fit_transform(X)
    model.partial_fit(Xs, y, classes=[0, 1, 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.partial_fit(Xs * 1e6, y)
        line = _line()
        model.partial_fit(Xs * 1e6, y)
    assert _where(caught) == {(__file__, line)}
    fitted = SoftmaxClassifier(C=1.0).fit(Xs, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        line = _line()
        inference(fitted, Xs, y)
    assert _where(caught, UserWarning) == {(__file__, line)}
