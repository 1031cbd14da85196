"""``python -m softmax_regression compare``: SoftmaxClassifier next to LogisticRegression."""

import argparse
import sys
import time
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn import datasets
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ._estimator import SoftmaxClassifier
from ._solvers import SOLVERS

BUNDLED = {
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "breast_cancer": datasets.load_breast_cancer,
    "digits": datasets.load_digits,
}


@dataclass
class Row:
    dataset: str
    model: str
    accuracy: float
    log_loss: float
    fit_seconds: float
    n_iter: int
    max_proba_diff: float


def _load_bundled(name):
    X, y = BUNDLED[name](return_X_y=True)
    return X, y


def _load_csv(path, target):
    """Read a CSV; numeric columns as they are, others one-hot; NaNs imputed."""
    import pandas as pd
    from sklearn.compose import make_column_selector, make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise SystemExit(f"compare: no such file: {path}")
    if target not in frame.columns:
        raise SystemExit(
            f"compare: column {target!r} is not in {path}; columns are {list(frame.columns)}"
        )
    frame = frame.dropna(subset=[target])
    y = frame.pop(target).to_numpy()
    encode = make_column_transformer(
        (SimpleImputer(strategy="median"), make_column_selector(dtype_include="number")),
        (
            make_pipeline(
                SimpleImputer(strategy="most_frequent"),
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
            ),
            make_column_selector(dtype_exclude="number"),
        ),
    )
    return encode.fit_transform(frame), y


def _fit_timed(model, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        return time.perf_counter() - start


def compare_on(name, X, y, *, C, solvers, tol, max_iter, seed=0):
    """Fit LogisticRegression and each SoftmaxClassifier solver on one split."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    reference = LogisticRegression(C=C, tol=tol, max_iter=max_iter)
    seconds = _fit_timed(reference, X_train, y_train)
    ref_proba = reference.predict_proba(X_test)
    rows = [
        Row(name, "LogisticRegression(lbfgs)", accuracy_score(y_test, reference.predict(X_test)),
            log_loss(y_test, ref_proba, labels=reference.classes_), seconds,
            int(np.max(reference.n_iter_)), 0.0)
    ]
    for solver in solvers:
        model = SoftmaxClassifier(C=C, solver=solver, tol=tol, max_iter=max_iter)
        seconds = _fit_timed(model, X_train, y_train)
        proba = model.predict_proba(X_test)
        rows.append(
            Row(name, f"SoftmaxClassifier({solver})", accuracy_score(y_test, model.predict(X_test)),
                log_loss(y_test, proba, labels=model.classes_), seconds,
                int(model.n_iter_[0]), float(np.max(np.abs(proba - ref_proba))))
        )
    return rows


def _objective(model, X, y, C):
    """Mean cross-entropy plus ||W||^2 / (2 C n), in float64: the shared measure."""
    from scipy.special import logsumexp

    Z = np.asarray(model.decision_function(X), dtype=np.float64)
    if Z.ndim == 1:
        Z = np.column_stack([np.zeros_like(Z), Z])
    y_index = np.searchsorted(model.classes_, y)
    ce = np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y_index])
    return ce + np.sum(np.asarray(model.coef_, dtype=np.float64) ** 2) / (2 * C * len(y))


def convergence_plot(path, name, X, y, *, C, solvers, max_iter=200):
    """Objective gap against iterations and time, each solver and LogisticRegression.

    Every curve point is a fit stopped after k iterations (``max_iter=k``), so
    both estimators are measured the same way, whatever they record inside.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X = StandardScaler().fit_transform(X)
    makers = {"LogisticRegression(lbfgs)": lambda k: LogisticRegression(C=C, max_iter=k,
                                                                        tol=1e-12)}
    for solver in solvers:
        makers[f"SoftmaxClassifier({solver})"] = (
            lambda k, solver=solver: SoftmaxClassifier(C=C, solver=solver, max_iter=k,
                                                       tol=1e-12, random_state=0))
    curves = {}
    for label, make in makers.items():
        steps = np.unique(np.geomspace(1, max_iter, 25).astype(int))
        points = []
        for k in steps:
            model = make(int(k))
            seconds = _fit_timed(model, X, y)
            points.append((int(k), seconds, _objective(model, X, y, C)))
        curves[label] = points
    best = min(p[2] for points in curves.values() for p in points)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
    for label, points in curves.items():
        k, seconds, value = map(np.asarray, zip(*points))
        gap = np.maximum(value - best, 1e-16) / abs(best)
        axes[0].loglog(k, gap, marker="o", ms=3, label=label)
        axes[1].loglog(seconds, gap, marker="o", ms=3, label=label)
    axes[0].set(xlabel="iterations (epochs for sgd)", ylabel="relative objective gap")
    axes[1].set(xlabel="fit time [s]")
    axes[0].legend(fontsize=8)
    fig.suptitle(f"{name}, C={C:g}, standardized")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return curves


def format_table(rows):
    header = ("dataset", "model", "accuracy", "log loss", "fit [ms]", "iters", "max |dP|")
    lines = [
        (r.dataset, r.model, f"{r.accuracy:.4f}", f"{r.log_loss:.5f}",
         f"{1e3 * r.fit_seconds:.1f}", str(r.n_iter),
         "-" if r.model.startswith("Logistic") else f"{r.max_proba_diff:.1e}")
        for r in rows
    ]
    widths = [max(len(row[i]) for row in [header, *lines]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" if i < 2 else f"{{:>{w}}}" for i, w in enumerate(widths))
    out = [fmt.format(*header), fmt.format(*("-" * w for w in widths))]
    out += [fmt.format(*line) for line in lines]
    return "\n".join(out)


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m softmax_regression compare",
        description=(
            "Fit SoftmaxClassifier (each solver) and LogisticRegression with the same C "
            "on a held-out split; print accuracy, log loss, fit time and the largest "
            "difference in predicted probability."
        ),
    )
    parser.add_argument("--dataset", choices=sorted(BUNDLED), action="append",
                        help="bundled dataset (repeatable; default: all)")
    parser.add_argument("--csv", metavar="PATH", help="your own data as a CSV file")
    parser.add_argument("--target", metavar="COLUMN", help="label column of --csv")
    parser.add_argument("--C", type=float, default=1.0, help="inverse penalty strength")
    parser.add_argument("--solvers", nargs="+", choices=sorted(SOLVERS), default=sorted(SOLVERS))
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--max-iter", type=int, default=1000)
    parser.add_argument("--plot", metavar="FILE",
                        help="also save the convergence picture (objective gap against "
                             "iterations and time) of the first dataset to FILE")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS threads for every fit (default 1: numpy's and scipy's "
                             "thread pools otherwise stall each other on small problems)")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.csv is not None and args.target is None:
        raise SystemExit("compare: --csv needs --target COLUMN")
    if args.csv is not None:
        problems = [(args.csv, *_load_csv(args.csv, args.target))]
    else:
        problems = [(name, *_load_bundled(name)) for name in (args.dataset or list(BUNDLED))]
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        for name, X, y in problems:
            rows += compare_on(name, X, y, C=args.C, solvers=args.solvers, tol=args.tol,
                               max_iter=args.max_iter)
        if args.plot:
            name, X, y = problems[0]
            convergence_plot(args.plot, name, X, y, C=args.C, solvers=args.solvers)
    print(f"C={args.C:g}, tol={args.tol:g}, {args.threads} BLAS thread(s); 25% held out, "
          "features standardized")
    print(format_table(rows))
    if args.plot:
        print(f"convergence picture written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
