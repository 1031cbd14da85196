"""Safe persistence with skops: every fitted estimator round-trips, trusting only ours."""

import warnings

import numpy as np
import pytest

sio = pytest.importorskip("skops.io")
pd = pytest.importorskip("pandas")

import scipy.sparse as sp  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402

from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV  # noqa: E402


def _fit(model, X, y, **kwargs):
    with warnings.catch_warnings():
        # What is stored is tested, not whether the fit converged.
        warnings.simplefilter("ignore")
        return model.fit(X, y, **kwargs)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600]


def _fitted(name, X, y):
    """Every kind of fitted state the package produces."""
    classes = np.unique(y)
    binary = np.where(y < 5, "low", "high")
    frame = pd.DataFrame(X, columns=[f"pixel{j}" for j in range(X.shape[1])])
    builders = {
        "lbfgs": lambda: _fit(SoftmaxClassifier(max_iter=200), X, y),
        "newton-cg": lambda: _fit(SoftmaxClassifier(solver="newton-cg"), X, y),
        "lbfgs elastic net, class weights": lambda: _fit(
            SoftmaxClassifier(l1_ratio=0.5, class_weight={0: 2.0}), X, y),
        "sparsified L1": lambda: _fit(SoftmaxClassifier(l1_ratio=1.0, C=0.05), X, y).sparsify(),
        "binary string labels, no intercept": lambda: _fit(
            SoftmaxClassifier(fit_intercept=False), X, binary),
        "float32": lambda: _fit(SoftmaxClassifier(), X.astype(np.float32), y),
        "data frame": lambda: _fit(SoftmaxClassifier(), frame, y),
        "sgd fit": lambda: _fit(SoftmaxClassifier(solver="sgd", max_iter=3, random_state=0), X, y),
        "sgd early stopping": lambda: _fit(
            SoftmaxClassifier(solver="sgd", max_iter=3, early_stopping=True, random_state=0), X, y),
        "sgd partial_fit": lambda: SoftmaxClassifier(solver="sgd", random_state=0).partial_fit(
            X, y, classes=classes),
        "cv": lambda: _fit(SoftmaxClassifierCV(Cs=3, cv=3), X, y),
        "cv no refit": lambda: _fit(
            SoftmaxClassifierCV(Cs=2, l1_ratios=(0.0, 0.5), cv=3, refit=False), X, y),
    }
    model = builders[name]()
    return model, (frame if name == "data frame" else X)


FITTED = ["lbfgs", "newton-cg", "lbfgs elastic net, class weights", "sparsified L1",
          "binary string labels, no intercept", "float32", "data frame", "sgd fit",
          "sgd early stopping", "sgd partial_fit", "cv", "cv no refit"]


def _round_trip(model):
    data = sio.dumps(model)
    untrusted = sio.get_untrusted_types(data=data)
    return sio.loads(data, trusted=untrusted), untrusted


def _type_name(obj):
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _same(a, b):
    if sp.issparse(a):
        return sp.issparse(b) and type(a) is type(b) and _same(a.toarray(), b.toarray())
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and (a == b or (a != a and b != b))


@pytest.mark.parametrize("name", FITTED)
def test_a_loaded_model_predicts_identically_and_trusts_only_the_package(digits, name):
    model, X = _fitted(name, *digits)
    loaded, untrusted = _round_trip(model)
    assert untrusted, "skops asks to trust the estimator's class"
    assert _type_name(model) in untrusted
    # skops trusts no scipy sparse type by default, for LogisticRegression's
    # sparsify() either: a sparsified coef_ adds exactly its own type.
    foreign = {_type_name(model.coef_)} if sp.issparse(model.coef_) else set()
    assert {t for t in untrusted if not t.startswith("softmax_regression.")} == foreign
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    fitted = sorted(k for k in vars(model) if k.endswith("_") and not k.startswith("_"))
    assert fitted == sorted(k for k in vars(loaded) if k.endswith("_") and not k.startswith("_"))
    # The SGD state is compared by the resumed streams below.
    assert [k for k in fitted if k != "sgd_state_" and not _same(getattr(model, k), getattr(loaded, k))] == []
    assert loaded.get_params() == model.get_params()


def test_the_comparison_sees_a_difference(digits):
    model, X = _fitted("lbfgs", *digits)
    loaded, _ = _round_trip(model)
    loaded.coef_[0, 0] = np.nextafter(loaded.coef_[0, 0], np.inf)
    assert not _same(model.coef_, loaded.coef_)
    assert not _same([1.0, 2.0], [1.0, 2.5])
    assert not _same(np.zeros(2, np.float32), np.zeros(2))


def test_nothing_is_loaded_without_trusting_the_package(digits):
    model, _ = _fitted("sgd partial_fit", *digits)
    data = sio.dumps(model)
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.loads(data)


SGD_SETTINGS = [
    {},
    {"early_stopping": True},
    {"l1_ratio": 0.5, "learning_rate": "invscaling"},
    {"momentum": 0.0, "shuffle": False, "average": False, "precondition": False},
]


@pytest.mark.parametrize("settings", SGD_SETTINGS, ids=lambda s: ",".join(s) or "defaults")
def test_a_partial_fit_stream_resumes_bit_identically_after_a_round_trip(digits, settings):
    X, y = digits
    batches = np.array_split(np.arange(len(y)), 4)
    classes = np.unique(y)

    def stream(model, parts):
        for rows in parts:
            model.partial_fit(X[rows], y[rows], classes=classes)
        return model

    uninterrupted = stream(SoftmaxClassifier(solver="sgd", random_state=0, **settings), batches)
    resumed = stream(SoftmaxClassifier(solver="sgd", random_state=0, **settings), batches[:2])
    resumed, _ = _round_trip(resumed)
    resumed = stream(resumed, batches[2:])
    assert resumed.t_ == uninterrupted.t_ > 0
    for name in ("coef_", "intercept_", "loss_curve_", "n_iter_"):
        assert _same(getattr(resumed, name), getattr(uninterrupted, name)), name
    assert _states_equal(resumed.sgd_state_, uninterrupted.sgd_state_)


def _states_equal(a, b):
    """Field by field, arrays included (a dataclass's ``==`` is ambiguous on arrays)."""
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(
            _states_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if isinstance(a, np.random.RandomState):
        return _same(list(a.get_state()), list(b.get_state()))
    return _same(a, b)


def test_callbacks_are_not_part_of_the_model_once_removed(digits):
    # The deployment page's advice: set_callbacks() with no argument before saving.
    callback = pytest.importorskip("sklearn.callback")
    X, y = digits
    model = _fit(SoftmaxClassifier().set_callbacks(callback.ScoringMonitor(scoring="accuracy")), X, y)
    assert [t for t in sio.get_untrusted_types(data=sio.dumps(model))
            if not t.startswith("softmax_regression.")]
    loaded, untrusted = _round_trip(model.set_callbacks())
    assert untrusted == [_type_name(model)]
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
