"""Fit time of SoftmaxClassifier(lbfgs) with L1 / elastic net next to saga's.

The cases of tests/test_l1.py (standardized digits and breast_cancer, a CSR
text-like problem of 20,000 x 5,000 at density 0.005; l1_ratio in {0.5, 1},
C in {0.1, 1}), both solvers at tol=1e-8, timed one after the other in the
same process with one BLAS thread. Writes benchmarks/results/l1_vs_saga.md.

    python benchmarks/l1_vs_saga.py [--problems digits breast_cancer text_like]
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "reference"))
sys.path.insert(0, str(ROOT))
from l1_problems import CASES, load, objective  # noqa: E402

from softmax_regression import SoftmaxClassifier  # noqa: E402


def timed(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        start = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, converged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=None)
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/l1_vs_saga.md")
    args = parser.parse_args()
    lines = ["| problem | C | l1_ratio | lbfgs [s] | saga [s] | saga / lbfgs | "
             "objective lbfgs - saga (relative) | zeros lbfgs | zeros saga | saga converged |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    with threadpool_limits(limits=1, user_api="blas"):
        for name, C, l1_ratio in CASES:
            if args.problems and name not in args.problems:
                continue
            X, y = load(name)
            ours = SoftmaxClassifier(solver="lbfgs", C=C, l1_ratio=l1_ratio, tol=1e-8, max_iter=20_000)
            saga = LogisticRegression(solver="saga", C=C, l1_ratio=l1_ratio, tol=1e-8,
                                      max_iter=100_000, random_state=0)
            t_ours, _ = timed(ours, X, y)
            t_saga, saga_converged = timed(saga, X, y)
            f_ours = objective(ours.coef_, ours.intercept_, X, y, C, l1_ratio)
            f_saga = objective(saga.coef_, saga.intercept_, X, y, C, l1_ratio)
            line = (f"| {name} | {C:g} | {l1_ratio:g} | {t_ours:.2f} | {t_saga:.2f} | "
                    f"{t_saga / t_ours:.0f}x | {(f_ours - f_saga) / f_saga:+.1e} | "
                    f"{np.mean(ours.coef_ == 0):.3f} | {np.mean(saga.coef_ == 0):.3f} | "
                    f"{'yes' if saga_converged else 'no (100,000 epochs)'} |")
            print(line, flush=True)
            lines.append(line)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        "SoftmaxClassifier(lbfgs) against LogisticRegression(saga), tol=1e-8, one BLAS "
        "thread; produced by `python benchmarks/l1_vs_saga.py`.\n\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
