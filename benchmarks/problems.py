"""The one problem list every benchmarked library runs on.

Each problem is a multiclass classification task with a held-out test split.
The synthetic ones are drawn from a multinomial logistic model with fixed
seeds: ``y = argmax(X W_true^T + b_true + Gumbel noise)`` samples exactly from
``softmax(X W_true^T + b_true)``, so the classes overlap (no separable data)
and the accuracy is set by the scale of ``W_true``: held-out accuracy at C=1
is about 0.63-0.79 on the full-size synthetic problems. Dense features are
correlated through a few shared latent factors and then standardized; the
sparse problem imitates tf-idf text features (Zipf-distributed term
frequencies, l2-normalized rows).

``problems(quick=False)`` returns the full list, ``problems(quick=True)`` the
same problems at tiny sizes. Data are generated lazily and cached per dtype.
"""

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

TEST_FRACTION = 0.2


@dataclass
class Problem:
    """A named problem; ``data(dtype)`` gives ``(X_train, y_train, X_test, y_test)``.

    ``y`` holds class indices ``0..n_classes-1``. ``dtypes`` lists the
    dtypes the problem is benchmarked in (sparse problems in float64 only).
    """

    name: str
    description: str
    make: object  # () -> (X_train, y_train, X_test, y_test), float64
    sparse: bool = False
    dtypes: tuple = ("float64", "float32")
    _cache: dict = field(default_factory=dict, repr=False)

    def data(self, dtype="float64"):
        dtype = np.dtype(dtype).name
        if dtype not in self._cache:
            if "float64" not in self._cache:
                X_tr, y_tr, X_te, y_te = self.make()
                if np.unique(y_tr).size != int(y_tr.max()) + 1:
                    raise ValueError(f"{self.name}: a class has no training sample.")
                self._cache["float64"] = (X_tr, y_tr, X_te, y_te)
            X_tr, y_tr, X_te, y_te = self._cache["float64"]
            self._cache[dtype] = (X_tr.astype(dtype), y_tr, X_te.astype(dtype), y_te)
        return self._cache[dtype]

    def release(self):
        """Drop the cached arrays (the big problems hold hundreds of MB)."""
        self._cache.clear()

    @property
    def shape(self):
        X_tr, _, _, _ = self.data("float64")
        return X_tr.shape

    @property
    def n_classes(self):
        _, y_tr, _, _ = self.data("float64")
        return int(y_tr.max()) + 1


# -- generators ---------------------------------------------------------------
def _sample_labels(logits, b, rng):
    """One draw from ``softmax(logits + b)`` per row, by the Gumbel-max trick.

    The logits are centered per class first, so that ``b`` alone sets the
    class frequencies (no class left without samples).
    """
    logits = logits - logits.mean(axis=0) + b
    return np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)


def _split(X, y, n_train):
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def make_dense(n_samples, n_features, n_classes, *, signal, n_factors=5, seed=0):
    """Correlated Gaussian features, standardized; labels from a softmax model.

    ``n_samples`` training rows plus ``TEST_FRACTION * n_samples`` test rows
    from the same model. ``signal`` scales ``W_true`` (larger: more accurate).
    """
    rng = np.random.default_rng(seed)
    n_total = n_samples + int(np.ceil(TEST_FRACTION * n_samples))
    loadings = 0.5 * rng.standard_normal((n_factors, n_features))
    X = rng.standard_normal((n_total, n_features))
    X += rng.standard_normal((n_total, n_factors)) @ loadings
    X -= X[:n_samples].mean(axis=0)
    X /= X[:n_samples].std(axis=0)
    W = rng.standard_normal((n_classes, n_features)) * (signal / np.sqrt(n_features))
    b = rng.standard_normal(n_classes) * 0.5
    y = _sample_labels(X @ W.T, b, rng)
    return _split(X, y, n_samples)


def make_sparse_text(n_samples, n_features, n_classes, *, density, signal, seed=0):
    """tf-idf-like CSR matrix: Zipf term frequencies, l2-normalized rows.

    Each class has its own indicative terms among the 1% most frequent ones
    (a sparse ``W_true``); the many rare terms carry no signal, so a weakly
    regularized fit overfits them, as in topic classification.
    """
    rng = np.random.default_rng(seed)
    n_total = n_samples + int(np.ceil(TEST_FRACTION * n_samples))
    nnz = int(density * n_total * n_features)
    popularity = 1.0 / (np.arange(n_features) + 10.0) ** 1.1
    popularity /= popularity.sum()
    rank_to_column = rng.permutation(n_features)
    columns = rank_to_column[rng.choice(n_features, size=nnz, p=popularity)]
    rows = rng.integers(0, n_total, size=nnz)
    counts = sp.coo_matrix(
        (np.ones(nnz), (rows, columns)), shape=(n_total, n_features)
    ).tocsr()
    counts.sum_duplicates()
    X = TfidfTransformer(sublinear_tf=True).fit(counts[:n_samples]).transform(counts)
    X = sp.csr_matrix(X, dtype=np.float64)
    # Indicative terms: half of the 1% most frequent terms, per class.
    n_vocab = max(n_features // 100, 1)
    W = np.zeros((n_classes, n_features))
    W[:, rank_to_column[:n_vocab]] = rng.standard_normal((n_classes, n_vocab)) * (
        signal * (rng.random((n_classes, n_vocab)) < 0.5)
    )
    b = rng.standard_normal(n_classes) * 0.5
    y = _sample_labels(np.asarray(X @ W.T), b, rng)
    return _split(X, y, n_samples)


def make_digits(n_samples=None):
    """scikit-learn's digits (8x8 images, 10 classes), standardized, 25% held out.

    ``n_samples`` keeps a stratified subsample of that many rows (before the split).
    """
    X, y = load_digits(return_X_y=True)
    if n_samples is not None:
        X, _, y, _ = train_test_split(
            X, y, train_size=n_samples, random_state=0, stratify=y
        )
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te


def make_small(loader):
    """A small scikit-learn dataset (iris, wine, breast_cancer), standardized, 25% held out."""
    X, y = loader(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    scaler = StandardScaler().fit(X_tr)
    return scaler.transform(X_tr), y_tr, scaler.transform(X_te), y_te


# The small tabular datasets of a grid search's inner fits (full run only):
# their fit time is mostly per-fit overhead, not arithmetic.
_SMALL = {"iris": load_iris, "wine": load_wine, "breast_cancer": load_breast_cancer}


# -- the list -----------------------------------------------------------------
# (n_samples, n_features, n_classes, signal) full size and quick size.
_DENSE = {
    "medium": ((100_000, 100, 10, 5.0), (2_000, 20, 10, 5.0)),
    "wide": ((20_000, 1_000, 20, 12.0), (500, 100, 20, 12.0)),
    "tall": ((500_000, 54, 7, 4.0), (5_000, 10, 7, 4.0)),
}
# (n_samples, n_features, n_classes, density, signal)
_SPARSE = ((100_000, 50_000, 20, 0.001, 16.0), (2_000, 2_000, 20, 0.01, 16.0))


def make_medium(n_samples, seed=0):
    """The medium problem's model at another size (for the scaling study)."""
    _, d, k, signal = _DENSE["medium"][0]
    return make_dense(n_samples, d, k, signal=signal, seed=seed)


def problems(quick=False):
    """The benchmark problems, in a fixed order."""
    size = 1 if quick else 0
    if quick:
        out = [Problem("digits", "sklearn digits (600 rows), standardized",
                       lambda: make_digits(600))]
    else:
        out = [Problem(name, f"sklearn {name}, standardized", lambda loader=loader: make_small(loader),
                       dtypes=("float64",))
               for name, loader in _SMALL.items()]
        out.append(Problem("digits", "sklearn digits, standardized", make_digits))
    for seed, (name, sizes) in enumerate(_DENSE.items(), start=1):
        n, d, k, signal = sizes[size]
        out.append(
            Problem(
                name,
                f"dense {n:,} x {d:,}, {k} classes",
                lambda n=n, d=d, k=k, s=signal, seed=seed: make_dense(
                    n, d, k, signal=s, seed=seed
                ),
            )
        )
    n, d, k, density, signal = _SPARSE[size]
    out.append(
        Problem(
            "sparse",
            f"sparse CSR {n:,} x {d:,}, density {density}, {k} classes",
            lambda: make_sparse_text(n, d, k, density=density, signal=signal, seed=4),
            sparse=True,
            dtypes=("float64",),
        )
    )
    return out
