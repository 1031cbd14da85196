"""The loss module alone: derivatives, extreme logits, agreement of entry points."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.special import log_softmax as scipy_log_softmax

from softmax_regression import log_softmax, softmax
from softmax_regression._model.loss import LinearSoftmaxLoss
from softmax_regression._model.referee import objective


def _data(rng, n=40, d=5, n_classes=3, dtype=np.float64, sparse=False):
    X = rng.standard_normal((n, d))
    if sparse:
        X[rng.random((n, d)) < 0.6] = 0.0
        X = sp.csr_array(X)
    y = rng.integers(0, n_classes, size=n)
    y[:n_classes] = np.arange(n_classes)
    w = rng.uniform(0.1, 2.0, size=n)
    return X.astype(dtype), y, w.astype(dtype)


def _reference_loss(coef, X, y, w, n_classes, fit_intercept):
    """Weighted float64 cross-entropy sum from the package's reference objective."""
    coef = np.asarray(coef, dtype=np.float64)
    d = X.shape[1]
    intercept = coef[:, d] if fit_intercept else None
    w = np.asarray(w, dtype=np.float64)
    return objective(X, y, coef[:, :d], intercept, C=np.inf, sample_weight=w) * float(np.sum(w))


CASES = [
    pytest.param(n_classes, fit_intercept, dtype, sparse,
                 id=f"K{n_classes}-icpt{int(fit_intercept)}-{np.dtype(dtype).name}-{'sparse' if sparse else 'dense'}")
    for n_classes in (2, 4)
    for fit_intercept in (True, False)
    for dtype in (np.float64, np.float32)
    for sparse in (False, True)
]


@pytest.mark.parametrize("n_classes, fit_intercept, dtype, sparse", CASES)
def test_loss_matches_definition_and_keeps_dtype(rng, n_classes, fit_intercept, dtype, sparse):
    X, y, w = _data(rng, n_classes=n_classes, dtype=dtype, sparse=sparse)
    loss = LinearSoftmaxLoss(n_classes, fit_intercept)
    coef = rng.standard_normal(loss.coef_shape(X.shape[1])).astype(dtype)
    Y = loss.one_hot(y, dtype)
    value, G = loss.loss_gradient(coef, X, Y, w)
    expected = _reference_loss(coef, X, y, w, n_classes, fit_intercept)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    assert value == pytest.approx(expected, rel=rtol)
    assert G.dtype == dtype and G.shape == coef.shape
    value2, G2, _ = loss.loss_gradient_hessian_product(coef, X, Y, w)
    assert loss.loss(coef, X, Y, w) == pytest.approx(value, rel=rtol)
    assert value2 == pytest.approx(value, rel=rtol)
    np.testing.assert_allclose(G2, G, rtol=rtol)


@pytest.mark.parametrize("n_classes, fit_intercept, dtype, sparse", CASES)
def test_gradient_and_hessian_product_match_finite_differences(
    rng, n_classes, fit_intercept, dtype, sparse
):
    X, y, w = _data(rng, n_classes=n_classes, dtype=dtype, sparse=sparse)
    loss = LinearSoftmaxLoss(n_classes, fit_intercept)
    shape = loss.coef_shape(X.shape[1])
    coef = rng.standard_normal(shape)
    V = rng.standard_normal(shape)
    Y = loss.one_hot(y, dtype)

    # Central differences on the float64 definition for the gradient...
    _, G, hessp = loss.loss_gradient_hessian_product(coef.astype(dtype), X, Y, w)
    eps = 1e-6
    fd_grad = np.zeros(shape)
    for idx in np.ndindex(shape):
        step = np.zeros(shape)
        step[idx] = eps
        fd_grad[idx] = (
            _reference_loss(coef + step, X, y, w, n_classes, fit_intercept)
            - _reference_loss(coef - step, X, y, w, n_classes, fit_intercept)
        ) / (2 * eps)
    rtol, atol = (1e-6, 1e-7) if dtype == np.float64 else (2e-3, 2e-4)
    np.testing.assert_allclose(G, fd_grad, rtol=rtol, atol=atol)

    # ...and on the float64 gradient for the Hessian-vector product.
    loss64 = LinearSoftmaxLoss(n_classes, fit_intercept)
    X64 = X.astype(np.float64)
    Y64, w64 = Y.astype(np.float64), w.astype(np.float64)
    _, G_plus = loss64.loss_gradient(coef + eps * V, X64, Y64, w64)
    _, G_minus = loss64.loss_gradient(coef - eps * V, X64, Y64, w64)
    fd_hv = (G_plus - G_minus) / (2 * eps)
    HV = hessp(V.astype(dtype))
    assert HV.dtype == dtype
    np.testing.assert_allclose(HV, fd_hv, rtol=rtol, atol=atol)


def test_sparse_equals_dense(rng):
    X, y, w = _data(rng, sparse=True, n_classes=3)
    loss = LinearSoftmaxLoss(3, True)
    coef = rng.standard_normal(loss.coef_shape(X.shape[1]))
    Y = loss.one_hot(y, np.float64)
    for fmt in (sp.csr_array, sp.csc_array, sp.csr_matrix):
        v_s, G_s = loss.loss_gradient(coef, fmt(X), Y, w)
        v_d, G_d = loss.loss_gradient(coef, X.toarray(), Y, w)
        assert v_s == pytest.approx(v_d, rel=1e-13)
        np.testing.assert_allclose(G_s, G_d, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_huge_logit_gaps_give_finite_loss_and_gradient(n_classes):
    # A gap of 1e4 between logits: naive exp() overflows, log(p) underflows.
    X = np.array([[1.0], [-1.0], [1.0]])
    y = np.array([0, 1, n_classes - 1])
    loss = LinearSoftmaxLoss(n_classes, fit_intercept=False)
    coef = np.linspace(-1e4, 1e4, loss.n_logits)[:, None] if n_classes > 2 else np.array([[1e4]])
    Y = loss.one_hot(y, np.float64)
    value, G, hessp = loss.loss_gradient_hessian_product(coef, X, Y, np.ones(3))
    assert np.isfinite(value)
    assert np.all(np.isfinite(G))
    assert np.all(np.isfinite(hessp(np.ones_like(coef))))
    # Misclassified by a margin of ~1e4: the loss is that margin, not inf.
    assert value == pytest.approx(_reference_loss(coef, X, y, np.ones(3), n_classes, False))
    assert value > 1e4


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_stable_and_normalized(rng, dtype):
    z = (rng.standard_normal((50, 7)) * 1e4).astype(dtype)
    p = softmax(z, axis=1)
    assert p.dtype == dtype
    assert np.all(np.isfinite(p)) and np.all((p >= 0) & (p <= 1))
    tol = 1e-12 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=tol)
    log_p = log_softmax(z, axis=1)
    assert np.all(np.isfinite(log_p))
    np.testing.assert_allclose(log_p, scipy_log_softmax(z.astype(np.float64), axis=1),
                               rtol=1e-6 if dtype == np.float32 else 1e-12)


def test_softmax_axis_and_integer_input():
    z = np.array([[1, 2], [3, 4], [5, 7]])
    p = softmax(z, axis=0)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p.sum(axis=0), 1.0)
    np.testing.assert_allclose(softmax([0.0, np.log(3.0)]), [0.25, 0.75])
    np.testing.assert_allclose(log_softmax(z, axis=0), np.log(p))


def test_log_softmax_does_not_underflow():
    log_p = log_softmax(np.array([0.0, 800.0]))
    assert log_p[0] == pytest.approx(-800.0)
    assert np.exp(log_p[0]) == 0.0  # the probability itself underflows


def test_binary_model_is_the_logistic_model(rng):
    X, y, w = _data(rng, n_classes=2)
    loss = LinearSoftmaxLoss(2, True)
    coef = rng.standard_normal(loss.coef_shape(X.shape[1]))
    z = X @ coef[0, :-1] + coef[0, -1]
    sign = np.where(y == 1, -1.0, 1.0)
    # log(1 + exp(-y z)) written stably
    expected = np.sum(w * np.logaddexp(0.0, sign * z))
    value, _ = loss.loss_gradient(coef, X, loss.one_hot(y, np.float64), w)
    assert value == pytest.approx(expected, rel=1e-12)


def test_loss_does_not_modify_inputs(rng):
    X, y, w = _data(rng)
    loss = LinearSoftmaxLoss(3, True)
    coef = rng.standard_normal(loss.coef_shape(X.shape[1]))
    Y = loss.one_hot(y, np.float64)
    copies = [a.copy() for a in (X, Y, w, coef)]
    _, _, hessp = loss.loss_gradient_hessian_product(coef, X, Y, w)
    hessp(np.ones_like(coef))
    for before, after in zip(copies, (X, Y, w, coef)):
        np.testing.assert_array_equal(before, after)
