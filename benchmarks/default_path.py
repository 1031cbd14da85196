"""The default path: ``SoftmaxClassifier()`` against ``LogisticRegression()``.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/default_path.py
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/default_path.py --quick

Both estimators at their defaults (C=1, tol=1e-4), one BLAS thread, in the
same process, on the training split of every problem of ``problems.py``.
Per problem: the median time per fit over batches of fits after a warm-up
(the two estimators alternating batch by batch), the method
``solver="auto"`` chose, its iterations and its work in pass-equivalents
(evaluations plus Hessian products or factorizations at their cost in
passes), LogisticRegression's iterations, and the objective of both in
float64 (the package's referee), relative to LogisticRegression's.
A full run adds the L1 case (``l1_ratio=1, C=0.1``) against saga.
Writes ``results/default_path.md`` (and ``.csv``), with the git commit.
"""

import argparse
import csv
import dataclasses
import math
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))

import softmax_regression._solvers as solvers_module  # noqa: E402
from objective import estimator_objective  # noqa: E402
from problems import problems  # noqa: E402

from softmax_regression import SoftmaxClassifier  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "results"
# Issue targets: time / LR at most 0.8 on the small datasets, 0.5 on the large.
SMALL = {"iris", "wine", "breast_cancer", "digits"}
# Timed batches per estimator after the warm-up, fewer once they took TIME_BUDGET seconds.
REPEATS = 7
TIME_BUDGET = 10.0
# Seconds of fits in one timed batch (at most MAX_BATCH fits).
MIN_BATCH = 0.05
MAX_BATCH = 100


class Recorder:
    """Wraps the "auto" solver to keep the last result (method, passes)."""

    def __init__(self):
        self.last = None
        self.spec = solvers_module.SOLVERS["auto"]

    def __enter__(self):
        def function(*args, **kwargs):
            self.last = self.spec.function(*args, **kwargs)
            return self.last

        solvers_module.SOLVERS["auto"] = dataclasses.replace(self.spec, function=function)
        return self

    def __exit__(self, *exc):
        solvers_module.SOLVERS["auto"] = self.spec


def timed(makes, X, y, repeats, budget):
    """Median seconds per fit of each ``make().fit(X, y)``, the last models and the repeats.

    The estimators alternate, one batch each per repeat, so that they share
    the machine's state; a batch holds as many fits as take ``MIN_BATCH``
    seconds (measured in the warm-up), so that fits of a millisecond are not
    timed one by one at the clock's and the machine's noise.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models, batches = [], []
        for make in makes:
            start = time.perf_counter()
            models.append(make().fit(X, y))
            once = time.perf_counter() - start
            batches.append(max(1, min(MAX_BATCH, math.ceil(MIN_BATCH / max(once, 1e-9)))))
        seconds = [[] for _ in makes]
        while len(seconds[0]) < repeats and (not seconds[0] or sum(map(sum, seconds)) < budget):
            for i, make in enumerate(makes):
                start = time.perf_counter()
                for _ in range(batches[i]):
                    models[i] = make().fit(X, y)
                seconds[i].append((time.perf_counter() - start) / batches[i])
    return [statistics.median(times) for times in seconds], models, len(seconds[0])


def git_commit():
    root = Path(__file__).resolve().parents[1]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root,
                            capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root,
                           capture_output=True, text=True).stdout.strip()
    return commit + (" (uncommitted changes)" if dirty else "")


def run(quick, repeats, budget, names):
    rows = []
    for problem in problems(quick=quick):
        if names and problem.name not in names:
            continue
        for dtype in problem.dtypes:
            X, y, _, _ = problem.data(dtype)
            with Recorder() as recorder:
                (t_lr, t_ours), (lr, ours), n = timed(
                    (LogisticRegression, SoftmaxClassifier), X, y, repeats, budget)
            result = recorder.last
            X64 = X.astype(np.float64)
            f_ours, f_lr = estimator_objective(ours, X64, y), estimator_objective(lr, X64, y)
            target = 0.8 if problem.name in SMALL else 0.5
            rows.append({
                "problem": problem.name, "dtype": np.dtype(dtype).name,
                "LR seconds": t_lr, "LR iterations": int(lr.n_iter_[0]),
                "ours seconds": t_ours, "method": result.method,
                "ours iterations": int(ours.n_iter_[0]),
                "pass-equivalents": float(result.pass_equivalents),
                "time / LR": t_ours / t_lr, "target": target,
                "objective vs LR (relative)": (f_ours - f_lr) / abs(f_lr),
                "repeats": n,
            })
            print(_line(rows[-1]), flush=True)
    return rows


def l1_case(repeats, budget):
    """Issue target 2: L1 at C=0.1 against saga, both at their defaults otherwise."""
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(50_000, 50, n_informative=20, n_classes=5, random_state=0)
    X = StandardScaler().fit_transform(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        SoftmaxClassifier(l1_ratio=1.0, C=0.1).fit(X, y)
    (t_saga, t_ours), (saga, ours), n = timed(
        (lambda: LogisticRegression(solver="saga", l1_ratio=1.0, C=0.1),
         lambda: SoftmaxClassifier(l1_ratio=1.0, C=0.1)), X, y, repeats, budget)
    f_ours = estimator_objective(ours, X, y, C=0.1, l1_ratio=1.0)
    f_saga = estimator_objective(saga, X, y, C=0.1, l1_ratio=1.0)
    return {
        "saga seconds": t_saga, "saga epochs": int(saga.n_iter_[0]),
        "ours seconds": t_ours, "ours iterations": int(ours.n_iter_[0]),
        "time / saga": t_ours / t_saga,
        "objective vs saga (relative)": (f_ours - f_saga) / abs(f_saga),
        "ConvergenceWarning": bool(caught), "repeats": n,
    }


def _l1_line(row):
    obj = row["objective vs saga (relative)"]
    return (f"| L1, C=0.1, 50,000 x 50 x 5 | {row['saga epochs']} | "
            f"{row['saga seconds'] * 1e3:.0f} | {row['ours iterations']} | "
            f"{row['ours seconds'] * 1e3:.0f} | {row['time / saga']:.2f} (<= 0.5: "
            f"{'met' if row['time / saga'] <= 0.5 else 'not met'}) | {obj:+.1e} "
            f"({'met' if obj <= 1e-6 else 'not met'}) | "
            f"{'yes (not met)' if row['ConvergenceWarning'] else 'no (met)'} |")


def _line(row):
    met = "met" if row["time / LR"] <= row["target"] else "not met"
    obj = row["objective vs LR (relative)"]
    return (f"| {row['problem']} | {row['dtype']} | {row['LR iterations']} | "
            f"{row['LR seconds'] * 1e3:.1f} | {row['method']} | {row['ours iterations']} | "
            f"{row['pass-equivalents']:.1f} | {row['ours seconds'] * 1e3:.1f} | "
            f"{row['time / LR']:.2f} (<= {row['target']}: {met}) | {obj:+.1e} "
            f"({'met' if obj <= 1e-7 else 'not met'}) |")


def write(rows, quick, l1_row=None, output=OUTPUT, commit=None):
    output.mkdir(parents=True, exist_ok=True)
    stem = "default_path_quick" if quick else "default_path"
    with open(output / f"{stem}.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    blas = sorted({f"{i['internal_api']} {i.get('version')}" for i in threadpool_info()
                   if i["user_api"] == "blas"})
    lines = [
        "# The default path: SoftmaxClassifier() vs LogisticRegression()",
        "",
        f"Commit {commit or git_commit()}; one BLAS thread ({', '.join(blas)}); per fit, the median "
        f"of up to {max(r['repeats'] for r in rows)} batches of fits after a warm-up (a batch: as "
        f"many fits as take {MIN_BATCH:g} s, the two estimators alternating batch by batch); "
        "training split of each "
        "problem in `problems.py`. Objective: float64 referee, (ours - LR) / LR, target "
        "<= 1e-7. Made by `benchmarks/default_path.py`.",
        "",
        "| problem | dtype | LR iterations | LR ms | method | iterations | pass-equivalents "
        "| ms | time / LR | objective vs LR |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *(_line(row) for row in rows),
        "",
    ]
    if l1_row is not None:
        lines += [
            "L1 (`l1_ratio=1, C=0.1`), standardized `make_classification(50_000, 50, "
            "n_informative=20, n_classes=5, random_state=0)`, against "
            "`LogisticRegression(solver=\"saga\", l1_ratio=1, C=0.1)`; objective target <= 1e-6.",
            "",
            "| problem | saga epochs | saga ms | iterations | ms | time / saga | objective vs saga "
            "| ConvergenceWarning |",
            "|---|---|---|---|---|---|---|---|",
            _l1_line(l1_row),
            "",
        ]
    (output / f"{stem}.md").write_text("\n".join(lines))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny problems (a smoke test)")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    parser.add_argument("--time-budget", type=float, default=TIME_BUDGET,
                        help="stop repeating a fit after this many seconds")
    parser.add_argument("--problems", help="comma-separated problem names")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="folder for the results")
    args = parser.parse_args(argv)
    names = set(args.problems.split(",")) if args.problems else None
    # Read before the run writes its own (tracked) results, which would
    # otherwise count as uncommitted changes.
    commit = git_commit()
    with threadpool_limits(limits=1):
        rows = run(args.quick, args.repeats, args.time_budget, names)
        l1_row = None if args.quick or names else l1_case(args.repeats, args.time_budget)
    if l1_row is not None:
        print(_l1_line(l1_row))
    write(rows, args.quick, l1_row, args.output, commit)


if __name__ == "__main__":
    main()
