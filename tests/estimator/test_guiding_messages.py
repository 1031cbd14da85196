"""Messages that guide: what to write instead of a LogisticRegression habit, which solver
has partial_fit, how to pass a pipeline to inference, which extra to install; and no
dead documentation link in the HTML representation."""

import pickle
import re
import sys
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import estimator_html_repr

from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV, inference
from softmax_regression._solvers import SOLVERS
from softmax_regression._utils.compat import InvalidParameterError
from softmax_regression._utils.optional import missing


# -- LogisticRegression's keywords ----------------------------------------------------------------
CLASSIFIER_CASES = [
    ({"penalty": "l1"}, "SoftmaxClassifier() got an unexpected keyword argument 'penalty': for "
     "LogisticRegression's penalty='l1', write l1_ratio=1.0 instead."),
    ({"penalty": None}, "SoftmaxClassifier() got an unexpected keyword argument 'penalty': for "
     "LogisticRegression's penalty=None, write C=np.inf instead (no penalty)."),
    ({"penalty": "elasticnet"}, "SoftmaxClassifier() got an unexpected keyword argument "
     "'penalty': for LogisticRegression's penalty='elasticnet', drop it and keep l1_ratio=r "
     "(any r in [0, 1] is an elastic net)."),
    ({"penalty": "l2"}, "SoftmaxClassifier() got an unexpected keyword argument 'penalty': for "
     "LogisticRegression's penalty='l2', drop it: an L2 penalty is the default (l1_ratio=0.0)."),
    ({"dual": True}, "SoftmaxClassifier() got an unexpected keyword argument 'dual': for "
     "LogisticRegression's dual=True, drop it: only liblinear had a dual; solver=\"lbfgs\" "
     "handles n_features >> n_samples."),
    ({"intercept_scaling": 2.0}, "SoftmaxClassifier() got an unexpected keyword argument "
     "'intercept_scaling': for LogisticRegression's intercept_scaling=2.0, drop it: it only "
     "mattered for liblinear, which penalizes the intercept; here the intercept is never "
     "penalized."),
    ({"n_jobs": 2}, "SoftmaxClassifier() got an unexpected keyword argument 'n_jobs': for "
     "LogisticRegression's n_jobs=2, drop it: a fit is one multinomial problem, whose matrix "
     "products use BLAS threads; set them with threadpoolctl.threadpool_limits(2)."),
    ({"multi_class": "ovr"}, "SoftmaxClassifier() got an unexpected keyword argument "
     "'multi_class': for LogisticRegression's multi_class='ovr', drop it: the model is always "
     "multinomial; for one-vs-rest write OneVsRestClassifier(SoftmaxClassifier())."),
    ({"l1_ratios": [0.0, 1.0]}, "SoftmaxClassifier() got an unexpected keyword argument "
     "'l1_ratios': for LogisticRegressionCV's l1_ratios=[0.0, 1.0], write "
     "SoftmaxClassifierCV(l1_ratios=...) to choose l1_ratio by cross-validation, or "
     "l1_ratio=r for one value."),
    ({"Cs": 10}, "SoftmaxClassifier() got an unexpected keyword argument 'Cs': for "
     "LogisticRegressionCV's Cs=10, write SoftmaxClassifierCV(Cs=...) to choose C by "
     "cross-validation, or C=c for one value."),
    ({"penalty": "l1", "n_jobs": -1}, "SoftmaxClassifier() got unexpected keyword arguments "
     "'penalty', 'n_jobs': for LogisticRegression's penalty='l1', write l1_ratio=1.0 instead; "
     "for LogisticRegression's n_jobs=-1, drop it: a fit is one multinomial problem, whose "
     "matrix products use BLAS threads; set them with threadpoolctl.threadpool_limits(-1)."),
]

CV_CASES = [
    ({"penalty": "l1"}, "SoftmaxClassifierCV() got an unexpected keyword argument 'penalty': "
     "for LogisticRegression's penalty='l1', write l1_ratios=(1.0,) instead."),
    ({"penalty": None}, "SoftmaxClassifierCV() got an unexpected keyword argument 'penalty': "
     "for LogisticRegression's penalty=None, write Cs=[np.inf] instead (no penalty)."),
    ({"dual": False}, "SoftmaxClassifierCV() got an unexpected keyword argument 'dual': for "
     "LogisticRegression's dual=False, drop it: only liblinear had a dual; solver=\"lbfgs\" "
     "handles n_features >> n_samples."),
    ({"use_legacy_attributes": False}, "SoftmaxClassifierCV() got an unexpected keyword "
     "argument 'use_legacy_attributes': for LogisticRegressionCV's use_legacy_attributes=False, "
     "drop it: the attributes are always LogisticRegressionCV's use_legacy_attributes=False "
     "form (C_ and l1_ratio_ floats, scores_ of shape (n_folds, n_l1_ratios, n_Cs))."),
    ({"l1_ratio": 0.5}, "SoftmaxClassifierCV() got an unexpected keyword argument 'l1_ratio': "
     "for LogisticRegression's l1_ratio=0.5, write l1_ratios=(0.5,) instead."),
    ({"C": 2.0}, "SoftmaxClassifierCV() got an unexpected keyword argument 'C': for "
     "LogisticRegression's C=2.0, write Cs=[2.0] instead."),
]


@pytest.mark.parametrize("keywords, message", CLASSIFIER_CASES)
def test_a_logistic_regression_keyword_says_what_to_write_instead(keywords, message):
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        SoftmaxClassifier(C=2.0, **keywords)


@pytest.mark.parametrize("keywords, message", CV_CASES)
def test_a_logistic_regression_cv_keyword_says_what_to_write_instead(keywords, message):
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        SoftmaxClassifierCV(Cs=3, **keywords)


def test_set_params_gives_the_same_advice_and_changes_nothing():
    clf = SoftmaxClassifier(C=3.0)
    message = ("SoftmaxClassifier.set_params() got an unexpected keyword argument 'penalty': "
               "for LogisticRegression's penalty='l1', write l1_ratio=1.0 instead.")
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        clf.set_params(C=1.0, penalty="l1")
    assert clf.C == 3.0
    with pytest.raises(TypeError, match=re.escape("for LogisticRegression's n_jobs=4, drop it")):
        make_pipeline(StandardScaler(), clf).set_params(softmaxclassifier__n_jobs=4)
    with pytest.raises(TypeError, match=re.escape("write l1_ratios=(1.0,) instead")):
        SoftmaxClassifierCV().set_params(penalty="l1")


def test_other_unknown_keywords_keep_their_usual_errors():
    with pytest.raises(TypeError, match=r"^SoftmaxClassifier.__init__\(\) got an unexpected "
                                        r"keyword argument 'foo'$"):
        SoftmaxClassifier(foo=1)
    with pytest.raises(ValueError, match="Invalid parameter 'foo' for estimator"):
        SoftmaxClassifier().set_params(foo=1)


def test_the_keyword_check_leaves_clone_pickle_and_subclasses_alone():
    X, y = load_iris(return_X_y=True)
    clf = SoftmaxClassifier(C=2.0, max_iter=500).fit(X, y)
    assert clone(clf).get_params() == clf.get_params()
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.coef_, clf.coef_)

    class WithPenalty(SoftmaxClassifier):
        # A subclass may take a keyword of LogisticRegression's as its own.
        def __init__(self, penalty="l2", C=1.0):
            super().__init__(C=C)
            self.penalty = penalty

    sub = WithPenalty(penalty="l1")
    assert clone(sub).penalty == "l1"
    assert sub.set_params(penalty="l2").penalty == "l2"


LR_SOLVERS = {
    "liblinear": 'write solver="lbfgs"; the model is multinomial, not liblinear\'s one-vs-rest, '
                 "and the intercept is not penalized, so coefficients differ from liblinear's.",
    "newton-cholesky": 'write solver="auto": exact Newton with the full Hessian where it is '
                       "cheap (small tables), sub-sampled Newton-CG or L-BFGS elsewhere.",
    "sag": 'write solver="lbfgs" for data in memory, solver="sgd" for streams (partial_fit).',
    "saga": 'write solver="auto" (proximal Newton) or solver="lbfgs" for L1 and elastic net '
            '(exact), solver="sgd" for streams (partial_fit).',
}


@pytest.mark.parametrize("solver", sorted(LR_SOLVERS))
def test_a_logistic_regression_solver_names_ours(solver):
    X, y = load_iris(return_X_y=True)
    message = (f"Got {solver!r} instead. LogisticRegression's solver={solver!r}: "
               f"{LR_SOLVERS[solver]}")
    for estimator in (SoftmaxClassifier(solver=solver), SoftmaxClassifierCV(solver=solver)):
        with pytest.raises(InvalidParameterError, match=re.escape(message)):
            estimator.fit(X, y)


# -- partial_fit ----------------------------------------------------------------------------------
@pytest.mark.parametrize("solver", [name for name, spec in SOLVERS.items() if not spec.stateful])
def test_partial_fit_on_a_solver_without_it_names_sgd(solver):
    X, y = load_iris(return_X_y=True)
    clf = SoftmaxClassifier(solver=solver)
    message = (f"SoftmaxClassifier(solver={solver!r}) has no attribute 'partial_fit': "
               'incremental learning needs solver="sgd", as in '
               'SoftmaxClassifier(solver="sgd").partial_fit(X, y, classes=classes).')
    with pytest.raises(AttributeError, match=f"^{re.escape(message)}$"):
        clf.partial_fit(X, y, classes=[0, 1, 2])
    # scikit-learn's tools ask hasattr: only a solver that learns incrementally has it.
    assert not hasattr(clf, "partial_fit")
    assert hasattr(SoftmaxClassifier(solver="sgd"), "partial_fit")
    assert not hasattr(SoftmaxClassifier(solver="saga"), "partial_fit")


# -- inference ------------------------------------------------------------------------------------
def test_inference_on_a_pipeline_says_how_to_pass_its_last_step():
    X, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), SoftmaxClassifier(C=np.inf, tol=1e-8)).fit(X, y)
    message = ("inference needs a fitted SoftmaxClassifier, got Pipeline. For a pipeline, pass "
               "its last step and X transformed by the steps before it: "
               "inference(pipe[-1], pipe[:-1].transform(X), y).")
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        inference(pipe, X, y)
    # And the advice works (iris is quasi-separated without a penalty: a warning).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = inference(pipe[-1], pipe[:-1].transform(X), y)
    assert result.params.shape == (2, 5)


def test_inference_on_the_cv_estimator_says_to_refit_the_choice():
    message = ("inference needs a fitted SoftmaxClassifier, got SoftmaxClassifierCV. Refit the "
               "chosen model as a SoftmaxClassifier: inference(SoftmaxClassifier(C=cv.C_, "
               "l1_ratio=cv.l1_ratio_).fit(X, y), X, y).")
    X, y = load_iris(return_X_y=True)
    with pytest.raises(TypeError, match=f"^{re.escape(message)}$"):
        inference(SoftmaxClassifierCV(), X, y)


# -- optional dependencies ------------------------------------------------------------------------
@pytest.mark.parametrize("module, extra", [("matplotlib.pyplot", "compare"), ("pandas", "compare"),
                                           ("dask.array", "dask"), ("skl2onnx", "onnx"),
                                           ("skops.io", "onnx")])
def test_the_missing_dependency_error_names_the_extra(module, extra):
    error = missing(module, "this feature")
    assert isinstance(error, ModuleNotFoundError) and error.name == module
    package = module.partition(".")[0]
    assert str(error) == f'this feature requires {package}: pip install "softmax_regression[{extra}]"'


def _forget(monkeypatch, prefix):
    for name in [name for name in sys.modules if name == prefix or name.startswith(prefix + ".")]:
        monkeypatch.delitem(sys.modules, name)


def test_plot_path_without_matplotlib_names_the_extra(monkeypatch):
    X, y = load_iris(return_X_y=True)
    cv = SoftmaxClassifierCV(Cs=2, cv=2, max_iter=300).fit(StandardScaler().fit_transform(X), y)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    message = ('SoftmaxClassifierCV.plot_path() requires matplotlib: '
               'pip install "softmax_regression[compare]"')
    with pytest.raises(ModuleNotFoundError, match=f"^{re.escape(message)}$"):
        cv.plot_path()


def test_the_onnx_module_without_skl2onnx_names_the_extra(monkeypatch):
    _forget(monkeypatch, "softmax_regression.onnx")
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    monkeypatch.setitem(sys.modules, "onnx", None)
    message = 'softmax_regression.onnx requires onnx: pip install "softmax_regression[onnx]"'
    with pytest.raises(ModuleNotFoundError, match=f"^{re.escape(message)}$"):
        import softmax_regression.onnx  # noqa: F401


def test_dask_input_without_dask_array_names_the_extra(monkeypatch):
    da = pytest.importorskip("dask.array")
    X, y = load_iris(return_X_y=True)
    X, y = da.from_array(X, chunks=50), da.from_array(y, chunks=50)
    _forget(monkeypatch, "softmax_regression._dask")
    monkeypatch.setitem(sys.modules, "dask.array", None)
    message = ('Fitting and predicting on dask collections requires dask: '
               'pip install "softmax_regression[dask]"')
    clf = SoftmaxClassifier()
    with pytest.raises(ModuleNotFoundError, match=f"^{re.escape(message)}$"):
        clf.fit(X, y)
    assert not hasattr(clf, "coef_")


# -- the HTML representation ----------------------------------------------------------------------
def test_the_html_repr_has_no_dead_documentation_link():
    # No documentation is published yet: no "?" link rather than a dead one,
    # for the estimator, its parameters and its fitted attributes.
    X, y = load_iris(return_X_y=True)
    for estimator in (SoftmaxClassifier(C=2.0), SoftmaxClassifierCV(Cs=2, cv=2)):
        assert estimator._get_doc_link() == ""
        for html in (estimator._repr_html_(), estimator_html_repr(estimator),
                     estimator_html_repr(clone(estimator).fit(X, y))):
            assert "pypi.org" not in html
            assert "href=" not in html
