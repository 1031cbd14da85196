"""SGD and partial_fit on repeated passes, class-sorted streams and unscaled data.

Measures the figures of the user guide page "Minibatch SGD and partial_fit" (docs/user_guide/sgd.md):

- ``passes``: ``partial_fit`` in 10 chunks over a 60,000 x 40, 6-class
  standardized synthetic problem, 1, 3 and 10 passes; the relative gap of the
  objective to the optimum it approaches (``fit`` with ``k * C`` after ``k``
  passes).
- ``digits``: standardized digits (80% train), 10 passes of 10 chunks;
  held-out accuracy and log loss against ``SGDClassifier(loss="log_loss")``
  fed the same chunks and the L-BFGS fit.
- ``sorted``: class-sorted streams (standardized digits and penguins, chunks
  of 50, 20 passes) against SGDClassifier on the same stream.
- ``raw``: ``fit(solver="sgd")`` on unscaled data sets: the gap to the
  optimum, accuracy, and whether a ConvergenceWarning was raised.
- ``fit``: the earlier digits targets (defaults, and L1), epochs and time.
- ``ablation``: the stream and raw-data figures with the preconditioner and
  the averaging switched off in turn.

Run ``python benchmarks/sgd_streams.py [names...]``; it prints Markdown tables
and writes them to ``benchmarks/results/sgd_streams.md`` when run whole.
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDClassifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from softmax_regression import SoftmaxClassifier, softmax
from softmax_regression._model.referee import estimator_objective


def objective(model, X, y, C=1.0):
    """The estimator's objective divided by n, in float64 (the package's referee)."""
    return estimator_objective(model, X, np.searchsorted(model.classes_, y), C=C,
                               l1_ratio=model.l1_ratio)


def optimum(X, y, C=1.0, l1_ratio=0.0):
    model = SoftmaxClassifier(C=C, l1_ratio=l1_ratio, tol=1e-9, max_iter=20_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    return objective(model, X, y, C)


def synthetic(n=60_000, d=40, k=6, seed=0):
    """A standardized multinomial problem with overlapping classes."""
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((k, d)) * 0.4
    X = rng.standard_normal((n, d)) @ (np.eye(d) + 0.3 * rng.standard_normal((d, d)))
    X = StandardScaler().fit_transform(X)
    P = softmax(X @ W.T, axis=1)
    y = (P.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return X, y


def penguins():
    from palmerpenguins import load_penguins

    frame = load_penguins().dropna(
        subset=["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"])
    X = frame[["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]]
    return X.to_numpy(dtype=float), frame["species"].to_numpy()


def digits_split():
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0,
                                                        stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def penguins_split():
    X, y = penguins()
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0,
                                                        stratify=y)
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def feed(model, chunks, passes, classes):
    """``passes`` passes of ``partial_fit`` over ``chunks``; returns the seconds spent."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(passes):
            for X, y in chunks:
                model.partial_fit(X, y, classes=classes)
    return time.perf_counter() - start


def measure_passes(**params):
    X, y = synthetic()
    chunks = list(zip(np.array_split(X, 10), np.array_split(y, 10)))
    rows = []
    for passes in (1, 3, 10):
        model = SoftmaxClassifier(solver="sgd", random_state=0, **params)
        seconds = feed(model, chunks, passes, np.unique(y))
        best = optimum(X, y, C=passes)
        rows.append({"passes": passes, "gap": objective(model, X, y, C=passes) / best - 1,
                     "seconds": seconds})
    return rows


def _versus_sgdclassifier(X_train, X_test, y_train, y_test, chunks, passes, params):
    classes = np.unique(y_train)
    ours = SoftmaxClassifier(solver="sgd", random_state=0, **params)
    theirs = SGDClassifier(loss="log_loss", random_state=0)
    feed(ours, chunks, passes, classes)
    feed(theirs, chunks, passes, classes)
    lbfgs = SoftmaxClassifier(max_iter=1000).fit(X_train, y_train)
    row = {}
    for name, model in [("ours", ours), ("SGDClassifier", theirs), ("lbfgs", lbfgs)]:
        row[name, "accuracy"] = accuracy_score(y_test, model.predict(X_test))
        row[name, "log loss"] = log_loss(y_test, model.predict_proba(X_test), labels=classes)
    row["eta"] = getattr(ours.sgd_state_, "learning_rate", ours.sgd_state_.optimizer.eta)
    return row


def measure_digits(**params):
    X_train, X_test, y_train, y_test = digits_split()
    chunks = list(zip(np.array_split(X_train, 10), np.array_split(y_train, 10)))
    return [_versus_sgdclassifier(X_train, X_test, y_train, y_test, chunks, 10, params)]


def sorted_chunks(X, y, size=50):
    order = np.argsort(y, kind="stable")
    return [(X[order[i:i + size]], y[order[i:i + size]]) for i in range(0, len(y), size)]


def measure_sorted(**params):
    rows = []
    for name, split in [("digits", digits_split), ("penguins", penguins_split)]:
        X_train, X_test, y_train, y_test = split()
        chunks = sorted_chunks(X_train, y_train)
        for passes in (1, 20):
            row = _versus_sgdclassifier(X_train, X_test, y_train, y_test, chunks, passes,
                                        params)
            rows.append({"data": name, "passes": passes, **row})
    return rows


def raw_datasets():
    yield "iris", *load_iris(return_X_y=True)
    yield "digits", *load_digits(return_X_y=True)
    yield "wine", *load_wine(return_X_y=True)
    yield "breast_cancer", *load_breast_cancer(return_X_y=True)
    yield "penguins", *penguins()


def measure_raw(**params):
    rows = []
    for name, X, y in raw_datasets():
        best = optimum(X, y)
        start = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = SoftmaxClassifier(solver="sgd", random_state=0, **params).fit(X, y)
        seconds = time.perf_counter() - start
        messages = [str(w.message) for w in caught if w.category is ConvergenceWarning]
        rows.append({"data": name, "gap": objective(model, X, y) / best - 1,
                     "accuracy": model.score(X, y), "epochs": int(model.n_iter_[0]),
                     "seconds": seconds, "warned": bool(messages),
                     "names standardizing": any("tandardiz" in m for m in messages)})
    return rows


def measure_fit(**params):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rows = []
    for l1_ratio in (0.0, 1.0):
        best = optimum(X, y, l1_ratio=l1_ratio)
        for seed in range(3):
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                model = SoftmaxClassifier(solver="sgd", l1_ratio=l1_ratio, random_state=seed,
                                          **params).fit(X, y)
            rows.append({"l1_ratio": l1_ratio, "seed": seed,
                         "gap": objective(model, X, y) / best - 1,
                         "epochs": int(model.n_iter_[0]),
                         "seconds": time.perf_counter() - start,
                         "warned": any(w.category is ConvergenceWarning for w in caught)})
    return rows


def measure_ablation():
    """Each candidate method switched off in turn, on the stream figures."""
    rows = []
    for precondition in (True, False):
        for average in (True, False):
            params = {"precondition": precondition, "average": average}
            digits = measure_digits(**params)[0]
            row = {"precondition": precondition, "average": average,
                   "digits accuracy": digits["ours", "accuracy"],
                   "digits log loss": digits["ours", "log loss"]}
            for sorted_row in measure_sorted(**params):
                if sorted_row["passes"] == 20:
                    row[f"sorted {sorted_row['data']} accuracy"] = sorted_row["ours", "accuracy"]
            raw = {r["data"]: r["gap"] for r in measure_raw(**params)}
            row["raw iris gap"], row["raw digits gap"] = raw["iris"], raw["digits"]
            rows.append(row)
    return rows


MEASURES = {"passes": measure_passes, "digits": measure_digits, "sorted": measure_sorted,
            "raw": measure_raw, "fit": measure_fit, "ablation": measure_ablation}


def markdown(rows):
    def cell(value):
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value)

    keys = list(rows[0])
    header = [" ".join(k) if isinstance(k, tuple) else k for k in keys]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(row[k]) for k in keys) + " |" for row in rows]
    return "\n".join(lines)


def main(names):
    out = []
    for name in names or MEASURES:
        start = time.perf_counter()
        rows = MEASURES[name]()
        out.append(f"## {name}\n\n{markdown(rows)}\n")
        print(out[-1], f"({time.perf_counter() - start:.0f} s)\n", flush=True)
    if not names:
        path = Path(__file__).parent / "results" / "sgd_streams.md"
        path.write_text("# SGD on passes, streams and unscaled data\n\n" + "\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
