"""ConvergenceWarning advice follows the stop's reason (max_iter, the limit of floating-point
precision, a failed line search, SGD's own rules), said once."""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV
from softmax_regression._fitting.store import convergence_message
from softmax_regression._solvers import SOLVERS, SolverResult
from softmax_regression._solvers._trace import ADVICE


def _messages(fit):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit()
    return [str(w.message) for w in caught if w.category is ConvergenceWarning]


def test_max_iter_reached_advises_more_iterations():
    X, y = load_iris(return_X_y=True)
    [message] = _messages(lambda: SoftmaxClassifier(solver="lbfgs", max_iter=3).fit(X, y))
    assert re.fullmatch(
        r"SoftmaxClassifier\(solver='lbfgs'\) did not converge in max_iter=3 iterations: "
        r"optimality \S+ > tol=0\.0001\. " + re.escape(ADVICE["max_iter"]), message), message
    assert ADVICE["max_iter"] == ("Increase max_iter, or loosen tol; standardized features "
                                  "(StandardScaler) often need fewer iterations.")


@pytest.mark.parametrize("solver", ["auto", "newton-cg", "lbfgs"])
def test_a_stop_at_the_precision_limit_advises_a_larger_tol_not_max_iter(solver):
    # The case: a stop at the precision limit after 11-49 of 10,000
    # iterations used to say "Increase max_iter".
    X, y = make_classification(n_samples=200, n_features=6, n_informative=4, n_classes=3,
                               random_state=0)
    [message] = _messages(lambda: SoftmaxClassifier(solver=solver, tol=1e-18,
                                                    max_iter=10_000).fit(X, y))
    assert re.fullmatch(
        rf"SoftmaxClassifier\(solver='{solver}'\) stopped after \d\d? of max_iter=10000 "
        r"iterations because the objective no longer decreases at the limit of floating-point "
        r"precision: optimality \S+ > tol=1e-18\. tol is below what the data's floating-point "
        r"precision allows: use a larger tol\.", message), message
    assert "max_iter," not in message and "Increase" not in message


def test_at_the_precision_limit_of_float32_the_advice_names_float64():
    X, y = load_iris(return_X_y=True)
    [message] = _messages(lambda: SoftmaxClassifier(tol=1e-13, max_iter=10_000).fit(
        X.astype(np.float32), y))
    assert message.endswith("tol is below what the data's floating-point precision allows: "
                            "use a larger tol, or float64 X (float32 carries 7 digits).")


def test_a_failed_line_search_advises_scaling():
    result = SolverResult(coef=None, n_iter=4, converged=False, optimality=0.5,
                          message="the line search found no step that decreases the objective",
                          stop="line search")
    message = convergence_message(SoftmaxClassifier(solver="lbfgs"), SOLVERS["lbfgs"], result)
    assert message == (
        "SoftmaxClassifier(solver='lbfgs') stopped after 4 of max_iter=100 iterations because "
        "the line search found no step that decreases the objective: optimality 0.5 > "
        "tol=0.0001. The features may be badly scaled: standardize them (StandardScaler).")


def test_every_advice_is_said_once():
    X, y = load_iris(return_X_y=True)
    fits = [
        lambda: SoftmaxClassifier(solver="lbfgs", max_iter=2).fit(X, y),
        lambda: SoftmaxClassifier(solver="sgd", max_iter=2, random_state=0).fit(X, y),
        lambda: SoftmaxClassifier(tol=1e-18, max_iter=10_000).fit(X, y),
        lambda: SoftmaxClassifierCV(Cs=3, cv=2, max_iter=2).fit(X, y),
    ]
    for fit in fits:
        for message in _messages(fit):
            said = [advice for advice in ADVICE.values() if advice[:-1] in message]
            assert len(said) == 1, message
            assert message.count(said[0][:-1]) == 1, message
            assert message.lower().count("standardiz") <= 1, message


def test_the_cv_path_warning_gives_the_advice_of_its_stops():
    X, y = load_iris(return_X_y=True)
    messages = _messages(lambda: SoftmaxClassifierCV(Cs=3, cv=2, max_iter=2).fit(X, y))
    path = [m for m in messages if "fits of the cross-validation paths" in m]
    assert len(path) == 1
    assert path[0].endswith("Their scores may be off. " + ADVICE["max_iter"])
