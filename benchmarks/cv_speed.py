"""Time of SoftmaxClassifierCV next to LogisticRegressionCV and a GridSearchCV.

On standardized wine and digits with ``Cs=np.logspace(-3, 3, 10)`` and
5-fold stratified folds (the same split objects for every contestant), and
on the "medium" problem of benchmarks/problems.py with ``Cs=10`` (1e-4 to
1e4) and ``cv=5`` beside LogisticRegressionCV. Every fit runs with one BLAS
thread and ``n_jobs=1``, default ``tol`` and ``max_iter``,
``scoring="neg_log_loss"``. The contestants alternate within each repeat
(after a warm-up), so that they share the machine's load; the ratios are
medians of the per-repeat ratios. Writes benchmarks/results/cv_speed.md.

    python benchmarks/cv_speed.py [--quick] [--repeats N] [--skip-medium]

``--quick`` runs the medium problem at its quick size and fewer repeats.
"""

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.datasets import load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info, threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from problems import problems  # noqa: E402
from report import _git_state  # noqa: E402

from softmax_regression import SoftmaxClassifier, SoftmaxClassifierCV  # noqa: E402

SMALL_CS = np.logspace(-3, 3, 10)
# Against LogisticRegressionCV: 0.3x on the small tables, 0.5x on the medium
# problem (the speed targets of the default path).
TARGET_LRCV = {"wine": 0.3, "digits": 0.3, "medium": 0.5}
TARGET_GRID = 0.33


def contestants(Cs, folds, with_grid):
    """``name -> () -> unfitted estimator`` for one problem."""
    out = {
        "SoftmaxClassifierCV": lambda: SoftmaxClassifierCV(Cs=Cs, cv=folds, n_jobs=1),
        "LogisticRegressionCV": lambda: LogisticRegressionCV(
            Cs=Cs, cv=folds, l1_ratios=(0.0,), scoring="neg_log_loss", n_jobs=1,
            use_legacy_attributes=False,
        ),
    }
    if with_grid:
        out["GridSearchCV(SoftmaxClassifier)"] = lambda: GridSearchCV(
            SoftmaxClassifier(), {"C": list(Cs)}, cv=folds, scoring="neg_log_loss", n_jobs=1,
        )
    return out


def fit_seconds(make, X, y):
    return fit(make, X, y)[0]


def fit(make, X, y):
    """``(seconds, fitted estimator)``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        model = make().fit(X, y)
        return time.perf_counter() - start, model


def chosen_C(model):
    """The ``C`` a fitted contestant chose."""
    if hasattr(model, "best_params_"):
        return float(model.best_params_["C"])
    return float(np.ravel(model.C_)[0])


def measure(X, y, Cs, folds, repeats, with_grid):
    """Median seconds per contestant, median ratio of ours to each other, and each one's ``C_``."""
    makes = contestants(Cs, folds, with_grid)
    chosen = {}
    for name, make in makes.items():  # warm-up: imports, caches, first-call costs
        chosen[name] = chosen_C(fit(make, X, y)[1])
    seconds = {name: [] for name in makes}
    for _ in range(repeats):
        for name, make in makes.items():
            seconds[name].append(fit_seconds(make, X, y))
    ours = np.asarray(seconds["SoftmaxClassifierCV"])
    ratios = {name: float(np.median(ours / np.asarray(times)))
              for name, times in seconds.items() if name != "SoftmaxClassifierCV"}
    return {name: float(np.median(times)) for name, times in seconds.items()}, ratios, chosen


def standardized(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def blas_report():
    return [
        f"{info['internal_api']} {info.get('version')} ({info.get('threading_layer')}), "
        f"{info['num_threads']} thread(s), {Path(info['filepath']).name}"
        for info in threadpool_info() if info["user_api"] == "blas"
    ]


def run(quick=False, repeats=None, skip_medium=False):
    """Measure every problem; ``(rows, blas)`` for :func:`report`."""
    repeats = repeats or (3 if quick else 7)
    rows = []
    with threadpool_limits(limits=1, user_api="blas"):
        blas = blas_report()
        for name, loader in [("wine", load_wine), ("digits", load_digits)]:
            X, y = standardized(loader)
            folds = StratifiedKFold(5)
            seconds, ratios, chosen = measure(X, y, SMALL_CS, folds, repeats, with_grid=True)
            rows.append((name, X.shape, "logspace(-3, 3, 10)", repeats, seconds, ratios,
                         chosen))
            print(rows[-1], flush=True)
        if not skip_medium:
            medium = next(p for p in problems(quick=quick) if p.name == "medium")
            X, y, _, _ = medium.data("float64")
            medium_repeats = 1 if not quick else repeats
            seconds, ratios, chosen = measure(X, y, 10, StratifiedKFold(5), medium_repeats,
                                              with_grid=False)
            rows.append((f"medium{' (quick size)' if quick else ''}", X.shape,
                         "10 (1e-4 to 1e4)", medium_repeats, seconds, ratios, chosen))
            print(rows[-1], flush=True)
    return rows, blas


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument("--skip-medium", action="store_true")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/cv_speed.md")
    args = parser.parse_args()
    rows, blas = run(args.quick, args.repeats, args.skip_medium)
    command = "python benchmarks/cv_speed.py" + (" --quick" if args.quick else "")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report(rows, blas, command))
    print(f"wrote {args.output}")


def report(rows, blas, command):
    """The markdown report of :func:`run`'s rows, with the library's git commit."""
    lines = [
        "# SoftmaxClassifierCV speed",
        "",
        f"Produced by `{command}`: one BLAS thread, n_jobs=1, 5-fold stratified folds "
        "(the same for every contestant), scoring=neg_log_loss, default tol (1e-4) and "
        "max_iter. Seconds are medians over the repeats after a warm-up; the ratios are "
        "medians of per-repeat ratios, the contestants alternating within each repeat. "
        "Targets: SoftmaxClassifierCV <= "
        + ", ".join(f"{v}x ({k})" for k, v in TARGET_LRCV.items())
        + " LogisticRegressionCV's time with the same `C_` (the last column: ours, then "
        f"LogisticRegressionCV's) and <= {TARGET_GRID}x GridSearchCV(SoftmaxClassifier).",
        "",
        "| problem | shape | Cs | repeats | SoftmaxClassifierCV [s] | LogisticRegressionCV [s] "
        "| GridSearchCV [s] | ours / LRCV | ours / GridSearchCV | C_ |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, shape, Cs, repeats, seconds, ratios, chosen in rows:
        grid = seconds.get("GridSearchCV(SoftmaxClassifier)")
        grid_ratio = ratios.get("GridSearchCV(SoftmaxClassifier)")
        ours, theirs = chosen["SoftmaxClassifierCV"], chosen["LogisticRegressionCV"]
        same = bool(np.isclose(ours, theirs, rtol=1e-12))
        lines.append(
            f"| {name} | {shape[0]} x {shape[1]} | {Cs} | {repeats} "
            f"| {seconds['SoftmaxClassifierCV']:.3f} | {seconds['LogisticRegressionCV']:.3f} "
            f"| {'' if grid is None else f'{grid:.3f}'} "
            f"| {_verdict(ratios['LogisticRegressionCV'], TARGET_LRCV.get(name, 0.5), same)} "
            f"| {'' if grid_ratio is None else _verdict(grid_ratio, TARGET_GRID)} "
            f"| {ours:.4g}, {theirs:.4g} ({'same' if same else 'different'}) |"
        )
    lines += [
        "",
        f"Environment: Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {platform.machine()}; softmax_regression "
        f"from git {_git_state()}. BLAS during the runs "
        "(threadpoolctl):",
        "",
        *[f"- {line}" for line in blas],
        "",
    ]
    return "\n".join(lines)


def _verdict(ratio, target, same_choice=True):
    return f"{ratio:.2f}x ({'met' if ratio <= target and same_choice else 'not met'})"


if __name__ == "__main__":
    main()
