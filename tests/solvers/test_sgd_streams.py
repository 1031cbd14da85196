"""SGD that converges: repeated passes, class-sorted streams, unscaled data (issue 13)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier, softmax
from softmax_regression._model.referee import estimator_objective


def objective(model, X, y, C=1.0):
    """The estimator's objective divided by n, in float64 (the package's referee)."""
    return estimator_objective(model, X, np.searchsorted(model.classes_, y), C=C,
                               l1_ratio=model.l1_ratio)


def optimum(X, y, C=1.0, tol=1e-9):
    return objective(SoftmaxClassifier(C=C, tol=tol, max_iter=20_000).fit(X, y), X, y, C)


def feed(model, chunks, passes, classes, **kwargs):
    for _ in range(passes):
        for X, y in chunks:
            model.partial_fit(X, y, classes=classes, **kwargs)
    return model


def split(X, y):
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0,
                                                        stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="module")
def digits_split():
    return split(*load_digits(return_X_y=True))


def penguins_data():
    palmerpenguins = pytest.importorskip("palmerpenguins")
    columns = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]
    frame = palmerpenguins.load_penguins().dropna(subset=columns)
    return frame[columns].to_numpy(dtype=float), frame["species"].to_numpy()


def sorted_chunks(X, y, size=50):
    order = np.argsort(y, kind="stable")
    return [(X[order[i:i + size]], y[order[i:i + size]]) for i in range(0, len(y), size)]


# -- repeated passes -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def synthetic():
    """60,000 x 40, 6 overlapping classes, standardized (benchmarks/sgd_streams.py)."""
    rng = np.random.default_rng(0)
    W = rng.standard_normal((6, 40)) * 0.4
    X = rng.standard_normal((60_000, 40)) @ (np.eye(40) + 0.3 * rng.standard_normal((40, 40)))
    X = StandardScaler().fit_transform(X)
    y = (softmax(X @ W.T, axis=1).cumsum(axis=1) > rng.random((60_000, 1))).argmax(axis=1)
    return X, y


@pytest.mark.slow
@pytest.mark.parametrize("passes", [1, 3, 10])
def test_passes_of_partial_fit_end_within_one_percent_of_their_objective(synthetic, passes):
    X, y = synthetic
    chunks = list(zip(np.array_split(X, 10), np.array_split(y, 10)))
    model = feed(SoftmaxClassifier(solver="sgd", random_state=0), chunks, passes, np.arange(6))
    # After k passes the stream aims at fit's objective with k * C.
    # tol=1e-7 puts the reference within ~1e-12 of the optimum's objective.
    best = optimum(X, y, C=passes, tol=1e-7)
    assert best <= objective(model, X, y, C=passes) <= 1.01 * best


def test_ten_passes_over_digits_beat_sgdclassifier_and_approach_lbfgs(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    chunks = list(zip(np.array_split(X_train, 10), np.array_split(y_train, 10)))
    classes = np.arange(10)
    ours = feed(SoftmaxClassifier(solver="sgd", random_state=0), chunks, 10, classes)
    theirs = feed(SGDClassifier(loss="log_loss", random_state=0), chunks, 10, classes)
    lbfgs = SoftmaxClassifier().fit(X_train, y_train)
    accuracy = accuracy_score(y_test, ours.predict(X_test))
    assert accuracy >= accuracy_score(y_test, theirs.predict(X_test))
    assert accuracy >= accuracy_score(y_test, lbfgs.predict(X_test)) - 0.02
    assert log_loss(y_test, ours.predict_proba(X_test)) < log_loss(
        y_test, theirs.predict_proba(X_test))


# -- class-sorted streams ---------------------------------------------------------------------
@pytest.mark.parametrize("data", ["digits", "penguins"])
def test_a_class_sorted_stream_keeps_its_rate_and_beats_sgdclassifier(data, digits_split):
    X_train, X_test, y_train, y_test = (
        digits_split if data == "digits" else split(*penguins_data()))
    chunks = sorted_chunks(X_train, y_train)
    classes = np.unique(y_train)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # the rate must not collapse
        ours = feed(SoftmaxClassifier(solver="sgd", random_state=0), chunks, 20, classes)
    theirs = feed(SGDClassifier(loss="log_loss", random_state=0), chunks, 20, classes)
    assert ours.score(X_test, y_test) >= theirs.score(X_test, y_test)
    # The drift from class to class is no divergence: the rate is untouched.
    assert ours.sgd_state_.learning_rate == ours.eta0


# -- unscaled features --------------------------------------------------------------------------
@pytest.mark.parametrize("load", [load_iris, load_digits], ids=["iris", "digits"])
def test_fit_on_raw_features_reaches_the_optimum_or_says_to_standardize(load):
    X, y = load(return_X_y=True)
    best = optimum(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SoftmaxClassifier(solver="sgd", random_state=0).fit(X, y)
    named = [w for w in caught if w.category is ConvergenceWarning
             and "(StandardScaler)" in str(w.message)]
    assert objective(model, X, y) <= 1.05 * best or named


def test_the_preconditioner_takes_the_steps_of_standardized_data():
    # Without a penalty, SGD with the preconditioner on raw features takes
    # exactly the steps it takes on the standardized features.
    X, y = load_wine(return_X_y=True)
    scaler = StandardScaler().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        raw = SoftmaxClassifier(solver="sgd", C=np.inf, random_state=0, max_iter=5).fit(X, y)
        standardized = SoftmaxClassifier(solver="sgd", C=np.inf, random_state=0,
                                         max_iter=5).fit(scaler.transform(X), y)
    np.testing.assert_allclose(raw.predict_proba(X),
                               standardized.predict_proba(scaler.transform(X)), atol=1e-9)


def test_a_stop_on_the_learning_rate_floor_is_not_convergence():
    from sklearn.datasets import load_breast_cancer

    X, y = load_breast_cancer(return_X_y=True)
    # Without the preconditioner raw breast_cancer diverges until the rate is
    # below 1e-6: a stop, far from the optimum, that used to count as success.
    with pytest.warns(ConvergenceWarning, match=r"stopped after \d+ of max_iter=100 epochs because "
                      r"the learning rate fell below 1e-06 .* far from the optimum: optimality "
                      r".*\. SGD's steps suit standardized features: standardize them "
                      r"\(StandardScaler\), or lower eta0\.$"):
        SoftmaxClassifier(solver="sgd", precondition=False, random_state=0).fit(X, y)


@pytest.mark.parametrize("C", [1e-5, 1e-4])
def test_a_stop_on_the_learning_rate_floor_near_the_optimum_is_convergence(C):
    # Strongly penalized, the epoch objectives stall in their own noise and
    # the rate is halved down to the floor with coefficients within 1-2% of
    # the optimum: no warning (the floor far from it still warns, above).
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxClassifier(solver="sgd", C=C, random_state=0).fit(X, y)
    assert model.sgd_state_.learning_rate < 1e-6 and model.n_iter_[0] < model.max_iter
    best = SoftmaxClassifier(solver="newton-cg", C=C, tol=1e-8).fit(X, y)
    assert np.max(np.abs(model.coef_ - best.coef_)) <= 0.02 * np.max(np.abs(best.coef_))


def test_partial_fit_warns_once_the_rate_has_collapsed_and_shows_it():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = SoftmaxClassifier(solver="sgd", precondition=False, eta0=1.5e-6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model.partial_fit(X, y, classes=[0, 1, 2])
    assert model.sgd_state_.learning_rate == 1.5e-6
    # Features a million times larger make the running objective explode
    # (a call records its objective before its step: the second call shows it).
    with pytest.warns(ConvergenceWarning, match=r"learning rate has collapsed to 7\.5e-07 .*"
                      r"Standardize the features"):
        for _ in range(2):
            model.partial_fit(X * 1e6, y)
    assert model.sgd_state_.learning_rate == 7.5e-07
    assert np.all(np.isfinite(model.predict_proba(X)))


# -- validation data for early stopping in partial_fit ------------------------------------------
def test_partial_fit_scores_the_given_validation_set(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    model = SoftmaxClassifier(solver="sgd", early_stopping=True, random_state=0)
    for X, y in zip(np.array_split(X_train, 4), np.array_split(y_train, 4)):
        model.partial_fit(X, y, classes=np.arange(10), validation_data=(X_test, y_test))
        assert model.validation_scores_[-1] == pytest.approx(model.score(X_test, y_test),
                                                             abs=1e-12)
    assert len(model.validation_scores_) == 4
    assert model.t_ == len(y_train)  # no rows of the calls held out


def test_validation_data_needs_early_stopping():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxClassifier(solver="sgd")
    with pytest.raises(ValueError, match=r"validation_data is scored for early stopping; set "
                                         r"early_stopping=True"):
        model.partial_fit(X, y, classes=[0, 1, 2], validation_data=(X, y))
    assert not hasattr(model, "coef_")


def test_validation_data_with_the_wrong_features_is_refused():
    X, y = load_iris(return_X_y=True)
    model = SoftmaxClassifier(solver="sgd", early_stopping=True)
    with pytest.raises(ValueError, match="X has 3 features, but SoftmaxClassifier is expecting 4"):
        model.partial_fit(X, y, classes=[0, 1, 2], validation_data=(X[:, :3], y))
    assert not hasattr(model, "coef_")


@pytest.mark.parametrize("bad, got", [
    (lambda X, y: X, "an object of type ndarray"),
    (lambda X, y: (X,), "a tuple of length 1"),
    (lambda X, y: (X, y, None, None), "a tuple of length 4"),
    (lambda X, y: {"X": X, "y": y}, "an object of type dict"),
], ids=["array", "1-tuple", "4-tuple", "dict"])
def test_validation_data_must_be_a_tuple_of_two_or_three(bad, got):
    X, y = load_iris(return_X_y=True)
    model = SoftmaxClassifier(solver="sgd", early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match=r"^validation_data must be a tuple \(X_val, y_val\) or "
                       rf"\(X_val, y_val, sample_weight_val\), got {got}\.$"):
        model.partial_fit(X, y, classes=[0, 1, 2], validation_data=bad(X, y))
    assert not hasattr(model, "coef_")


def test_validation_data_takes_sample_weights_third():
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    weights = np.where(y == 2, 5.0, 1.0)
    model = SoftmaxClassifier(solver="sgd", early_stopping=True, random_state=0)
    model.partial_fit(X, y, classes=[0, 1, 2], validation_data=[X, y, weights])
    assert model.validation_scores_[-1] == pytest.approx(
        model.score(X, y, sample_weight=weights), abs=1e-12)
    model.partial_fit(X, y, validation_data=(X, y))
    assert model.validation_scores_[-1] == pytest.approx(model.score(X, y), abs=1e-12)


# -- a stream that learns nothing says so -------------------------------------------------------
@pytest.mark.parametrize("outlier", [None, 1e6])
def test_a_stream_stalled_at_the_class_priors_warns(outlier):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    chunks = [(X[i:i + 100].copy(), y[i:i + 100]) for i in range(0, len(y), 100)]
    if outlier is not None:
        # One row of 1e6 keeps the running variance near 2e8 for good: every
        # step is ~1e-8 of a standardized one and the weights stay at zero.
        chunks[0][0][0, :] = outlier
    model = SoftmaxClassifier(solver="sgd", random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        feed(model, chunks, 3, np.arange(10))
    priors = [w for w in caught if w.category is ConvergenceWarning
              and "no lower than that of predicting the class priors" in str(w.message)]
    majority = np.bincount(y).max() / len(y)
    if outlier is None:
        assert not priors and model.score(X, y) > 0.95
    else:
        # It used to end at 0.101 accuracy (majority class 0.102) silently.
        assert model.score(X, y) <= majority + 0.01
        assert priors and "outlier rows" in str(priors[0].message)
        # Once on entering that state, not on every one of the 54 calls.
        assert len(priors) < 5


# -- early stopping must not hide a useless model -----------------------------------------------
def test_early_stopping_on_a_class_sorted_stream_waits_for_every_class_or_warns():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    chunks = sorted_chunks(X, y, size=20)
    last_class_arrives = next(i for i, (_, labels) in enumerate(chunks) if 2 in labels)
    # Each call's held-out rows are one class: the scores say nothing about
    # the other classes. The stream used to stop after a few calls at 0.33
    # accuracy, silently; now it runs until it has trained on every class,
    # and its stop warns that the best score beat no majority class.
    model = SoftmaxClassifier(solver="sgd", early_stopping=True, random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"early stopping ended this stream at a best "
                      r"validation accuracy of 1, no better than predicting the majority class "
                      r"\(1\) on the validation rows that scored it"):
        feed(model, chunks, 5, np.arange(3))
    assert model.sgd_state_.monitor.stopped
    assert model.n_iter_[0] > last_class_arrives + model.n_iter_no_change
    assert model.score(X, y) > 0.85


def test_early_stopping_with_validation_data_waits_for_every_class(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    chunks = sorted_chunks(X_train, y_train, size=20)
    last_class_arrives = next(i for i, (_, labels) in enumerate(chunks) if 9 in labels)
    model = SoftmaxClassifier(solver="sgd", early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # it beats the majority class
        feed(model, chunks, 2, np.arange(10), validation_data=(X_test, y_test))
    # It used to stop after the first class's chunks, at 0.14 accuracy.
    assert model.sgd_state_.monitor.stopped
    assert model.n_iter_[0] > last_class_arrives + model.n_iter_no_change
    assert model.score(X_test, y_test) > 0.5


def test_an_early_stop_of_fit_far_from_the_optimum_or_at_the_majority_class_warns():
    X, y = load_wine(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"because early stopping kept a validation "
                      r"accuracy of 0\.333, no better than predicting the majority class "
                      r"\(0\.389\) on the validation data: optimality .*\. SGD's steps suit "
                      r"standardized features: standardize them \(StandardScaler\), or lower "
                      r"eta0\.$"):
        model = SoftmaxClassifier(solver="sgd", early_stopping=True, precondition=False,
                                  random_state=0).fit(X, y)
    assert model.score(X, y) < 0.4
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match=r"because the validation accuracy of early "
                      r"stopping stopped improving far from the optimum \(standardized "
                      r"optimality .* > 100 \* tol\): optimality .*\. SGD's steps suit "
                      r"standardized features: standardize them \(StandardScaler\), or lower "
                      r"eta0\.$"):
        SoftmaxClassifier(solver="sgd", early_stopping=True, random_state=0).fit(X, y)


def test_an_early_stop_of_fit_near_the_optimum_is_convergence(digits_split):
    X_train, _, y_train, _ = digits_split
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = SoftmaxClassifier(solver="sgd", early_stopping=True, n_iter_no_change=3,
                                  random_state=0).fit(X_train, y_train)
    assert model.n_iter_[0] < model.max_iter and model.score(X_train, y_train) > 0.95


def test_averaged_stream_resumes_exactly_after_pickling(digits_split):
    import pickle

    X_train, _, y_train, _ = digits_split
    chunks = sorted_chunks(X_train, y_train, size=200)
    model = SoftmaxClassifier(solver="sgd", random_state=0)
    feed(model, chunks[:3], 1, np.arange(10))
    copy = pickle.loads(pickle.dumps(model))
    for X, y in chunks[3:]:
        model.partial_fit(X, y)
        copy.partial_fit(X, y)
    np.testing.assert_array_equal(model.coef_, copy.coef_)
    # The model is the average; the optimizer continues from its own iterate.
    assert not np.array_equal(model.sgd_state_.iterate[:, :-1] - 0, model.coef_)
