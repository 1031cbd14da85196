"""SoftmaxClassifier against LogisticRegression(lbfgs) on CUDA tensors (array API).

Both estimators are fitted with ``sklearn.config_context(array_api_dispatch=True)``
on the same float32 PyTorch tensors on one GPU, C=1. For each fit the script
reports the wall time (CUDA synchronized), the iterations, and the final
objective evaluated in float64 by one shared function; for each of our solvers
also the time it takes to reach LogisticRegression's final objective.

Run from the repository root (needs torch with CUDA)::

    SCIPY_ARRAY_API=1 PYTHONPATH=. python benchmarks/gpu_benchmark.py --output DIR

``--device cpu --quick`` runs the same code on small CPU tensors (a smoke test).
"""

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from sklearn import config_context  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

import softmax_regression  # noqa: E402
from softmax_regression import SoftmaxClassifier  # noqa: E402

SIZES = [(200_000, 100, 10), (2_000_000, 256, 16)]
QUICK_SIZES = [(5_000, 20, 4)]
C = 1.0


def make_problem(n, d, n_classes, device, seed=0):
    """Features and labels of a known multinomial model (not separable), float32."""
    gen = torch.Generator(device=device).manual_seed(seed)
    X = torch.randn(n, d, generator=gen, device=device, dtype=torch.float32)
    W = torch.randn(n_classes, d, generator=gen, device=device) / d**0.5 * 2.0
    logits = X @ W.T
    gumbel = -torch.log(-torch.log(torch.rand(n, n_classes, generator=gen, device=device)))
    y = torch.argmax(logits + gumbel, dim=1)
    return X, y


def objective(coef, intercept, X, y):
    """Mean cross-entropy plus ||W||^2 / (2 C n), in float64 (the shared measure)."""
    W = coef.to(torch.float64)
    Z = X.to(torch.float64) @ W.T + intercept.to(torch.float64)
    ce = torch.logsumexp(Z, dim=1) - Z.gather(1, y[:, None])[:, 0]
    return float(ce.mean() + (W**2).sum() / (2 * C * X.shape[0]))


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed_fit(estimator, X, y, device):
    with config_context(array_api_dispatch=True), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sync(device)
        start = time.perf_counter()
        estimator.fit(X, y)
        sync(device)
        return time.perf_counter() - start


def two_product_floor(X, n_classes, device, repeats=10):
    """Median time of X @ W.T plus R.T @ X: the floor of one gradient pass."""
    W = torch.randn(n_classes, X.shape[1], device=device)
    R = torch.randn(X.shape[0], n_classes, device=device)
    times = []
    for _ in range(repeats + 2):
        sync(device)
        start = time.perf_counter()
        (X @ W.T).sum()
        (R.T @ X).sum()
        sync(device)
        times.append(time.perf_counter() - start)
    return float(np.median(times[2:]))


def our_models(n):
    models = {
        "lbfgs": SoftmaxClassifier(C=C, solver="lbfgs"),
        "newton-cg": SoftmaxClassifier(C=C, solver="newton-cg"),
        # Minibatches of 256 rows would mean thousands of small kernels per
        # epoch on a GPU; large batches and a few epochs are how SGD is used there.
        "sgd": SoftmaxClassifier(C=C, solver="sgd", batch_size=max(256, n // 256),
                                 max_iter=20, random_state=0),
    }
    return models


def time_to_reach(target, make, X, y, device):
    """Fit time of the shortest run (max_iter) whose objective reaches ``target``."""
    full = make()
    timed_fit(full, X, y, device)
    curve = full.loss_curve_
    reached = [i + 1 for i, value in enumerate(curve) if value <= target]
    if not reached:
        return None, None
    iterations = reached[0]
    model = make().set_params(max_iter=iterations)
    seconds = timed_fit(model, X, y, device)
    return seconds, iterations


def run(sizes, device, repeats):
    rows = []
    for n, d, n_classes in sizes:
        X, y = make_problem(n, d, n_classes, device)
        floor = two_product_floor(X, n_classes, device)
        # Warm-up: CUDA context, cuBLAS handles, kernel caches.
        for estimator in [LogisticRegression(C=C), *our_models(n).values()]:
            timed_fit(estimator.set_params(max_iter=2), X[:2000], y[:2000], device)

        def fit_median(make, X, y):
            times, model = [], None
            for _ in range(repeats):
                model = make()
                times.append(timed_fit(model, X, y, device))
            return float(np.median(times)), model

        lr_seconds, lr = fit_median(lambda: LogisticRegression(C=C), X, y)
        lr_objective = objective(lr.coef_, lr.intercept_, X, y)
        rows.append(dict(problem=f"{n}x{d}x{n_classes}", model="LogisticRegression(lbfgs)",
                         seconds=lr_seconds, n_iter=int(lr.n_iter_[0]),
                         objective=lr_objective, floor_seconds=floor))
        for name in our_models(n):
            make = lambda name=name: our_models(n)[name]  # noqa: E731
            seconds, model = fit_median(make, X, y)
            value = objective(model.coef_, model.intercept_, X, y)
            # loss_curve_ is the same mean objective (SGD: averaged over its epoch).
            reach_seconds, reach_iter = time_to_reach(lr_objective, make, X, y, device)
            rows.append(dict(
                problem=f"{n}x{d}x{n_classes}", model=f"SoftmaxClassifier({name})",
                seconds=seconds, n_iter=int(model.n_iter_[0]), objective=value,
                objective_gap_to_lr=(value - lr_objective) / lr_objective,
                seconds_to_lr_objective=reach_seconds, iterations_to_lr_objective=reach_iter,
                ratio_to_lr=None if reach_seconds is None else reach_seconds / lr_seconds,
                floor_seconds=floor,
            ))
        for row in rows[-4:]:
            print(json.dumps(row), flush=True)
        del X, y
    return rows


def environment(device):
    return {
        "device": torch.cuda.get_device_name(0) if device.startswith("cuda") else platform.processor(),
        "torch": torch.__version__, "numpy": np.__version__, "scikit-learn": sklearn.__version__,
        "softmax_regression": softmax_regression.__version__, "python": platform.python_version(),
        "dtype": "float32", "C": C,
    }


def to_markdown(rows, env):
    lines = [f"GPU: {env['device']}; torch {env['torch']}, scikit-learn {env['scikit-learn']}, "
             f"float32, C={C}; objective in float64 (mean cross-entropy + penalty / n).", "",
             "| problem | model | fit [s] | iterations | objective | gap to LR | "
             "time to LR's objective [s] | / LR's fit time |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        gap = r.get("objective_gap_to_lr")
        reach = r.get("seconds_to_lr_objective")
        ratio = r.get("ratio_to_lr")
        lines.append(
            f"| {r['problem']} | {r['model']} | {r['seconds']:.4f} | {r['n_iter']} | "
            f"{r['objective']:.8f} | {'-' if gap is None else f'{gap:+.1e}'} | "
            f"{'-' if reach is None else f'{reach:.4f}'} | "
            f"{'-' if ratio is None else f'{ratio:.2f}'} |")
    floors = {r["problem"]: r["floor_seconds"] for r in rows}
    lines += ["", "Two-matrix-product floor (X @ W.T + R.T @ X) per problem: "
              + ", ".join(f"{p}: {1e3 * s:.2f} ms" for p, s in floors.items())]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path, default=Path("benchmarks/results/gpu"))
    args = parser.parse_args()
    env = environment(args.device)
    rows = run(QUICK_SIZES if args.quick else SIZES, args.device, args.repeats)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / "gpu_results.json").write_text(json.dumps({"environment": env, "rows": rows},
                                                             indent=2))
    markdown = to_markdown(rows, env)
    (args.output / "gpu_results.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
