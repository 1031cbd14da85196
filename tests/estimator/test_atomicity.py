"""Failure atomicity and untouched inputs.

When ``fit`` (or ``set_params``) fails, for whatever reason, a previously
fitted model keeps exactly its state: the same pickle, the same predictions.
And no method ever writes into the caller's ``X``, ``y`` or ``sample_weight``.
"""

import copy
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import as_kind, blobs
from _strategies import ALL_SOLVERS
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils.validation import check_is_fitted

import softmax_regression._model.loss as loss_module
from softmax_regression import SoftmaxClassifier

pd = pytest.importorskip("pandas")

N_SAMPLES, N_FEATURES, N_CLASSES = 90, 5, 3


def _data(seed=0):
    return blobs(N_SAMPLES, N_FEATURES, N_CLASSES, seed=seed)


class Snapshot:
    """Everything observable about an estimator: its pickle and its predictions."""

    def __init__(self, model, X):
        self.X = X
        self.pickle = pickle.dumps(model)
        self.params = model.get_params(deep=False)
        try:
            check_is_fitted(model)
        except NotFittedError:
            self.predictions = None
        else:
            self.predictions = {
                name: getattr(model, name)(X)
                for name in ("predict", "predict_proba", "decision_function")
            }

    def assert_same(self, model):
        assert model.get_params(deep=False) == self.params
        assert pickle.dumps(model) == self.pickle, "the estimator's state changed"
        if self.predictions is None:
            with pytest.raises(NotFittedError):
                check_is_fitted(model)
            return
        for name, expected in self.predictions.items():
            np.testing.assert_array_equal(getattr(model, name)(self.X), expected, err_msg=name)


@pytest.fixture(params=ALL_SOLVERS)
def solver(request):
    return request.param


@pytest.fixture(params=["dense", "csr", "frame"])
def kind(request):
    return request.param


@pytest.fixture
def fitted(solver, kind):
    X, y = _data()
    Xk = as_kind(X, kind)
    model = SoftmaxClassifier(solver=solver, max_iter=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(Xk, y)
    return model, Xk, y


# -- a failed fit on bad input -------------------------------------------------------------------


def _with_value(X, value):
    X = X.copy()
    X[3, 2] = value
    return X


def _bad(kind, X, y, **kwargs):
    return as_kind(X, kind) if isinstance(X, np.ndarray) and X.ndim == 2 else X, y, kwargs


BAD_INPUTS = {
    "nan in X": lambda k, X, y: _bad(k, _with_value(X, np.nan), y),
    "inf in X": lambda k, X, y: _bad(k, _with_value(X, np.inf), y),
    "one class": lambda k, X, y: _bad(k, X, np.zeros_like(y)),
    "continuous target": lambda k, X, y: _bad(k, X, y + 0.5),
    "mismatched lengths": lambda k, X, y: _bad(k, X, y[:-1]),
    "negative weight": lambda k, X, y: _bad(k, X, y, sample_weight=np.where(y == 0, -1.0, 1.0)),
    "all-zero weights": lambda k, X, y: _bad(k, X, y, sample_weight=np.zeros(len(y))),
    "weights leave one class": lambda k, X, y: _bad(
        k, X, y, sample_weight=(y == 1).astype(float)),
    "nan weight": lambda k, X, y: _bad(k, X, y, sample_weight=np.where(y == 1, np.nan, 1.0)),
    "weights of the wrong length": lambda k, X, y: _bad(k, X, y, sample_weight=np.ones(3)),
    "1-D X": lambda k, X, y: _bad(k, X[:, 0], y),
    "no samples": lambda k, X, y: _bad(k, X[:0], y[:0]),
    "non-numeric X": lambda k, X, y: (
        pd.DataFrame(np.full(X.shape, "a")) if k == "frame" else np.full(X.shape, "a", dtype=object),
        y, {}),
    # validate_data has already reset n_features_in_ (and feature names) when
    # the labels are found to be bad: those must come back too.
    "other features and a continuous target": lambda k, X, y: _bad(k, X[:, :2] * 3, y + 0.5),
    "other features and nan weights": lambda k, X, y: _bad(
        k, X[:, :2] * 3, y, sample_weight=np.full(len(y), np.nan)),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_failed_fit_on_bad_input_keeps_the_fitted_model(fitted, kind, case):
    model, Xk, y = fitted
    snapshot = Snapshot(model, Xk)
    X, _ = _data()
    Xb, yb, kwargs = BAD_INPUTS[case](kind, X, y)
    with pytest.raises(ValueError):
        model.fit(Xb, yb, **kwargs)
    snapshot.assert_same(model)


@pytest.mark.parametrize("case", ["nan in X", "one class", "other features and a continuous target"])
def test_failed_fit_leaves_an_unfitted_model_unfitted(solver, kind, case):
    model = SoftmaxClassifier(solver=solver)
    X, y = _data()
    snapshot = Snapshot(model, as_kind(X, kind))
    Xb, yb, kwargs = BAD_INPUTS[case](kind, X, y)
    with pytest.raises(ValueError):
        model.fit(Xb, yb, **kwargs)
    snapshot.assert_same(model)


# -- a failed fit on bad parameters --------------------------------------------------------------

BAD_PARAMS = [
    pytest.param({"C": -1.0}, ValueError, id="C<0"),
    pytest.param({"C": 0.0}, ValueError, id="C=0"),
    pytest.param({"solver": "no-such-solver"}, ValueError, id="unknown solver"),
    pytest.param({"l1_ratio": 1.5}, ValueError, id="l1_ratio>1"),
    pytest.param({"tol": -1.0}, ValueError, id="tol<0"),
    pytest.param({"max_iter": -1}, ValueError, id="max_iter=-1"),
    pytest.param({"class_weight": "auto"}, ValueError, id="class_weight string"),
    pytest.param({"class_weight": {99: 2.0}}, ValueError, id="class_weight unknown label"),
    pytest.param({"solver": "newton-cg", "l1_ratio": 0.5}, ValueError,
                 id="newton-cg with l1"),
    # With warnings turned into errors, a ConvergenceWarning raised while the
    # fitted attributes are being stored is a failure like any other.
    pytest.param({"max_iter": 1, "tol": 0.0}, ConvergenceWarning, id="ConvergenceWarning as error"),
]


@pytest.mark.parametrize("params, error", BAD_PARAMS)
def test_failed_fit_on_bad_parameters_keeps_the_fitted_model(fitted, params, error):
    model, Xk, y = fitted
    model.set_params(**params)  # not validated until fit
    snapshot = Snapshot(model, Xk)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(error):
            model.fit(Xk, y)
    snapshot.assert_same(model)


# -- a failed set_params -------------------------------------------------------------------------

INVALID_SET_PARAMS = [
    pytest.param({"not_a_parameter": 1}, id="unknown name"),
    pytest.param({"C": 123.0, "not_a_parameter": 1}, id="valid then unknown name"),
    pytest.param({"not_a_parameter": 1, "C": 123.0}, id="unknown then valid name"),
    pytest.param({"tol": 0.5, "max_iter": 7, "nope": 1}, id="two valid then unknown name"),
    pytest.param({"C": 123.0, "C__nested": 1}, id="valid name and a nested name on a float"),
]


@pytest.mark.parametrize("params", INVALID_SET_PARAMS)
@pytest.mark.parametrize("is_fitted", [True, False])
def test_failed_set_params_changes_nothing(params, is_fitted):
    X, y = _data()
    model = SoftmaxClassifier()
    if is_fitted:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
    snapshot = Snapshot(model, X)
    with pytest.raises((ValueError, AttributeError)):
        model.set_params(**params)
    snapshot.assert_same(model)


# -- an interrupted fit --------------------------------------------------------------------------

LOSS_METHODS = ("logits", "loss", "loss_gradient", "loss_gradient_hessian_product")


def _interrupt_loss_at_call(monkeypatch, n_call):
    """Make the n-th call into the loss (any entry point) raise KeyboardInterrupt."""
    calls = {"n": 0}

    def wrap(original):
        def interrupted(self, *args, **kwargs):
            calls["n"] += 1
            if calls["n"] == n_call:
                raise KeyboardInterrupt
            return original(self, *args, **kwargs)

        return interrupted

    for name in LOSS_METHODS:
        original = getattr(loss_module.LinearSoftmaxLoss, name)
        monkeypatch.setattr(loss_module.LinearSoftmaxLoss, name, wrap(original))
    return calls


# The last call is late in the fit: exact Newton makes about 11 calls here.
@pytest.mark.parametrize("n_call", [1, 2, 5, 10])
@pytest.mark.parametrize("warm_start", [False, True])
@pytest.mark.parametrize("same_shape", [True, False])
def test_interrupted_fit_keeps_the_fitted_model(fitted, monkeypatch, n_call, warm_start,
                                                same_shape):
    model, Xk, y = fitted
    model.set_params(warm_start=warm_start, tol=1e-12, max_iter=1000)
    snapshot = Snapshot(model, Xk)
    X2, y2 = _data(seed=1)
    if not same_shape:
        X2, y2 = X2[:60, :4] * 2, y2[:60] % 2
    calls = _interrupt_loss_at_call(monkeypatch, n_call)
    with pytest.raises(KeyboardInterrupt):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X2, y2)
    assert calls["n"] == n_call
    monkeypatch.undo()
    snapshot.assert_same(model)


@pytest.mark.parametrize("n_call", [1, 3])
def test_interrupted_first_fit_leaves_the_model_unfitted(solver, monkeypatch, n_call):
    model = SoftmaxClassifier(solver=solver, tol=1e-12, max_iter=1000)
    X, y = _data()
    snapshot = Snapshot(model, X)
    _interrupt_loss_at_call(monkeypatch, n_call)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y)
    monkeypatch.undo()
    snapshot.assert_same(model)


@pytest.mark.parametrize("n_call", [1, 3])
def test_interrupted_partial_fit_keeps_the_model(monkeypatch, n_call):
    solvers = [s for s in ALL_SOLVERS if hasattr(SoftmaxClassifier(solver=s), "partial_fit")]
    if not solvers:
        pytest.skip("no solver offers partial_fit")
    X, y = _data()
    for solver in solvers:
        model = SoftmaxClassifier(solver=solver)
        if "batch_size" in model.get_params():
            model.set_params(batch_size=16)  # several loss calls per pass
        model.partial_fit(X, y, classes=np.unique(y))
        snapshot = Snapshot(model, X)
        _interrupt_loss_at_call(monkeypatch, n_call)
        with pytest.raises(KeyboardInterrupt):
            model.partial_fit(X[::-1], y[::-1])
        monkeypatch.undo()
        snapshot.assert_same(model)


# -- inputs are never modified -------------------------------------------------------------------


def _unsorted_csr_with_duplicates(X, rng):
    """A valid CSR array whose rows hold unsorted and duplicated column indices."""
    X = np.where(rng.random(X.shape) < 0.4, 0.0, X)
    data, indices, indptr = [], [], [0]
    for row in X:
        cols = np.flatnonzero(row)
        vals = row[cols]
        if len(cols):
            # Split the first entry in two halves at the end of the row: a duplicate.
            cols = np.append(cols, cols[0])
            vals = np.append(vals, vals[0] / 2)
            vals[0] /= 2
        order = rng.permutation(len(cols))
        data.extend(vals[order])
        indices.extend(cols[order])
        indptr.append(len(indices))
    Xs = sp.csr_array((np.array(data), np.array(indices, dtype=np.int32), np.array(indptr)),
                      shape=X.shape)
    assert not Xs.has_canonical_format
    return Xs


def _inputs(kind, rng):
    X, y = _data()
    if kind == "dense float64":
        return X, y, rng.uniform(0.5, 2.0, len(y))
    if kind == "dense float32 F-ordered":
        return np.asfortranarray(X, dtype=np.float32), y.astype(np.int32), \
            rng.uniform(0.5, 2.0, len(y)).astype(np.float32)
    if kind == "dense read-only":
        X = X.copy()
        X.setflags(write=False)
        sw = rng.uniform(0.5, 2.0, len(y))
        sw.setflags(write=False)
        return X, y, sw
    if kind == "dense int":
        return np.round(X * 10).astype(np.int64), y, rng.integers(1, 3, len(y))
    if kind == "csr unsorted duplicates":
        return _unsorted_csr_with_duplicates(X, rng), np.array(["a", "b", "c"])[y], \
            rng.uniform(0.5, 2.0, len(y))
    if kind == "csc matrix":
        return sp.csc_matrix(np.where(rng.random(X.shape) < 0.5, 0.0, X)), y, None
    if kind == "frame":
        frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
        frame["f0"] = frame["f0"].astype(np.float32)
        frame["f1"] = np.arange(len(frame)) % 4  # an integer column
        return frame, pd.Series(np.array(["x", "y", "z"])[y], name="label"), \
            pd.Series(rng.uniform(0.5, 2.0, len(y)))
    if kind == "list":
        return X.tolist(), y.tolist(), rng.uniform(0.5, 2.0, len(y)).tolist()
    raise AssertionError(kind)


INPUT_KINDS = ["dense float64", "dense float32 F-ordered", "dense read-only", "dense int",
               "csr unsorted duplicates", "csc matrix", "frame", "list"]


def _freeze(obj):
    """A deep, independent record of an input, to compare with afterwards."""
    if obj is None:
        return None
    if sp.issparse(obj):
        return ("sparse", type(obj), obj.format, obj.shape, obj.dtype, obj.data.copy(),
                obj.indices.copy(), obj.indptr.copy())
    if isinstance(obj, np.ndarray):
        return ("ndarray", obj.copy(order="K"), obj.dtype, obj.shape,
                obj.flags.c_contiguous, obj.flags.f_contiguous, obj.flags.writeable)
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return ("pandas", obj.copy(deep=True))
    return ("other", copy.deepcopy(obj))


def _assert_unchanged(frozen, obj, name):
    if frozen is None:
        assert obj is None
        return
    tag = frozen[0]
    if tag == "sparse":
        _, typ, fmt, shape, dtype, data, indices, indptr = frozen
        assert (type(obj), obj.format, obj.shape, obj.dtype) == (typ, fmt, shape, dtype), name
        np.testing.assert_array_equal(obj.data, data, err_msg=f"{name}.data")
        np.testing.assert_array_equal(obj.indices, indices, err_msg=f"{name}.indices")
        np.testing.assert_array_equal(obj.indptr, indptr, err_msg=f"{name}.indptr")
    elif tag == "ndarray":
        _, values, dtype, shape, c, f, w = frozen
        assert (obj.dtype, obj.shape) == (dtype, shape), name
        assert (obj.flags.c_contiguous, obj.flags.f_contiguous, obj.flags.writeable) == (c, f, w), name
        np.testing.assert_array_equal(obj, values, err_msg=name)
    elif tag == "pandas":
        expected = frozen[1]
        if isinstance(expected, pd.DataFrame):
            pd.testing.assert_frame_equal(obj, expected, check_exact=True)
        else:
            pd.testing.assert_series_equal(obj, expected, check_exact=True)
    else:
        assert obj == frozen[1], name


@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_no_method_modifies_its_inputs(solver, kind, class_weight):
    rng = np.random.default_rng(0)
    X, y, sw = _inputs(kind, rng)
    frozen = [_freeze(v) for v in (X, y, sw)]

    def check(step):
        for f, v, name in zip(frozen, (X, y, sw), ("X", "y", "sample_weight")):
            _assert_unchanged(f, v, f"{name} after {step}")

    model = SoftmaxClassifier(solver=solver, class_weight=class_weight, max_iter=50)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=sw)
        check("fit")
        model.set_params(warm_start=True).fit(X, y, sample_weight=sw)
        check("a warm-started fit")
        if hasattr(model, "partial_fit") and class_weight is None:
            model.partial_fit(X, y, sample_weight=sw)
            check("partial_fit")
    for method in ("predict", "predict_proba", "predict_log_proba", "decision_function"):
        getattr(model, method)(X)
        check(method)
    model.score(X, y, sample_weight=sw)
    check("score")
