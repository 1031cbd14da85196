"""Minibatch SGD and partial_fit: the same objective, reached by a stream."""

import pickle
import warnings

import numpy as np
import pytest
from _data import blobs, objective_gradient
import scipy.sparse as sp
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier, softmax
from softmax_regression._model.referee import estimator_objective


def objective(model, X, y, C=1.0):
    """The estimator's objective divided by n, in float64 (the package's referee)."""
    return estimator_objective(model, X, np.searchsorted(model.classes_, y), C=C,
                               l1_ratio=model.l1_ratio)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def digits_optimum(digits):
    X, y = digits
    return objective(SoftmaxClassifier(tol=1e-9, max_iter=5000).fit(X, y), X, y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_sgd_reaches_the_optimum_on_digits(digits, digits_optimum, seed):
    X, y = digits
    model = SoftmaxClassifier(solver="sgd", random_state=seed).fit(X, y)
    reached = objective(model, X, y)
    assert digits_optimum <= reached <= 1.01 * digits_optimum, (reached, digits_optimum)


def test_default_sgd_reaches_the_optimum_on_a_large_problem():
    X, y = make_classification(n_samples=100_000, n_features=50, n_informative=30, n_classes=10,
                               n_clusters_per_class=1, random_state=0)
    X = StandardScaler().fit_transform(X)
    optimum = objective(SoftmaxClassifier(tol=1e-8, max_iter=2000).fit(X, y), X, y)
    model = SoftmaxClassifier(solver="sgd", random_state=0).fit(X, y)
    reached = objective(model, X, y)
    assert optimum <= reached <= 1.01 * optimum, (reached, optimum)


# -- streaming ---------------------------------------------------------------
N_FEATURES, N_CLASSES = 30, 5
TRUE_COEF = np.random.default_rng(0).standard_normal((N_CLASSES, N_FEATURES)) * 0.6


def draw(seed, n):
    """Samples of a known multinomial model (not separable)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES))
    P = softmax(X @ TRUE_COEF.T, axis=1)
    y = (P.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return X, y


def stream(n_chunks=20, chunk_size=5_000):
    for i in range(n_chunks):
        yield draw(100 + i, chunk_size)


def test_streaming_partial_fit_matches_lbfgs_and_beats_one_vs_rest():
    classes = np.arange(N_CLASSES)
    model = SoftmaxClassifier(solver="sgd", random_state=0)
    ovr = SGDClassifier(loss="log_loss", alpha=1.0 / 100_000, random_state=0)
    seen = 0
    for X, y in stream():
        model.partial_fit(X, y, classes=classes)
        ovr.partial_fit(X, y, classes=classes)
        seen += len(y)
    assert seen == 100_000 and model.t_ == seen and model.n_iter_[0] == 20
    chunks = list(stream())
    reference = SoftmaxClassifier().fit(np.vstack([c[0] for c in chunks]),
                                        np.concatenate([c[1] for c in chunks]))
    X_test, y_test = draw(7, 20_000)
    accuracy = accuracy_score(y_test, model.predict(X_test))
    assert abs(accuracy - accuracy_score(y_test, reference.predict(X_test))) <= 0.01
    assert log_loss(y_test, model.predict_proba(X_test)) < log_loss(
        y_test, ovr.predict_proba(X_test))


def test_it_is_multinomial_not_one_vs_rest():
    X, y = draw(1, 3_000)
    X, y = X[y < 3], y[y < 3]
    model = SoftmaxClassifier(solver="sgd", random_state=0).fit(X, y)
    scores = model.decision_function(X)
    np.testing.assert_allclose(model.predict_proba(X), softmax(scores, axis=1), rtol=1e-12)
    sigmoid = 1.0 / (1.0 + np.exp(-scores))
    ovr = sigmoid / sigmoid.sum(axis=1, keepdims=True)
    assert np.max(np.abs(model.predict_proba(X) - ovr)) > 0.05


# -- determinism and state -------------------------------------------------------
def test_same_random_state_gives_bit_identical_coefficients(digits):
    X, y = digits
    a = SoftmaxClassifier(solver="sgd", random_state=3, max_iter=5).fit(X, y)
    b = SoftmaxClassifier(solver="sgd", random_state=3, max_iter=5).fit(X, y)
    c = SoftmaxClassifier(solver="sgd", random_state=4, max_iter=5).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    assert not np.array_equal(a.coef_, c.coef_)


def test_partial_fit_continues_exactly_from_its_state():
    chunks = list(stream(n_chunks=4, chunk_size=2_000))
    model = SoftmaxClassifier(solver="sgd", random_state=0)
    for X, y in chunks[:2]:
        model.partial_fit(X, y, classes=np.arange(N_CLASSES))
    copy = pickle.loads(pickle.dumps(model))
    for X, y in chunks[2:]:
        model.partial_fit(X, y)
        copy.partial_fit(X, y)
    assert np.array_equal(model.coef_, copy.coef_)
    assert model.sgd_state_.optimizer.step == copy.sgd_state_.optimizer.step == 4 * 8
    # A fresh stream with the same seed repeats the whole sequence.
    again = SoftmaxClassifier(solver="sgd", random_state=0)
    for X, y in chunks:
        again.partial_fit(X, y, classes=np.arange(N_CLASSES))
    assert np.array_equal(again.coef_, model.coef_)


def test_warm_started_fit_continues_the_optimizer(digits):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        once = SoftmaxClassifier(solver="sgd", random_state=0, max_iter=6).fit(X, y)
        twice = SoftmaxClassifier(solver="sgd", random_state=0, max_iter=3, warm_start=True)
        twice.fit(X, y)
        twice.fit(X, y)
    assert twice.sgd_state_.optimizer.step == once.sgd_state_.optimizer.step
    np.testing.assert_allclose(twice.coef_, once.coef_, rtol=0, atol=1e-12)
    assert twice.t_ == once.t_ == 6 * len(y)


def test_partial_fit_after_fit_continues(digits):
    X, y = digits
    model = SoftmaxClassifier(solver="sgd", random_state=0).fit(X, y)
    steps = model.sgd_state_.optimizer.step
    before = objective(model, X, y)
    model.partial_fit(X, y)
    assert model.sgd_state_.optimizer.step == steps + 8
    assert objective(model, X, y) <= before * 1.01


# -- partial_fit contract ----------------------------------------------------------
def test_partial_fit_needs_classes_first():
    X, y = draw(0, 100)
    with pytest.raises(ValueError, match="classes must be passed"):
        SoftmaxClassifier(solver="sgd").partial_fit(X, y)


def test_partial_fit_rejects_unknown_labels_and_changed_classes():
    X, y = draw(0, 200)
    model = SoftmaxClassifier(solver="sgd").partial_fit(X, y, classes=np.arange(N_CLASSES))
    coef = model.coef_.copy()
    with pytest.raises(ValueError, match=r"not in classes.*\[7\]"):
        model.partial_fit(X, np.where(y == 0, 7, y))
    with pytest.raises(ValueError, match="differs from the classes"):
        model.partial_fit(X, y, classes=np.arange(3))
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :-1], y)
    np.testing.assert_array_equal(model.coef_, coef)


def test_partial_fit_accepts_a_chunk_with_one_class():
    X, y = draw(0, 300)
    model = SoftmaxClassifier(solver="sgd").partial_fit(X, y, classes=np.arange(N_CLASSES))
    model.partial_fit(X[y == 2], y[y == 2])
    assert model.predict_proba(X).shape == (300, N_CLASSES)


def test_partial_fit_with_string_labels_and_weights():
    X, y = draw(0, 300)
    labels = np.array(["a", "b", "c", "d", "e"])[y]
    model = SoftmaxClassifier(solver="sgd", random_state=0, class_weight={"a": 2.0})
    model.partial_fit(X, labels, classes=list("edcba"), sample_weight=np.ones(300))
    np.testing.assert_array_equal(model.classes_, list("abcde"))
    assert set(model.predict(X)) <= set("abcde")
    with pytest.raises(ValueError, match="balanced"):
        SoftmaxClassifier(solver="sgd", class_weight="balanced").partial_fit(
            X, labels, classes=list("abcde"))


def test_partial_fit_exists_only_for_sgd():
    assert hasattr(SoftmaxClassifier(solver="sgd"), "partial_fit")
    assert not hasattr(SoftmaxClassifier(solver="lbfgs"), "partial_fit")


def test_partial_fit_penalty_uses_weight_seen_so_far():
    X, y = draw(0, 400)
    model = SoftmaxClassifier(solver="sgd").partial_fit(X[:100], y[:100], classes=np.arange(5))
    assert model.sgd_state_.weight_seen == 100
    model.partial_fit(X[100:], y[100:], sample_weight=np.full(300, 2.0))
    assert model.sgd_state_.weight_seen == 700


# -- stopping ------------------------------------------------------------------------
def test_fitted_attributes_per_epoch(digits):
    X, y = digits
    model = SoftmaxClassifier(solver="sgd", random_state=0).fit(X, y)
    n_epochs = model.n_iter_[0]
    assert len(model.loss_curve_) == n_epochs and model.t_ == n_epochs * len(y)
    assert model.validation_scores_ is None
    assert model.loss_curve_[-1] < model.loss_curve_[0]


def test_max_iter_reached_warns(digits):
    X, y = digits
    with pytest.warns(ConvergenceWarning, match="max_iter=2 epochs"):
        SoftmaxClassifier(solver="sgd", max_iter=2).fit(X, y)


def test_early_stopping_in_fit_keeps_the_best_model(digits):
    X, y = digits
    model = SoftmaxClassifier(solver="sgd", early_stopping=True, random_state=0,
                              n_iter_no_change=3).fit(X, y)
    scores = model.validation_scores_
    assert len(scores) == model.n_iter_[0] < 100
    assert model.t_ == model.n_iter_[0] * (len(y) - int(np.ceil(0.1 * len(y))))
    assert model.score(X, y) > 0.95


def test_early_stopping_with_partial_fit_stops_the_stream():
    model = SoftmaxClassifier(solver="sgd", early_stopping=True, n_iter_no_change=2,
                              learning_rate="constant", random_state=0, tol=0.5)
    calls = 0
    for X, y in stream(n_chunks=10, chunk_size=1_000):
        model.partial_fit(X, y, classes=np.arange(N_CLASSES))
        calls += 1
        if model.sgd_state_.monitor.stopped:
            break
    # tol=0.5 is unreachable: the first call sets the best score, two more stall.
    assert calls == 3 and len(model.validation_scores_) == 3
    frozen = model.coef_.copy()
    model.partial_fit(*draw(50, 1_000))
    np.testing.assert_array_equal(model.coef_, frozen)
    assert model.n_iter_[0] == 3


@pytest.mark.parametrize("learning_rate", ["constant", "invscaling", "adaptive"])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_every_schedule_learns(digits, learning_rate, momentum):
    X, y = digits
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SoftmaxClassifier(solver="sgd", learning_rate=learning_rate, momentum=momentum,
                                  random_state=0, max_iter=30).fit(X, y)
    assert model.score(X, y) > 0.9


def test_sparse_and_float32_input():
    X, y = make_classification(n_samples=600, n_features=20, n_informative=8, n_classes=3,
                               random_state=0)
    X[np.abs(X) < 0.8] = 0.0
    dense = SoftmaxClassifier(solver="sgd", random_state=0, max_iter=20)
    sparse = SoftmaxClassifier(solver="sgd", random_state=0, max_iter=20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        dense.fit(X, y)
        sparse.fit(sp.csc_array(X), y)
        single = SoftmaxClassifier(solver="sgd", random_state=0, max_iter=20).fit(
            X.astype(np.float32), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, rtol=1e-9, atol=1e-10)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, dense.coef_, atol=1e-3)


# -- features beyond the range of the preconditioner's moments -----------------------
OVERFLOW = (r"^The solver overflowed \(the second moment of feature\(s\) \[0, 1, 2, 3\] "
            r".*Standardize")


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e160), (np.float32, 1e20),
                                          (np.float32, 1e30)])
@pytest.mark.parametrize("constant", [False, True], ids=["spread", "constant"])
def test_partial_fit_on_features_beyond_the_moments_range_raises_and_keeps_the_stream(
        dtype, scale, constant):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype(dtype)
    y = np.repeat([0, 1, 2], 20)
    model = SoftmaxClassifier(solver="sgd", random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    before = pickle.dumps(model)
    # Rows of ~scale make the running variance (spread) or the squared
    # difference of the means (constant rows) overflow: the rate would be
    # halved and every later step would leave the weights where they are.
    big = np.full_like(X, scale) if constant else X * dtype(scale)
    with pytest.raises(ValueError, match=OVERFLOW):
        model.partial_fit(big, y)
    assert pickle.dumps(model) == before
    # The stream goes on as if the call had not happened.
    coef = model.coef_.copy()
    model.partial_fit(X, y)
    assert not np.array_equal(model.coef_, coef)
    assert model.sgd_state_.learning_rate == model.eta0
    assert np.all(np.isfinite(model.sgd_state_.moments.variance))


@pytest.mark.parametrize("eta0, power_t", [(0.5, 0.5), (0.2, 0.25)])
def test_invscaling_steps_by_eta0_over_the_step_count_to_power_t(eta0, power_t):
    # One update per call (one batch), no momentum, no preconditioner, no
    # average, no penalty: each call moves the model by -rate * gradient,
    # and the rate of the t-th update is eta0 / (1 + t) ** power_t.
    X, y = blobs(n_samples=90, n_features=3, n_classes=3, spread=2.0)
    model = SoftmaxClassifier(solver="sgd", C=np.inf, learning_rate="invscaling", eta0=eta0,
                              power_t=power_t, momentum=0.0, batch_size=1000,
                              precondition=False, average=False, random_state=0)
    model.partial_fit(X, y, classes=[0, 1, 2])
    for t in range(1, 6):
        before = np.concatenate([model.coef_.ravel(), model.intercept_])
        G_W, G_b = objective_gradient(model, X, y)
        gradient = np.concatenate([G_W.ravel(), G_b])
        model.partial_fit(X, y)
        step = np.concatenate([model.coef_.ravel(), model.intercept_]) - before
        np.testing.assert_allclose(step, -eta0 / (1 + t) ** power_t * gradient, rtol=1e-9,
                                   atol=1e-15)
