"""Memory: no copy of X, no float64 copy of float32 X, no densified sparse X.

Peaks are measured with :mod:`tracemalloc`, to which numpy reports its array
allocations. ``X`` is allocated before tracing starts, so a measured peak is
what ``fit`` (or a prediction) allocates on top of the caller's data.

The budget for one fit, in bytes, is

    6 * n * L * itemsize  +  8 * n * 8  +  1 MiB

with ``L`` the number of free logits (``K``, or 1 for a binary problem):

- six ``(n, L)`` arrays in X's dtype: the one-hot targets ``Y`` kept for the
  whole fit, and in one loss evaluation the logits ``Z``, their shifted copy
  fed to ``exp``, the probabilities ``P`` and the residual ``R``; Newton-CG
  also keeps ``P`` and ``R`` of its outer iteration while a Hessian product
  forms ``dZ``/``dR``. The implementation needs about 4 (L-BFGS) to 5
  (Newton-CG) of them, so 6 leaves one spare;
- eight length-``n`` vectors of at most 8 bytes: the validated labels and
  their integer codes, the sample weights and their normalized copy, the row
  maxima and log-normalizers of the softmax, and two spares;
- 1 MiB for everything of the size of the coefficients and for Python.

A copy of X is much larger than that budget in every test here (``d`` is large
next to ``K``), so any copy of X, float64 or not, fails these tests.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from _data import traced_peak
from _strategies import ALL_SOLVERS
from sklearn.exceptions import ConvergenceWarning

from softmax_regression import SoftmaxClassifier

MiB = 2**20
SPARSE_CLASSES = (sp.csr_array, sp.csc_array, sp.csr_matrix, sp.csc_matrix)


def budget(n_samples, n_classes, itemsize):
    n_logits = 1 if n_classes == 2 else n_classes
    return 6 * n_samples * n_logits * itemsize + 8 * n_samples * 8 + MiB


def _model(solver):
    # The peak is reached in the first iterations; a few are enough.
    return SoftmaxClassifier(solver=solver, max_iter=3)


def _fit(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return model


@pytest.fixture(autouse=True)
def _warm_up(solver):
    """One small fit first, so that one-time imports and caches are not measured."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 4))
    y = np.arange(300) % 3
    for dtype in (np.float64, np.float32):
        _fit(_model(solver), X.astype(dtype), y).predict_proba(X.astype(dtype))
        _fit(_model(solver), sp.csr_array(X), y).predict_proba(sp.csc_array(X))


@pytest.fixture(params=ALL_SOLVERS)
def solver(request):
    return request.param


def _blobs(n_samples, n_features, n_classes, dtype, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    X = rng.standard_normal((n_classes, n_features))[y]
    X += rng.standard_normal((n_samples, n_features))
    return X.astype(dtype, copy=False), y


# -- float32 is never copied to float64 ----------------------------------------------------------


def test_float32_fit_allocates_no_float64_copy_of_X(solver):
    n, d, K = 200_000, 50, 3
    X, y = _blobs(n, d, K, np.float32)
    model = _model(solver)
    peak = traced_peak(lambda: _fit(model, X, y))
    assert model.coef_.dtype == np.float32
    # A float64 copy of X alone would be 2 * X.nbytes; even a float32 copy
    # would reach X.nbytes.
    assert peak < X.nbytes, f"fit allocated {peak / MiB:.1f} MiB for X of {X.nbytes / MiB:.1f} MiB"
    assert peak < budget(n, K, 4), f"{peak / MiB:.1f} MiB > budget {budget(n, K, 4) / MiB:.1f} MiB"


def test_float32_predictions_allocate_no_float64_copy_of_X(solver):
    n, d, K = 200_000, 50, 3
    X, y = _blobs(n, d, K, np.float32)
    model = _fit(_model(solver), X[:2000], y[:2000])
    for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
        peak = traced_peak(lambda: getattr(model, method)(X))
        # The output and a few (n, K) temporaries, nowhere near a copy of X.
        assert peak < X.nbytes / 4, f"{method} allocated {peak / MiB:.1f} MiB"


# -- dense float64: X plus a few (n, K) arrays ---------------------------------------------------


@pytest.mark.parametrize("n_classes", [2, 4])
def test_dense_float64_fit_peak_is_X_plus_a_few_n_by_K_arrays(solver, n_classes):
    n, d = 100_000, 100
    X, y = _blobs(n, d, n_classes, np.float64)
    peak = traced_peak(lambda: _fit(_model(solver), X, y))
    allowed = budget(n, n_classes, 8)
    assert allowed < X.nbytes / 2  # so that a copy of X cannot hide in the budget
    assert peak < allowed, (
        f"fit allocated {peak / MiB:.1f} MiB on top of X ({X.nbytes / MiB:.1f} MiB); "
        f"budget {allowed / MiB:.1f} MiB"
    )


# -- sparse X is never densified -----------------------------------------------------------------


@pytest.fixture
def sparse_data():
    rng = np.random.default_rng(0)
    n, d, K = 20_000, 2_000, 3
    X = sp.random_array((n, d), density=0.002, format="csr", rng=rng)
    y = np.arange(n) % K
    return X, y


def _refuse_densifying(monkeypatch):
    def refuse(self, *args, **kwargs):
        raise AssertionError(f"a {type(self).__name__} was densified")

    for cls in SPARSE_CLASSES:
        monkeypatch.setattr(cls, "toarray", refuse)
        monkeypatch.setattr(cls, "todense", refuse)


@pytest.mark.parametrize("fmt", SPARSE_CLASSES, ids=lambda c: c.__name__)
def test_sparse_input_is_never_densified(solver, sparse_data, monkeypatch, fmt):
    X, y = sparse_data
    X = fmt(X[:2000])
    y = y[:2000]
    _refuse_densifying(monkeypatch)
    model = _fit(_model(solver), X, y)
    for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
        getattr(model, method)(X)
    model.score(X, y)
    model.set_params(warm_start=True)
    _fit(model, X, y)


@pytest.mark.parametrize("fmt", [sp.csr_array, sp.csc_array], ids=lambda c: c.__name__)
def test_sparse_fit_peak_is_far_below_the_dense_size(solver, sparse_data, fmt):
    X, y = sparse_data
    X = fmt(X)
    n, d = X.shape
    dense_bytes = n * d * 8
    sparse_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    # One converted copy of the sparse structure (say CSC -> CSR) is allowed.
    allowed = budget(n, 3, 8) + 2 * sparse_bytes
    assert allowed < dense_bytes / 20
    peak = traced_peak(lambda: _fit(_model(solver), X, y))
    assert peak < allowed, f"fit allocated {peak / MiB:.1f} MiB; budget {allowed / MiB:.1f} MiB"
    model = _fit(_model(solver), X, y)
    peak = traced_peak(lambda: model.predict_proba(X))
    assert peak < 4 * n * 3 * 8 + MiB, f"predict_proba allocated {peak / MiB:.1f} MiB"
