"""Edges of the README's "What happens when..." table, one test per row."""

import threading
import warnings

import numpy as np
import pytest
from _data import blobs, issue_data
from _strategies import ALL_SOLVERS
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier

OVERFLOW = r"^The solver overflowed \(.+\): the features are too large in magnitude .* Standardize"


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_features_of_1e160_give_the_overflow_value_error_for_every_solver(solver):
    X, y = issue_data()
    fitted = SoftmaxClassifier(solver=solver).fit(X, y)
    before = fitted.coef_.copy()
    with pytest.raises(ValueError, match=OVERFLOW):
        fitted.fit(X * 1e160, y)
    np.testing.assert_array_equal(fitted.coef_, before)


def test_partial_fit_on_features_of_1e160_gives_the_overflow_value_error():
    X, y = issue_data()
    model = SoftmaxClassifier(solver="sgd")
    with pytest.raises(ValueError, match=OVERFLOW):
        model.partial_fit(X * 1e160, y, classes=[0, 1, 2])
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("warm", [False, True])
@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_max_iter_zero_returns_the_starting_model_with_a_warning(solver, warm):
    X, y = issue_data()
    model = SoftmaxClassifier(solver=solver, warm_start=warm)
    if warm:
        model.fit(X, y)
    start_coef, start_intercept = (model.coef_.copy(), model.intercept_.copy()) if warm else (
        np.zeros((3, 4)), np.zeros(3))
    model.set_params(max_iter=0)
    with pytest.warns(ConvergenceWarning, match=r"did not converge in max_iter=0 (iterations|epochs)"):
        model.fit(X * 2.0, y)  # not optimal at the start
    assert model.n_iter_.tolist() == [0]
    np.testing.assert_allclose(model.coef_, start_coef, atol=1e-12)
    np.testing.assert_allclose(model.intercept_, start_intercept, atol=1e-12)


def test_partial_fit_with_early_stopping_on_one_row_names_the_rows():
    X, y = issue_data()
    model = SoftmaxClassifier(solver="sgd", early_stopping=True)
    with pytest.raises(ValueError, match=r"early_stopping .* needs at least 2 rows; this call "
                                         r"has 1\. Pass larger batches, or set early_stopping"):
        model.partial_fit(X[:1], y[:1], classes=[0, 1, 2])
    assert not hasattr(model, "coef_")


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("first, second", [(True, False), (False, True)])
def test_sgd_warm_start_after_fit_intercept_changes(first, second):
    X, y = issue_data()
    model = SoftmaxClassifier(solver="sgd", warm_start=True, fit_intercept=first,
                              random_state=0).fit(X, y)
    model.set_params(fit_intercept=second).fit(X, y)
    assert bool(np.any(model.intercept_ != 0)) is second
    reference = SoftmaxClassifier(fit_intercept=second).fit(X, y)
    assert model.score(X, y) >= reference.score(X, y) - 0.05
    # The stream continues after the change too.
    for _ in range(3):
        model.partial_fit(X, y)
    assert np.all(np.isfinite(model.coef_)) and model.coef_.shape == (3, 4)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sgd_warm_start_on_float32_after_float64_is_float32():
    X, y = issue_data()
    model = SoftmaxClassifier(solver="sgd", warm_start=True, random_state=0).fit(X, y)
    model.fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32 and model.intercept_.dtype == np.float32
    assert model.predict_proba(X.astype(np.float32)).dtype == np.float32
    model.partial_fit(X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32


def test_two_threads_fitting_one_estimator_end_with_one_complete_fit():
    # Fits of two different data sets; whichever stores last, every fitted
    # attribute must come from that one fit.
    X_a, y_a = blobs(n_samples=90, n_features=4, n_classes=3, seed=1)
    X_b, y_b = blobs(n_samples=90, n_features=4, n_classes=3, seed=2)
    y_b = np.array(["p", "q", "r"])[y_b]
    complete = {
        "a": SoftmaxClassifier().fit(X_a, y_a),
        "b": SoftmaxClassifier().fit(X_b, y_b),
    }
    for trial in range(60):
        model = SoftmaxClassifier()
        start = threading.Barrier(2)

        def work(X, y, model=model, start=start):
            start.wait()
            model.fit(X, y)

        threads = [threading.Thread(target=work, args=data) for data in ((X_a, y_a), (X_b, y_b))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        winner = complete["a" if model.classes_[0] == 0 else "b"]
        np.testing.assert_array_equal(model.classes_, winner.classes_, err_msg=str(trial))
        np.testing.assert_allclose(model.coef_, winner.coef_, err_msg=str(trial))
        np.testing.assert_allclose(model.intercept_, winner.intercept_, err_msg=str(trial))
