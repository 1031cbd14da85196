"""The problems of the L1 / elastic-net reference comparison, built reproducibly."""

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.preprocessing import StandardScaler

from softmax_regression._model.referee import objective as reference_objective


def text_like(n_samples=20_000, n_features=5_000, density=0.005, n_classes=5, seed=0):
    """A CSR matrix shaped like tf-idf features, labels from a sparse true model."""
    rng = np.random.default_rng(seed)
    X = sp.random_array((n_samples, n_features), density=density, format="csr", rng=rng,
                        data_sampler=lambda size: rng.lognormal(0.0, 1.0, size))
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1))).ravel()
    X = sp.csr_array(sp.diags_array(1.0 / np.maximum(norms, 1e-12)) @ X)
    true_coef = np.zeros((n_classes, n_features))
    informative = rng.choice(n_features, size=n_features // 10, replace=False)
    true_coef[:, informative] = rng.normal(0.0, 8.0, size=(n_classes, len(informative)))
    logits = X @ true_coef.T + rng.gumbel(size=(n_samples, n_classes))
    return X, np.argmax(logits, axis=1)


def load(name):
    if name == "text_like":
        return text_like()
    loader = {"digits": load_digits, "breast_cancer": load_breast_cancer}[name]
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


PROBLEMS = ["digits", "breast_cancer", "text_like"]
CASES = [(name, C, l1_ratio) for name in PROBLEMS for C in (0.1, 1.0) for l1_ratio in (0.5, 1.0)]


def objective(coef, intercept, X, y, C, l1_ratio):
    """The package's float64 reference objective, divided by n: mean CE + penalty / (C n)."""
    return reference_objective(X, y, coef, intercept, C=C, l1_ratio=l1_ratio)