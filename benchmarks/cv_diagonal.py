"""L-BFGS iterations along SoftmaxClassifierCV's paths, with and without the diagonal scale.

Each path of ``SoftmaxClassifierCV(solver="lbfgs")`` starts L-BFGS at every
point from the inverse of that point's Hessian diagonal, built from the data
term's diagonal measured once per fold (at the path's start) plus the
point's exact L2 part. This script measures what that choice costs or saves
against a multiple of the identity (the scale switched off inside the
library, for this comparison only), on wine, breast_cancer and digits
prepared three ways: standardized, unscaled, and divided by each column's
largest absolute value (features in [0, 1]), and on sparse rows (3,000 x 400
CSR at 2% density, 5 classes, each class raising one column). ``Cs=np.logspace(-3, 3, 10)``,
5 shuffled stratified folds, one BLAS thread, ``max_iter=5000``, at
``tol=1e-4`` and ``1e-8``. Writes benchmarks/results/cv_diagonal.md.

    python benchmarks/cv_diagonal.py [--quick]
"""

import argparse
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from report import _git_state  # noqa: E402

import softmax_regression._cv.path as path_module  # noqa: E402
from softmax_regression import SoftmaxClassifierCV  # noqa: E402

DATASETS = {"wine": load_wine, "breast_cancer": load_breast_cancer, "digits": load_digits}
PREPARATIONS = {
    "standardized": lambda X: StandardScaler().fit_transform(X),
    "unscaled": lambda X: X,
    "[0, 1]": lambda X: X / np.maximum(np.abs(X).max(axis=0), 1e-300),
}
TOLS = (1e-4, 1e-8)


def sparse_rows(seed=0):
    """3,000 x 400 CSR rows at 2% density; each of 5 classes raises one column."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 5, 3000)
    X = sp.random(3000, 400, density=0.02, format="csr", random_state=seed)
    signal = sp.csr_matrix((np.abs(rng.normal(size=3000)), (np.arange(3000), 7 * y)),
                           shape=X.shape)
    return (X + signal).tocsr(), y


def path_fit(X, y, folds, tol, diagonal):
    """``(seconds, iterations, fits that did not converge)`` of one SoftmaxClassifierCV fit."""
    original = path_module.path_curvature
    if not diagonal:
        path_module.path_curvature = lambda problem, coef: None
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            start = time.perf_counter()
            model = SoftmaxClassifierCV(Cs=np.logspace(-3, 3, 10), cv=folds, tol=tol,
                                        max_iter=5000).fit(X, y)
            seconds = time.perf_counter() - start
    finally:
        path_module.path_curvature = original
    missed = sum(issubclass(w.category, ConvergenceWarning) for w in caught)
    return seconds, int(model.n_iter_.sum()), missed


def run(quick=False):
    rows = []
    datasets = {"wine": load_wine} if quick else DATASETS
    cases = []
    for name, loader in datasets.items():
        X0, y = loader(return_X_y=True)
        cases += [(name, prep, prepare(X0.astype(float)), y)
                  for prep, prepare in PREPARATIONS.items()]
    if not quick:
        cases.append(("sparse rows", "CSR, 2%", *sparse_rows()))
    with threadpool_limits(limits=1, user_api="blas"):
        for name, prep, X, y in cases:
            folds = list(StratifiedKFold(5, shuffle=True, random_state=0).split(X, y))
            for tol in TOLS[:1] if quick else TOLS:
                # Each variant once before its timed fit (imports, caches).
                result = {}
                for diagonal in (False, True):
                    path_fit(X, y, folds, tol, diagonal)
                    result[diagonal] = path_fit(X, y, folds, tol, diagonal)
                rows.append((name, prep, tol, result[False], result[True]))
                print(rows[-1], flush=True)
    return rows


def report(rows, command):
    lines = [
        "# The diagonal scale along SoftmaxClassifierCV's paths",
        "",
        f"Produced by `{command}` (see its docstring): L-BFGS iterations summed over "
        "the 5 folds x 10 values of C, and the fit's seconds (one timed fit after a "
        "warm-up, one BLAS thread), with L-BFGS started from a multiple of the identity "
        "and from the Hessian diagonal (the data term's, measured at the path's start, "
        "plus each point's L2 part). \"warned\" counts ConvergenceWarnings (identity / "
        "diagonal).",
        "",
        "| data | features | tol | identity: iterations | identity [s] | diagonal: "
        "iterations | diagonal [s] | iterations diagonal / identity | warned |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, prep, tol, plain, scaled in rows:
        lines.append(
            f"| {name} | {prep} | {tol:g} | {plain[1]:,} | {plain[0]:.3f} | {scaled[1]:,} "
            f"| {scaled[0]:.3f} | {scaled[1] / plain[1]:.2f} | {plain[2]} / {scaled[2]} |"
        )
    lines += [
        "",
        f"Environment: Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {platform.machine()}; softmax_regression "
        f"from git {_git_state()}.",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path,
                        default=ROOT / "benchmarks/results/cv_diagonal.md")
    args = parser.parse_args()
    rows = run(args.quick)
    command = "python benchmarks/cv_diagonal.py" + (" --quick" if args.quick else "")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report(rows, command))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
