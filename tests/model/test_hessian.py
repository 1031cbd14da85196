"""The full Hessian and its diagonal against the loss's Hessian-vector products."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from softmax_regression._model.hessian import full_hessian, hessian_diagonal
from softmax_regression._model.loss import LinearSoftmaxLoss


@pytest.mark.parametrize("n_classes", [2, 3, 5])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind", ["dense", "float32", "csr"])
def test_hessian_matches_hessian_products(n_classes, fit_intercept, kind):
    rng = np.random.default_rng(n_classes)
    X = rng.standard_normal((700, 6)) * rng.uniform(0.1, 10, 6)  # unscaled columns
    if kind == "float32":
        X = X.astype(np.float32)
    loss = LinearSoftmaxLoss(n_classes, fit_intercept)
    coef = rng.standard_normal(loss.coef_shape(6)).astype(X.dtype) * 0.3
    Y = loss.one_hot(rng.integers(0, n_classes, 700), X.dtype)
    weight = rng.uniform(0, 2, 700).astype(X.dtype)
    data = sp.csr_array(X) if kind == "csr" else X
    _, _, P = loss.loss_gradient_proba(coef, data, Y, weight)
    H = full_hessian(loss, data, P, weight)
    assert H.dtype == np.float64 and H.shape == (coef.size, coef.size)
    assert_allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())
    rtol = 1e-5 if kind == "float32" else 1e-10
    for _ in range(3):
        V = rng.standard_normal(coef.shape)
        HV = loss.hessian_product(V.astype(X.dtype), data, P, weight)
        assert_allclose(H @ V.ravel(), np.asarray(HV, dtype=np.float64).ravel(),
                        rtol=rtol, atol=rtol * np.abs(H).max())
    assert_allclose(loss.proba(coef, data), P, rtol=1e-12)
    # The diagonal is summed in X's dtype (the full Hessian in float64).
    assert_allclose(hessian_diagonal(loss, data, P, weight), np.diag(H).reshape(coef.shape),
                    rtol=rtol, atol=rtol * 1e-2 * np.abs(H).max())
    # Positive semi-definite (to the rounding of P in X's dtype); singular along
    # a common shift of all logits.
    rounding = 10 * np.finfo(X.dtype).eps * np.abs(H).max()
    assert np.linalg.eigvalsh(H).min() > -rounding
    if n_classes > 2 and fit_intercept:
        shift = np.zeros(coef.shape)
        shift[:, -1] = 1.0
        assert np.abs(H @ shift.ravel()).max() < rounding


def test_hessian_is_formed_in_row_blocks():
    # More rows than one block holds: the sum over blocks is the whole Hessian.
    rng = np.random.default_rng(0)
    loss = LinearSoftmaxLoss(4, True)
    X = rng.standard_normal((30_000, 40))
    coef = rng.standard_normal(loss.coef_shape(40)) * 0.1
    weight = np.full(30_000, 1 / 30_000)
    P = loss.proba(coef, X)
    H = full_hessian(loss, X, P, weight)
    halves = [full_hessian(loss, X[part], P[part], weight[part])
              for part in (slice(0, 15_000), slice(15_000, None))]
    assert_allclose(H, halves[0] + halves[1], rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("n_classes", [2, 4])
def test_hessian_paths_agree(n_classes):
    # Small X with several logits: each row's outer product is kept; medium
    # (or one logit): X is copied once; large: row blocks. All three give the
    # same Hessian.
    from softmax_regression._model.hessian import HessianForm

    rng = np.random.default_rng(1)
    loss = LinearSoftmaxLoss(n_classes, True)
    X = rng.standard_normal((5000, 60))
    coef = rng.standard_normal(loss.coef_shape(60)) * 0.1
    weight = rng.uniform(0, 1, 5000)
    P = loss.proba(coef, X)
    cached = HessianForm(loss, X, weight)
    assert cached.cached is not None and cached.outer is None
    blocked = HessianForm(loss, X, weight)
    blocked.cached = None
    H = cached.at(P)
    assert_allclose(H, blocked.at(P), rtol=1e-12, atol=1e-13 * np.abs(H).max())
    small = HessianForm(loss, X[:300, :8], weight[:300])
    assert (small.outer is not None) == (n_classes > 2)
    coef_small = coef[:, list(range(8)) + [60]]
    P_small = loss.proba(coef_small, X[:300, :8])
    H_small = small.at(P_small)
    small.outer = small.cached = None
    assert_allclose(H_small, small.at(P_small), rtol=1e-12, atol=1e-13 * np.abs(H_small).max())
    V = rng.standard_normal(coef_small.shape)
    HV = loss.hessian_product(V, X[:300, :8], P_small, weight[:300])
    assert_allclose(H_small @ V.ravel(), HV.ravel(), rtol=1e-10, atol=1e-12)
