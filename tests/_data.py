"""Data builders and measurements shared by the tests."""

import gc
import tracemalloc

import numpy as np
import scipy.sparse as sp


def blobs(n_samples=80, n_features=5, n_classes=3, seed=0, spread=1.0):
    """Gaussian classes around random centers, labels ``0..n_classes-1`` in turn."""
    rng = np.random.default_rng(seed)
    y = np.arange(n_samples) % n_classes
    centers = rng.standard_normal((n_classes, n_features)) * 2
    X = centers[y] + spread * rng.standard_normal((n_samples, n_features))
    return X, y


def issue_data():
    """Standard normal features, three classes of 20 rows sorted by class."""
    X = np.random.default_rng(0).normal(size=(60, 4))
    return X, np.repeat([0, 1, 2], 20)


def as_kind(X, kind):
    """``X`` as a dense array, CSR/CSC matrix or pandas frame."""
    if kind == "dense":
        return X
    if kind == "csr":
        return sp.csr_array(X)
    if kind == "csc":
        return sp.csc_array(X)
    if kind == "frame":
        import pandas as pd

        return pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])])
    raise ValueError(f"unknown kind {kind!r}")


def traced_peak(function):
    """Bytes allocated at the peak of ``function()``, above what existed before."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        function()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - before


def objective_gradient(model, X, y, sample_weight=None):
    """The gradient of a fitted L2 model's objective divided by the total weight.

    Computed here from ``coef_`` and ``intercept_`` in float64, independently
    of the package's loss: ``(W, b)`` blocks of the weighted mean of
    ``(P - Y) [x, 1]`` plus ``W / (C * total weight)``. Binary models use
    the one-logit parametrization (softmax over ``[0, z]``), as the estimator.
    """
    X = np.asarray(X, dtype=np.float64)
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, np.float64)
    scale = w.max()
    w = w / scale
    W = np.asarray(model.coef_, dtype=np.float64)
    b = np.asarray(model.intercept_, dtype=np.float64)
    index = np.searchsorted(model.classes_, y)
    Z = X @ W.T + b
    if W.shape[0] == 1:
        P = 1 / (1 + np.exp(-Z))
        R = P - (index == 1)[:, None]
    else:
        Z = Z - Z.max(axis=1, keepdims=True)
        P = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
        R = P - (index[:, None] == np.arange(W.shape[0]))
    R = R * (w / w.sum())[:, None]
    strength = 0.0 if model.C == np.inf else 1 / (model.C * scale * w.sum())
    return R.T @ X + strength * W, R.sum(axis=0)
