"""Fit LogisticRegression(solver="saga") at tol=1e-8 on the L1 cases; save the results.

Run from the repository root:  python tests/reference/make_saga_reference.py
It writes tests/reference/saga_l1.npz, which tests/test_l1.py reads. saga takes
minutes here, which is why its results are kept rather than recomputed in CI.
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).parent))
from l1_problems import CASES, load, objective  # noqa: E402

OUT = Path(__file__).parent / "saga_l1.npz"


def main():
    results = {}
    with threadpool_limits(1):
        for name, C, l1_ratio in CASES:
            X, y = load(name)
            model = LogisticRegression(solver="saga", C=C, l1_ratio=l1_ratio, tol=1e-8,
                                       max_iter=100_000, random_state=0)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", ConvergenceWarning)
                start = time.perf_counter()
                model.fit(X, y)
                seconds = time.perf_counter() - start
            converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
            key = f"{name}|{C}|{l1_ratio}"
            value = objective(model.coef_, model.intercept_, X, y, C, l1_ratio)
            results[key + "|coef"] = model.coef_
            results[key + "|intercept"] = model.intercept_
            results[key + "|objective"] = value
            results[key + "|seconds"] = seconds
            results[key + "|converged"] = converged
            results[key + "|n_iter"] = int(np.max(model.n_iter_))
            print(f"{key}: objective={value:.12g} seconds={seconds:.2f} "
                  f"n_iter={np.max(model.n_iter_)} converged={converged}", flush=True)
    np.savez_compressed(OUT, sklearn_version=sklearn.__version__, **results)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
