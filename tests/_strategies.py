"""Hypothesis strategies shared by the property-based tests.

Shapes, dtypes, formats, labels, weights and ``C`` are drawn by hypothesis;
the numbers inside ``X`` come from a numpy generator seeded by a drawn
integer, which keeps example generation fast while staying reproducible
(the tests run with ``derandomize=True``).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from hypothesis import strategies as st

from softmax_regression._solvers import SOLVERS

FORMATS = ("dense", "csr", "csc")
LABEL_KINDS = ("int", "str", "bool", "mixed_order")


@dataclass
class Problem:
    """One drawn classification problem."""

    X: object  # ndarray or scipy sparse array, already in ``dtype``
    y: np.ndarray  # labels of the drawn kind
    y_index: np.ndarray  # 0..n_classes-1, the same classes as ``y``
    labels: np.ndarray  # labels[k] is the label of class index k
    sample_weight: object  # ndarray or None
    C: float
    dtype: object
    fmt: str
    seed: int

    @property
    def n_classes(self):
        return len(self.labels)

    def other_X(self, n_samples, scale=1.0):
        """Fresh rows with the same features, format and dtype."""
        rng = np.random.default_rng(self.seed + 1)
        X = rng.standard_normal((n_samples, self.X.shape[1])) * scale
        return to_format(X.astype(self.dtype), self.fmt)


def to_format(X, fmt):
    if fmt == "dense":
        return X
    return {"csr": sp.csr_array, "csc": sp.csc_array}[fmt](X)


def _label_values(kind, n_classes, rng):
    """Distinct labels of ``kind``, in an order that is in general not sorted."""
    if kind == "bool":
        return np.array([False, True])
    if kind == "int":
        values = rng.choice(np.arange(-50, 50), size=n_classes, replace=False)
        return values.astype(np.int64)
    if kind == "str":
        words = [f"class_{i:03d}" for i in rng.choice(1000, size=n_classes, replace=False)]
        return np.array(words)
    # "mixed_order": object strings whose sorted order is the reverse of the
    # class indices (and not the order of first appearance in y).
    return np.array([f"{chr(ord('z') - i)}" for i in range(n_classes)], dtype=object)


@st.composite
def problems(
    draw,
    *,
    dtypes=(np.float64, np.float32),
    formats=FORMATS,
    label_kinds=LABEL_KINDS,
    min_samples=6,
    max_samples=60,
    max_features=8,
    max_classes=5,
    weights=True,
    Cs=(0.01, 0.1, 1.0, 10.0, 100.0),
):
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    fmt = draw(st.sampled_from(formats))
    kind = draw(st.sampled_from(label_kinds))
    n_classes = 2 if kind == "bool" else draw(st.integers(2, max_classes))
    n_samples = draw(st.integers(max(min_samples, n_classes), max_samples))
    n_features = draw(st.integers(1, max_features))
    scale = draw(st.sampled_from([1e-2, 1.0, 10.0]))

    # Every class present, in shuffled order.
    y_index = np.concatenate(
        [np.arange(n_classes), rng.integers(0, n_classes, n_samples - n_classes)]
    )
    rng.shuffle(y_index)

    # Noise plus a class centre, so that problems are neither pure noise nor
    # (usually) separable.
    centers = rng.standard_normal((n_classes, n_features))
    X = (rng.standard_normal((n_samples, n_features)) + centers[y_index]) * scale
    if fmt != "dense":
        X[rng.random(X.shape) < 0.5] = 0.0
    X = to_format(X.astype(dtype), fmt)

    labels = _label_values(kind, n_classes, rng)
    y = labels[y_index]

    sample_weight = None
    if weights and draw(st.booleans()):
        sample_weight = rng.uniform(0.1, 3.0, size=n_samples)
        # Some zero weights, but every class keeps positive weight.
        zero = rng.random(n_samples) < 0.2
        zero[[np.flatnonzero(y_index == k)[0] for k in range(n_classes)]] = False
        sample_weight[zero] = 0.0

    C = draw(st.sampled_from(Cs))
    return Problem(X, y, y_index, labels, sample_weight, C, dtype, fmt, seed)


# -- solvers -------------------------------------------------------------------------------

ALL_SOLVERS = sorted(SOLVERS)
# The solvers that minimize the objective deterministically down to ``tol``:
# they reach the same optimum whatever the row order and accept only points
# that lower the objective. Minibatch SGD is stochastic (its result depends on
# the order of the rows and its per-epoch objective is noisy), so properties of
# the exact optimum and of the iterates apply to these solvers only.
EXACT_SOLVERS = [name for name in ALL_SOLVERS if name != "sgd"]
