"""Array API: the estimator on array-api-strict, PyTorch (CPU, CUDA) and CuPy arrays."""

import inspect

import numpy as np
import pytest
from sklearn import config_context
from sklearn.datasets import load_iris, load_wine
from sklearn.preprocessing import StandardScaler
from sklearn.utils._array_api import _convert_to_numpy
from sklearn.utils.estimator_checks import check_array_api_input

from softmax_regression import SoftmaxClassifier
from softmax_regression._fitting.prepare import prepare
from softmax_regression._solvers import SOLVERS

SOLVER_NAMES = sorted(SOLVERS)


def _namespaces():
    """(namespace, device) pairs available here; GPU ones only with a GPU."""
    pairs = []
    try:
        import array_api_strict  # noqa: F401

        pairs.append(("array_api_strict", None))
    except ImportError:
        pass
    try:
        import torch

        pairs.append(("torch", "cpu"))
        if torch.cuda.is_available():
            pairs.append(("torch", "cuda"))
    except ImportError:
        pass
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            pairs.append(("cupy", None))
    except Exception:  # cupy missing, or no usable GPU
        pass
    return pairs


def _module(name):
    return pytest.importorskip(name)


NAMESPACES = _namespaces()


@pytest.mark.parametrize("solver", SOLVER_NAMES)
@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
@pytest.mark.parametrize("namespace, device", NAMESPACES)
def test_sklearn_array_api_check(solver, dtype_name, namespace, device):
    # Value checks compare with NumPy at float32 precision; SGD amplifies
    # float32 rounding differences between libraries over its epochs, so its
    # values are compared in float64 only.
    check_values = not (SOLVERS[solver].stateful and dtype_name == "float32")
    # scikit-learn 1.9 renamed `device` to `device_name`; 1.7 has no sample
    # weight check.
    accepted = inspect.signature(check_array_api_input).parameters
    options = {"device_name" if "device_name" in accepted else "device": device}
    if "check_sample_weight" in accepted:
        options["check_sample_weight"] = True
    check_array_api_input(
        "SoftmaxClassifier", SoftmaxClassifier(solver=solver, random_state=0), namespace,
        dtype_name=dtype_name, check_values=check_values, **options,
    )


@pytest.fixture(scope="module")
def wine():
    X, y = load_wine(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("params", [
    # newton-cg to its optimum: its iterates before it depend on where rounding
    # stops each inner solve, which differs between the two arithmetic paths.
    {"solver": "lbfgs"}, {"solver": "newton-cg", "tol": 1e-10}, {"solver": "auto"},
    {"solver": "lbfgs", "l1_ratio": 0.5},
    {"solver": "sgd", "random_state": 0}, {"solver": "sgd", "l1_ratio": 1.0, "random_state": 0},
    {"solver": "lbfgs", "class_weight": "balanced"},
])
def test_array_api_strict_equals_numpy(wine, params):
    xp = _module("array_api_strict")
    X, y = wine
    sample_weight = np.linspace(0.5, 1.5, len(y))
    reference = SoftmaxClassifier(**params).fit(X, y, sample_weight=sample_weight)
    with config_context(array_api_dispatch=True):
        model = SoftmaxClassifier(**params).fit(
            xp.asarray(X), xp.asarray(y), sample_weight=xp.asarray(sample_weight))
        proba = model.predict_proba(xp.asarray(X))
        predicted = model.predict(xp.asarray(X))
    strict_array = type(xp.asarray(0.0))
    for value in (model.coef_, model.intercept_, proba, predicted):
        assert isinstance(value, strict_array)
    np.testing.assert_allclose(_convert_to_numpy(model.coef_, xp), reference.coef_,
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(_convert_to_numpy(model.intercept_, xp), reference.intercept_,
                               rtol=0, atol=1e-10)
    np.testing.assert_allclose(_convert_to_numpy(proba, xp), reference.predict_proba(X),
                               rtol=0, atol=1e-10)
    np.testing.assert_array_equal(_convert_to_numpy(predicted, xp), reference.predict(X))
    assert reference.n_iter_[0] == int(model.n_iter_[0])


def test_partial_fit_on_array_api_strict():
    xp = _module("array_api_strict")
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    reference = SoftmaxClassifier(solver="sgd", random_state=0)
    with config_context(array_api_dispatch=True):
        model = SoftmaxClassifier(solver="sgd", random_state=0)
        for rows in np.array_split(np.random.default_rng(0).permutation(150), 3):
            reference.partial_fit(X[rows], y[rows], classes=[0, 1, 2])
            model.partial_fit(xp.asarray(X[rows]), xp.asarray(y[rows]), classes=[0, 1, 2])
    np.testing.assert_allclose(_convert_to_numpy(model.coef_, xp), reference.coef_,
                               rtol=0, atol=1e-10)



def test_soft_targets_and_offsets_on_array_api_strict(wine):
    # Soft targets, their weights and an offset are formed on the host and
    # moved to X's namespace: in X's precision, not in its dtype object.
    xp = _module("array_api_strict")
    X, y = wine
    rng = np.random.default_rng(0)
    targets = 0.8 * np.eye(3)[y] + 0.2 * rng.dirichlet(np.ones(3), len(y))
    offset = 0.1 * rng.standard_normal((len(y), 3))
    reference = SoftmaxClassifier(solver="lbfgs").fit(X, targets, offset=offset)
    with config_context(array_api_dispatch=True):
        model = SoftmaxClassifier(solver="lbfgs").fit(
            xp.asarray(X), xp.asarray(targets), offset=xp.asarray(offset))
    assert isinstance(model.coef_, type(xp.asarray(0.0)))
    np.testing.assert_allclose(_convert_to_numpy(model.coef_, xp), reference.coef_,
                               rtol=0, atol=1e-10)

@pytest.mark.parametrize("solver", SOLVER_NAMES)
def test_torch_tensors_stay_on_their_device(wine, solver):
    torch = _module("torch")
    X, y = wine
    device = "cuda" if torch.cuda.is_available() else "cpu"
    X_t = torch.asarray(X, dtype=torch.float32, device=device)
    y_t = torch.asarray(y, device=device)
    with config_context(array_api_dispatch=True):
        model = SoftmaxClassifier(solver=solver, random_state=0).fit(X_t, y_t)
        proba = model.predict_proba(X_t)
    for value in (model.coef_, model.intercept_, model.classes_, proba):
        assert isinstance(value, torch.Tensor) and value.device.type == device
    assert model.coef_.dtype == torch.float32
    reference = SoftmaxClassifier(solver=solver, random_state=0).fit(X.astype(np.float32), y)
    np.testing.assert_allclose(proba.cpu().numpy(), reference.predict_proba(X), atol=2e-3)


def test_the_float32_phase_of_lbfgs_runs_on_array_api_strict(capsys):
    # 10 x 41 coefficients on 1,500 rows: "auto" takes L-BFGS, starting in
    # float32 on any namespace. The two namespaces round float32 differently,
    # so their coefficients agree to the tolerance, not to rounding; each
    # stops where its float64 data meet tol.
    xp = _module("array_api_strict")
    rng = np.random.default_rng(0)
    y = np.arange(1500) % 10
    X = 2 * rng.standard_normal((10, 40))[y] + 3 * rng.standard_normal((1500, 40))
    reference = SoftmaxClassifier().fit(X, y)
    with config_context(array_api_dispatch=True):
        model = SoftmaxClassifier(verbose=1).fit(xp.asarray(X), xp.asarray(y))
    assert "float64 from iteration" in capsys.readouterr().out
    coef = _convert_to_numpy(model.coef_, xp)
    assert coef.dtype == np.float64
    problem = prepare(SoftmaxClassifier(), X, y).problem
    full = np.column_stack([coef, _convert_to_numpy(model.intercept_, xp)])
    _, G = problem.smooth_value_gradient(full)
    assert problem.optimality(full, G) <= model.tol
    np.testing.assert_allclose(coef, reference.coef_, rtol=0,
                               atol=1e-2 * np.abs(reference.coef_).max())
    agree = _convert_to_numpy(model.predict(xp.asarray(X)), xp) == reference.predict(X)
    assert agree.mean() > 0.99
