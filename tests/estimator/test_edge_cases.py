"""Edges of the "What happens when..." table (docs/what_happens_when.md), one test per row."""

import threading
import warnings

import numpy as np
import pytest
from _data import blobs, issue_data, objective_gradient
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


# -- weights ------------------------------------------------------------------------------------


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_a_negative_class_weight_is_refused(solver):
    X, y = issue_data()
    with pytest.raises(ValueError, match=r"class_weight must be finite and non-negative; "
                                         r"got \{0: -1\.0\}"):
        SoftmaxClassifier(solver=solver, class_weight={0: -1.0, 1: 1, 2: 1}).fit(X, y)


def test_a_negative_class_weight_is_refused_by_partial_fit():
    X, y = issue_data()
    model = SoftmaxClassifier(solver="sgd", class_weight={0: -1.0, 1: 1, 2: 1})
    with pytest.raises(ValueError, match=r"class_weight must be finite and non-negative"):
        model.partial_fit(X, y, classes=[0, 1, 2])


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_nan_or_inf_in_class_weight_names_class_weight(value):
    X, y = issue_data()
    with pytest.raises(ValueError, match=r"class_weight must be finite and non-negative; "
                                         r"got \{0: (nan|inf)\}"):
        SoftmaxClassifier(class_weight={0: value, 1: 1, 2: 1}).fit(X, y)


def test_a_class_weight_key_that_is_not_a_label_names_it():
    X, y = issue_data()
    with pytest.raises(ValueError, match=r"class_weight has keys that are not classes: \[7\]"):
        SoftmaxClassifier(class_weight={0: 1, 1: 1, 2: 1, 7: 3}).fit(X, y)


def test_balanced_class_weight_with_a_class_of_zero_weight_fits():
    X, y = issue_data()
    sample_weight = np.where(y == 0, 0.0, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way either
        model = SoftmaxClassifier(class_weight="balanced").fit(X, y, sample_weight=sample_weight)
    assert np.all(np.isfinite(model.coef_))
    assert model.predict_proba(X)[:, 0].max() < 0.01
    reference = SoftmaxClassifier().fit(X[y > 0], y[y > 0])
    # Balanced weights of the two classes left are equal: the same model as unweighted.
    np.testing.assert_allclose(model.predict_proba(X)[:, 1:].sum(axis=1), 1.0, atol=0.01)
    np.testing.assert_allclose(model.predict(X[y > 0]), reference.predict(X[y > 0]))


# -- the penalty-dominated regime: the prior model ------------------------------------------------

DOMINATED = {"C=1e-300": (1e-300, 1.0), "C=5e-324": (5e-324, 1.0), "weights 1e-300": (1.0, 1e-300),
             "weights 1e-320": (1.0, 1e-320), "weights 1e-50": (1.0, 1e-50)}


def unequal_data():
    """Unequal classes and weights, so that the weighted class shares are not uniform."""
    X = np.random.default_rng(0).normal(size=(60, 4))
    return X, np.repeat([0, 1, 2], [10, 20, 30]), np.linspace(0.5, 1.5, 60)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("case", sorted(DOMINATED))
def test_a_penalty_dominated_fit_is_the_prior_model(case, solver, dtype):
    C, weight = DOMINATED[case]
    X, y, shape = unequal_data()
    sample_weight = shape * weight
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ConvergenceWarning blaming the features, nothing
        model = SoftmaxClassifier(solver=solver, C=C).fit(X.astype(dtype), y,
                                                          sample_weight=sample_weight)
    relative = sample_weight / sample_weight.max()
    shares = np.bincount(y, weights=relative) / relative.sum()
    assert model.coef_.dtype == dtype and model.n_iter_.tolist() == [0]
    assert np.abs(model.coef_).max() <= 1e-40
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(model.intercept_, np.log(shares) - np.log(shares).mean(),
                               rtol=rtol)
    np.testing.assert_allclose(model.predict_proba(X.astype(dtype)), np.tile(shares, (60, 1)),
                               rtol=rtol)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
@pytest.mark.parametrize("C", [1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 1e-8, 1e-12, 1e-300])
def test_around_the_closed_form_boundary_every_fit_meets_tol(solver, C):
    # The closed form takes over between C=1e-5 (solvers) and 3e-6 (closed
    # form) on these data; on both sides the gradient of the objective,
    # computed independently, is within tol (sgd: where it is closed form).
    X, y, sample_weight = unequal_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxClassifier(solver=solver, C=C).fit(X, y, sample_weight=sample_weight)
    if solver == "sgd" and model.n_iter_[0] > 0:
        assert C >= 1e-5
        return
    G_W, G_b = objective_gradient(model, X, y, sample_weight)
    assert max(np.abs(G_W).max(), np.abs(G_b).max()) <= model.tol
    # The penalty's share of the gradient is not zero: W is the first-order
    # correction, not just zeros.
    assert np.abs(model.coef_).max() > 0


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_weights_near_the_largest_float_fit_like_unit_weights(solver):
    X, y = issue_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        huge = SoftmaxClassifier(solver=solver, C=np.inf, random_state=0).fit(
            X, y, sample_weight=np.full(60, 1e308))
        unit = SoftmaxClassifier(solver=solver, C=np.inf, random_state=0).fit(X, y)
    np.testing.assert_allclose(huge.coef_, unit.coef_, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_the_largest_float_as_C_fits_without_a_runtime_warning(solver):
    X, y = issue_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxClassifier(solver=solver, C=np.finfo(float).max).fit(X, y)
    assert np.all(np.isfinite(model.coef_))


# -- partial_fit's classes -------------------------------------------------------------------------

BAD_CLASSES = {
    "nan": ([0, 1, np.nan], r"classes must not contain missing labels \(None or NaN\)"),
    "None": ([0, 1, None], r"classes must not contain missing labels \(None or NaN\)"),
    "set": ({0, 1, 2}, r"classes must be a list or 1-D array of the labels, got a set"),
    "str": ("abc", r"classes must be a list or 1-D array of the labels, got a str"),
    "dict": ({0: 1, 1: 2, 2: 3}, r"classes must be a list or 1-D array of the labels, got a dict"),
    "2-D": ([[0, 1], [2, 3]], r"classes must be 1-D, got an array of shape \(2, 2\)"),
    "mixed": (["0", "1", 2], r"classes mixes strings and numbers"),
    "one": ([1, 1], r"classes must contain at least 2 classes, got 1: \[1\]"),
    "empty": ([], r"classes must contain at least 2 classes, got 0: \[\]"),
}


@pytest.mark.parametrize("case", sorted(BAD_CLASSES))
def test_partial_fit_refuses_bad_classes_naming_classes(case):
    X, y = issue_data()
    classes, match = BAD_CLASSES[case]
    model = SoftmaxClassifier(solver="sgd")
    with pytest.raises(ValueError, match=match):
        model.partial_fit(X, y, classes=classes)
    assert not hasattr(model, "classes_")


def test_partial_fit_with_string_classes_and_integer_labels_names_the_labels():
    X, y = issue_data()
    with pytest.raises(ValueError, match=r"y contains labels that are not in "
                                         r"classes=\['0', '1', '2'\]: \[0, 1, 2\]"):
        SoftmaxClassifier(solver="sgd").partial_fit(X, y, classes=["0", "1", "2"])


@pytest.mark.parametrize("solver", ALL_SOLVERS)
def test_a_class_with_zero_total_weight_gets_a_very_negative_intercept(solver):
    X, y = issue_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxClassifier(solver=solver).fit(X, y, sample_weight=np.where(y == 0, 0.0, 1.0))
    assert np.all(np.isfinite(model.coef_)) and np.all(np.isfinite(model.intercept_))
    assert model.intercept_[0] < min(model.intercept_[1:]) - 3
    assert model.predict_proba(X)[:, 0].max() < 0.05


def test_balanced_class_weight_with_a_class_of_subnormal_weights_fits():
    # "balanced" gives each class the same total weight, so how small one
    # class's sample weights are cannot matter beyond their share of the
    # total (nil here): subnormal weights give the model of 1e-12.
    X, y = issue_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        subnormal = SoftmaxClassifier(class_weight="balanced").fit(
            X, y, sample_weight=np.where(y == 0, 1e-320, 1.0))
    small = SoftmaxClassifier(class_weight="balanced").fit(
        X, y, sample_weight=np.where(y == 0, 1e-12, 1.0))
    np.testing.assert_allclose(subnormal.coef_, small.coef_, rtol=1e-7, atol=1e-10)
    assert np.abs(subnormal.predict_proba(X).sum(axis=0) / 60 - 1 / 3).max() < 0.05


@pytest.mark.parametrize("class_weight", ["balanced", {0: 1e308, 1: 1e308, 2: 1e308}])
def test_class_weights_with_weights_near_the_largest_float_fit_without_warnings(class_weight):
    X, y = issue_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxClassifier(class_weight=class_weight).fit(
            X, y, sample_weight=np.full(60, 1e308))
    # The total weight overflows to inf: the penalty vanishes, as for C=np.inf.
    unpenalized = SoftmaxClassifier(C=np.inf).fit(X, y)
    np.testing.assert_allclose(model.coef_, unpenalized.coef_, rtol=1e-6, atol=1e-9)
