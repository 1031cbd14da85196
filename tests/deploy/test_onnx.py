"""ONNX export: onnxruntime gives the estimator's labels and probabilities.

Labels must equal ``predict`` exactly; probabilities equal ``predict_proba``
to 1e-5 in a float32 graph and 1e-10 in a float64 graph (the contract).
"""

import warnings

import numpy as np
import pytest

pytest.importorskip("skl2onnx")
rt = pytest.importorskip("onnxruntime")
pd = pytest.importorskip("pandas")

import scipy.sparse as sp  # noqa: E402
from skl2onnx import to_onnx  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import OneHotEncoder, StandardScaler  # noqa: E402

import softmax_regression.onnx  # noqa: E402, F401  (registers the converters)
from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV  # noqa: E402

TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
DTYPES = [np.float32, np.float64]


def _session(model, X_example, options=None):
    onx = to_onnx(model, X_example, options=options)
    return rt.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


def _run(model, X, dtype, options=None):
    """(labels, probabilities) of the exported model, no ZipMap."""
    options = {type(_final_step(model)): {"zipmap": False, **(options or {})}}
    X = X.astype(dtype)
    session = _session(model, X[:1], options)
    return session.run(None, {session.get_inputs()[0].name: X})


def _final_step(model):
    return model.steps[-1][1] if hasattr(model, "steps") else model


def _fit(model, X, y):
    with warnings.catch_warnings():
        # Agreement with the fitted model is tested, not its convergence.
        warnings.simplefilter("ignore")
        return model.fit(X, y)


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="module")
def breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    # String labels; the features standardized so a model alone fits quickly.
    return StandardScaler().fit_transform(X), np.array(["benign", "malignant"])[y]


def _cases(digits, breast_cancer):
    Xd, yd = digits
    Xb, yb = breast_cancer
    raw_b, _ = load_breast_cancer(return_X_y=True)
    sparse_l1 = _fit(SoftmaxClassifier(l1_ratio=1.0, C=0.05, max_iter=300), Xd, yd).sparsify()
    return {
        "digits multiclass": (_fit(SoftmaxClassifier(max_iter=300), Xd, yd), Xd),
        "breast_cancer string labels": (_fit(SoftmaxClassifier(), Xb, yb), Xb),
        "no intercept multiclass": (_fit(SoftmaxClassifier(fit_intercept=False, max_iter=300),
                                         Xd, yd), Xd),
        "no intercept binary": (_fit(SoftmaxClassifier(fit_intercept=False), Xb, yb), Xb),
        "sparsified L1": (sparse_l1, Xd),
        "StandardScaler pipeline": (
            _fit(make_pipeline(StandardScaler(), SoftmaxClassifier()), raw_b, yb), raw_b),
        "SoftmaxClassifierCV": (_fit(SoftmaxClassifierCV(Cs=3, cv=3), Xd, yd), Xd),
        "sgd partial_fit": (
            SoftmaxClassifier(solver="sgd", random_state=0).partial_fit(Xd, yd, classes=np.arange(10)),
            Xd),
    }


CASES = ["digits multiclass", "breast_cancer string labels", "no intercept multiclass",
         "no intercept binary", "sparsified L1", "StandardScaler pipeline",
         "SoftmaxClassifierCV", "sgd partial_fit"]


@pytest.fixture(scope="module")
def cases(digits, breast_cancer):
    return _cases(digits, breast_cancer)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", CASES)
def test_onnxruntime_agrees_with_the_estimator(cases, case, dtype):
    model, X = cases[case]
    labels, proba = _run(model, X, dtype)
    np.testing.assert_array_equal(labels, model.predict(X))
    assert proba.dtype == dtype
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=TOLERANCE[dtype])


def test_the_cases_are_what_they_claim(cases):
    assert list(cases) == CASES
    assert sp.issparse(cases["sparsified L1"][0].coef_)
    assert np.mean(cases["sparsified L1"][0].coef_.toarray() == 0) > 0.2
    assert cases["breast_cancer string labels"][0].coef_.shape[0] == 1
    assert cases["breast_cancer string labels"][0].classes_.dtype.kind in "OU"
    assert not np.any(cases["no intercept binary"][0].intercept_)
    assert not np.any(cases["no intercept multiclass"][0].intercept_)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_a_column_transformer_pipeline_on_a_data_frame(dtype):
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    frame = X.iloc[:, :8].astype(dtype)
    frame.columns = [c.replace(" ", "_") for c in frame.columns]
    frame["size"] = pd.cut(X["mean area"], 3, labels=["small", "medium", "large"]).astype(str)
    numeric = list(frame.columns[:8])
    model = _fit(make_pipeline(
        ColumnTransformer([("num", StandardScaler(), numeric), ("cat", OneHotEncoder(), ["size"])]),
        SoftmaxClassifier()), frame, y)
    session = _session(model, frame[:1], {SoftmaxClassifier: {"zipmap": False}})
    feeds = {i.name: frame[[i.name]].to_numpy() for i in session.get_inputs()}
    assert len(feeds) == 9
    labels, proba = session.run(None, feeds)
    np.testing.assert_array_equal(labels, model.predict(frame))
    np.testing.assert_allclose(proba, model.predict_proba(frame), rtol=0, atol=TOLERANCE[dtype])


def test_zipmap_lists_one_dict_per_row_as_logistic_regression_does(cases):
    model, X = cases["breast_cancer string labels"]
    X32 = X.astype(np.float32)
    session = _session(model, X32[:1])
    assert [o.name for o in session.get_outputs()] == ["output_label", "output_probability"]
    labels, rows = session.run(None, {session.get_inputs()[0].name: X32})
    np.testing.assert_array_equal(labels, model.predict(X))
    assert all(list(row) == list(model.classes_) for row in rows)
    proba = np.array([[row[c] for c in model.classes_] for row in rows])
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_zipmap_columns_gives_one_output_per_class(digits, dtype):
    X, y = digits
    model = _fit(SoftmaxClassifier(max_iter=300), X, y)
    session = _session(model, X[:1].astype(dtype), {SoftmaxClassifier: {"zipmap": "columns"}})
    assert [o.name for o in session.get_outputs()] == ["output_label"] + [f"i{c}" for c in range(10)]
    labels, *columns = session.run(None, {session.get_inputs()[0].name: X.astype(dtype)})
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(np.column_stack(columns), model.predict_proba(X), rtol=0,
                               atol=TOLERANCE[dtype])


def test_a_float64_graph_with_zipmap_is_refused_with_the_remedy(cases):
    model, X = cases["digits multiclass"]
    with pytest.raises(ValueError, match="zipmap': False"):
        to_onnx(model, X[:1])


def test_nocl_and_output_class_labels(cases):
    model, X = cases["breast_cancer string labels"]
    labels, _ = _run(model, X, np.float64, {"nocl": True})
    np.testing.assert_array_equal(labels, np.searchsorted(model.classes_, model.predict(X)))
    labels, _, classes = _run(model, X, np.float64, {"output_class_labels": True})
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_array_equal(classes, model.classes_)


def test_large_integer_labels_keep_their_value(digits):
    # skl2onnx's own label helper goes through int32; these labels do not fit.
    X, y = digits
    model = _fit(SoftmaxClassifier(max_iter=300), X, y + 10**12)
    labels, _ = _run(model, X, np.float64)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, model.predict(X))


def test_a_float32_model_and_an_integer_input(digits):
    X, y = digits
    model = _fit(SoftmaxClassifier(max_iter=300), X.astype(np.float32), y)
    assert model.coef_.dtype == np.float32
    for dtype in DTYPES:
        labels, proba = _run(model, X, dtype)
        np.testing.assert_array_equal(labels, model.predict(X))
        np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=TOLERANCE[dtype])
    counts = load_digits().data.astype(np.int64)
    model = _fit(SoftmaxClassifier(max_iter=300), counts, y)
    labels, proba = _run(model, counts, np.int64)
    np.testing.assert_array_equal(labels, model.predict(counts))
    np.testing.assert_allclose(proba, model.predict_proba(counts), rtol=0, atol=1e-5)


def test_whole_float_labels_become_integers_and_others_are_refused(cases):
    model, X = cases["no intercept binary"]
    whole = _fit(SoftmaxClassifier(), X, np.where(model.predict(X) == "benign", 1.0, 2.0))
    labels, _ = _run(whole, X, np.float64)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, whole.predict(X))
    # fit calls such labels continuous; a hand-edited model can still carry them.
    whole.classes_ = np.array([0.5, 1.5])
    with pytest.raises(ValueError, match="not integers"):
        _run(whole, X, np.float64)
    labels, _ = _run(whole, X, np.float64, {"nocl": True})
    np.testing.assert_array_equal(labels, np.searchsorted(whole.classes_, whole.predict(X)))


def test_a_subclass_is_converted_once_registered(digits):
    class Subclass(SoftmaxClassifier):
        pass

    X, y = digits
    model = _fit(Subclass(max_iter=300), X, y)
    with pytest.raises(RuntimeError, match="Unable to find a shape calculator"):
        to_onnx(model, X[:1].astype(np.float32))
    softmax_regression.onnx.register_estimator(Subclass)
    labels, proba = _run(model, X, np.float32)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_allclose(proba, model.predict_proba(X), rtol=0, atol=1e-5)
