"""The performance targets, as measured ratios, from a results folder.

    python benchmarks/targets.py [benchmarks/results]

Reads ``results.csv`` written by ``run.py`` and prints one Markdown table:
for each problem and dtype, SoftmaxClassifier against scikit-learn measured
in the same run, next to the target each ratio is held to.
"""

import csv
import sys
from pathlib import Path


# Target 1 holds these (small, standardized) datasets to 0.8x, the others to 0.5x.
SMALL = ("iris", "wine", "breast_cancer", "digits")


def _float(value):
    return float(value) if value not in ("", None) else None


def load(folder):
    with open(Path(folder) / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for key in ("fit_time_median_s", "objective", "time_to_target_s", "peak_memory_mb",
                    "pass_cost_over_floor", "n_samples", "n_features", "n_classes"):
            row[key] = _float(row[key])
    return rows


def pick(rows, **where):
    found = [r for r in rows if all(r[k] == v for k, v in where.items())]
    return found[0] if found else None


def fmt(value, target=None, lower=True):
    if value is None:
        return "-"
    text = f"{value:.2f}"
    if target is None:
        return text
    met = value <= target if lower else value >= target
    return f"{text} {'(met)' if met else '(not met)'}"


def table(rows):
    problems = []
    for r in rows:
        key = (r["problem"], r["dtype"])
        if key not in problems:
            problems.append(key)
    lines = [
        "| problem | dtype | pass / floor (<= 1.2 dense, 1.5 sparse) | default (solver=\"auto\"): "
        "time / LR lbfgs (<= 0.5; <= 0.8 small) | objective no worse than LR's (1e-7 relative) "
        "| tight: time to best / fastest sklearn (<= 0.5) | "
        "float32 speed-up (>= 1.8) | peak allocated in fit / (4 n K itemsize + 32 (d+1) K 8) "
        "(<= 1) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, dtype in problems:
        ours = pick(rows, library="softmax_regression", solver="lbfgs", problem=name,
                    dtype=dtype, tol_setting="default")
        lr = pick(rows, library="sklearn.LogisticRegression", solver="lbfgs", problem=name,
                  dtype=dtype, tol_setting="default")
        if ours is None or lr is None:
            continue
        # The default fit, SoftmaxClassifier(), is solver="auto" (lbfgs in
        # results from before it existed).
        default = pick(rows, library="softmax_regression", solver="auto", problem=name,
                       dtype=dtype, tol_setting="default") or ours
        sparse = name == "sparse"
        floor_ratio = fmt(ours["pass_cost_over_floor"], 1.5 if sparse else 1.2)
        time_ratio = fmt(default["fit_time_median_s"] / lr["fit_time_median_s"],
                         0.8 if name in SMALL else 0.5)
        excess = (default["objective"] - lr["objective"]) / abs(lr["objective"])
        objective_ok = "yes" if excess <= 1e-7 else f"no (+{excess:.1e})"
        tight = [r for r in rows if r["problem"] == name and r["dtype"] == dtype
                 and r["tol_setting"] == "tight" and r["time_to_target_s"] is not None]
        ours_tight = [r["time_to_target_s"] for r in tight if r["library"] == "softmax_regression"]
        theirs_tight = [r["time_to_target_s"] for r in tight if r["library"] != "softmax_regression"]
        tight_ratio = fmt(min(ours_tight) / min(theirs_tight), 0.5) if ours_tight and theirs_tight \
            else "-"
        speedup = "-"
        if dtype == "float32":
            ours64 = pick(rows, library="softmax_regression", solver="lbfgs", problem=name,
                          dtype="float64", tol_setting="default")
            if ours64:
                speedup = fmt(ours64["fit_time_median_s"] / ours["fit_time_median_s"], 1.8,
                              lower=False)
        itemsize = 4 if dtype == "float32" else 8
        n, d, k = ours["n_samples"], ours["n_features"], ours["n_classes"]
        # Beyond the input X (never copied): four n x K arrays, plus O(d K) for
        # the solver: L-BFGS keeps 2 x 10 correction vectors and a few working
        # vectors of (d + 1) K float64 numbers, counted as 32 of them.
        budget = (4 * n * k * itemsize + 32 * (d + 1) * k * 8) / 2**20
        memory = fmt(ours["peak_memory_mb"] / budget, 1.0)
        lines.append(f"| {name} | {dtype} | {floor_ratio} | {time_ratio} | {objective_ok} | "
                     f"{tight_ratio} | {speedup} | {memory} |")
    return "\n".join(lines)


def thread_table(folder):
    """Target 4, from ``threads.csv`` (absent when the run had no thread study)."""
    path = Path(folder) / "threads.csv"
    if not path.exists():
        return ""
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    lines = ["| problem | dtype | pass speed-up, 2 threads / 1 (>= 1.7 medium, tall) | "
             "default threads: SC / LR fit time (<= 1) |", "|---|---|---|---|"]
    for r in rows:
        target = 1.7 if r["problem"] in ("medium", "tall") else None
        lines.append(f"| {r['problem']} | {r['dtype']} | "
                     f"{fmt(_float(r['pass_speedup']), target, lower=False)} | "
                     f"{fmt(_float(r['sc_over_lr_default_threads']), 1.0)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/results"
    print(table(load(folder)))
    threads = thread_table(folder)
    if threads:
        print()
        print(threads)
