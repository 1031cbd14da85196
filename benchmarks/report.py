"""Turn the measured rows into results.csv, results.md, traces.json, scaling.csv.

Derived columns, computed here once every solver has run on a problem:

- ``objective_rel_gap``: ``(objective - best) / |best|``, ``best`` being the
  lowest objective any solver reached on that problem and dtype (final
  objectives, and every point of every trace);
- ``time_to_target_s``: in the traced (tight-tol) warm-up fit, the first time
  the objective was within ``TARGET_GAP`` (relative) of ``best``;
- ``pass_cost_over_floor``: ``fit_time_median_s / passes / floor_s`` (and
  ``pass_cost_over_floor_cpu`` the same in CPU time).
"""

import csv
import json
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from objective import relative_gap

TARGET_GAP = 1e-9
COLUMNS = [
    "library", "solver", "problem", "dtype", "tol_setting", "tol", "max_iter",
    "n_samples", "n_features", "n_classes", "fit_time_median_s", "fit_time_min_s",
    "fit_time_max_s", "fit_cpu_median_s", "repeats", "iterations", "evaluations",
    "hessian_products", "passes", "converged", "objective", "objective_rel_gap",
    "time_to_target_s", "test_accuracy", "test_log_loss", "peak_memory_mb", "floor_s",
    "floor_cpu_s", "pass_cost_over_floor", "pass_cost_over_floor_cpu", "coef_dtype", "note",
]
SCALING_COLUMNS = ["library", "solver", "n_samples", "fit_time_s", "fit_cpu_s", "repeats",
                   "iterations", "passes", "floor_s", "note"]


def _version(name):
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_state():
    """The commit the library was imported from, and whether it had edits."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, timeout=10,
                             capture_output=True, text=True).stdout.strip()
        edited = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "softmax_regression"],
                                cwd=root, timeout=10, capture_output=True).returncode == 1
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return (sha or "unknown") + (" + uncommitted changes in softmax_regression/" if edited else "")


def environment(args):
    """The machine, library versions and BLAS, as threadpoolctl sees them now."""
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "command": " ".join(sys.argv),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": affinity,
        "python": platform.python_version(),
        "softmax_regression_git": _git_state(),
        "versions": {name: _version(name) for name in
                     ["softmax_regression", "scikit-learn", "numpy", "scipy", "threadpoolctl"]},
        "threads": args.threads,
        "threadpool_info": threadpool_info(),
        "openblas_env": {k: os.environ[k] for k in os.environ if k.startswith("OPENBLAS")},
        "load_average_at_start": os.getloadavg(),
        "C": args.C,
        "quick": args.quick,
        "repeats": args.repeats,
        "time_budget_s": args.time_budget,
        "max_iter": args.max_iter,
        "max_epochs": args.max_epochs,
    }


def finalize(rows, traces):
    """Fill in the derived columns (in place)."""
    best = {}
    for row in rows:
        if row.get("objective") is not None:
            key = (row["problem"], row["dtype"])
            best[key] = min(best.get(key, np.inf), row["objective"])
    for tr in traces:
        key = (tr["problem"], tr["dtype"])
        best[key] = min([best.get(key, np.inf)] + [v for _, v in tr["points"]])
    for row in rows:
        if row.get("objective") is None or row.get("floor_s") is None:
            continue
        target = best[(row["problem"], row["dtype"])]
        row["objective_rel_gap"] = max(relative_gap(row["objective"], target), 0.0)
        if row.get("passes"):
            row["pass_cost_over_floor"] = (
                row["fit_time_median_s"] / row["passes"] / row["floor_s"]
            )
            row["pass_cost_over_floor_cpu"] = (
                row["fit_cpu_median_s"] / row["passes"] / row["floor_cpu_s"]
            )
    for tr in traces:
        target = best[(tr["problem"], tr["dtype"])]
        hit = [t for t, v in tr["points"] if relative_gap(v, target) <= TARGET_GAP]
        for row in rows:
            if all(row.get(k) == tr[k] for k in ("library", "solver", "problem", "dtype", "tol")):
                row["time_to_target_s"] = min(hit) if hit else None
                note = row.get("note") or ""
                if not hit and "target not reached" not in note:
                    row["note"] = (note + "; target not reached").lstrip("; ")
    return best


def _fmt(value, kind="g"):
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not np.isfinite(value):
            return str(value)
        return f"{value:.3g}" if kind == "g" else format(value, kind)
    return str(value)


def _write_csv(path, rows, columns):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})


def _find(rows, **match):
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()) and row.get("fit_time_median_s"):
            return row
    return None


def headline(rows):
    """Markdown lines: SoftmaxClassifier(lbfgs) against LogisticRegression(lbfgs)."""
    lines = [
        "| problem | dtype | SC lbfgs s | LR lbfgs s | SC / LR time | SC / LR CPU "
        "| SC objective | LR objective | SC passes | LR passes | SC pass / floor "
        "| (CPU) | SC f64/f32 time | LR f64/f32 time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    keys = sorted({(r["problem"], r["dtype"]) for r in rows if r.get("tol_setting") == "default"},
                  key=lambda k: ([r["problem"] for r in rows].index(k[0]), k[1] != "float64"))
    for problem, dtype in keys:
        common = dict(problem=problem, tol_setting="default", solver="lbfgs")
        sc = _find(rows, library="softmax_regression", dtype=dtype, **common)
        lr = _find(rows, library="sklearn.LogisticRegression", dtype=dtype, **common)
        if sc is None or lr is None:
            continue
        speedups = []
        for row in (sc, lr):
            row64 = _find(rows, library=row["library"], dtype="float64", **common)
            speedups.append(row64["fit_time_median_s"] / row["fit_time_median_s"]
                            if dtype != "float64" and row64 else None)
        lines.append(
            f"| {problem} | {dtype} | {_fmt(sc['fit_time_median_s'])} "
            f"| {_fmt(lr['fit_time_median_s'])} "
            f"| {_fmt(sc['fit_time_median_s'] / lr['fit_time_median_s'])} "
            f"| {_fmt(sc['fit_cpu_median_s'] / lr['fit_cpu_median_s'])} "
            f"| {sc['objective']:.10g} | {lr['objective']:.10g} | {_fmt(sc.get('passes'))} "
            f"| {_fmt(lr.get('passes'))} | {_fmt(sc.get('pass_cost_over_floor'))} "
            f"| {_fmt(sc.get('pass_cost_over_floor_cpu'))} "
            f"| {_fmt(speedups[0])} | {_fmt(speedups[1])} |"
        )
    return lines


_MD_COLUMNS = [
    ("tol_setting", "tol"), ("library", "library"), ("solver", "solver"),
    ("fit_time_median_s", "time s (median)"), ("fit_time_min_s", "min"),
    ("fit_time_max_s", "max"), ("fit_cpu_median_s", "CPU s"), ("repeats", "n"), ("iterations", "iter"),
    ("evaluations", "evals"), ("hessian_products", "Hv"), ("converged", "conv"),
    ("objective", "objective"), ("objective_rel_gap", "rel gap"),
    ("time_to_target_s", "t to 1e-9 s"), ("test_accuracy", "test acc"),
    ("test_log_loss", "test logloss"), ("peak_memory_mb", "peak MB"),
    ("pass_cost_over_floor", "pass/floor"), ("pass_cost_over_floor_cpu", "(CPU)"),
    ("note", "note"),
]


def _header(env):
    blas = [f"{i['internal_api']} {i.get('version')} ({i.get('architecture')}, "
            f"{i['num_threads']} thread(s), {os.path.basename(i['filepath'])})"
            for i in env["threadpool_info"]]
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    partial = [] if env.get("complete", True) else [
        "**Partial run**: these files were saved after the last problem that finished; the "
        "run did not reach its end (problems, the scaling study or the thread study missing "
        "below were not measured).", ""]
    return [
        "# Benchmark results" + (" (quick mode)" if env["quick"] else ""),
        "",
        *partial,
        f"- Machine: {env['platform']}; {env['cpu']}; os.cpu_count() = {env['cpu_count']}, "
        f"usable {env['usable_cpus']}",
        f"- Python {env['python']}; {versions}; softmax_regression from git "
        f"{env.get('softmax_regression_git', 'unknown')}",
        f"- Thread limit (threadpoolctl, BLAS and OpenMP): {env['threads']}",
        "- threadpoolctl reports: " + "; ".join(blas),
        f"- OPENBLAS_* variables in the environment: {env['openblas_env'] or 'none'}",
        f"- Command: `{env['command']}`; C = {env['C']}; wall time "
        f"{env.get('wall_time_s', '?')} s",
        f"- Load average (1, 5, 15 min) at start: {_fmt_load(env['load_average_at_start'])}, "
        f"at the last save: {_fmt_load(env.get('load_average_at_end'))} "
        "(other work on the machine inflates wall times, much less CPU times)",
        f"- Timing: warm-up (tracemalloc; traced at tight tol), then up to {env['repeats']} "
        f"timed fits, fewer once they took {env['time_budget_s']} s in all; max_iter "
        f"{env['max_iter']} iterations (full-batch), {env['max_epochs']} epochs (stochastic)",
        "",
    ]


def _fmt_load(load):
    return "?" if load is None else ", ".join(f"{x:.1f}" for x in load)


def markdown(rows, scaling_rows, env):
    lines = _header(env)
    lines += ["## Headline: SoftmaxClassifier(lbfgs) vs LogisticRegression(lbfgs), tol 1e-4",
              "", *headline(rows), "",
              "Objectives in the shared float64 normalization (objective / n), see "
              "`objective.py`; column meanings in `README.md`.", ""]
    groups = []
    for row in rows:
        key = (row["problem"], row["dtype"])
        if key not in groups:
            groups.append(key)
    for problem, dtype in groups:
        some = next(r for r in rows if (r["problem"], r["dtype"]) == (problem, dtype))
        lines += [f"## {problem} ({dtype}): {some.get('n_samples')} x {some.get('n_features')}, "
                  f"{some.get('n_classes')} classes; floor {_fmt(some['floor_s'] * 1e3)} ms", "",
                  "| " + " | ".join(h for _, h in _MD_COLUMNS) + " |",
                  "|" + "---|" * len(_MD_COLUMNS)]
        for row in rows:
            if (row["problem"], row["dtype"]) == (problem, dtype):
                cells = [f"{row['objective']:.10g}" if k == "objective" and row.get(k) is not None
                         else _fmt(row.get(k)) for k, _ in _MD_COLUMNS]
                lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    if scaling_rows:
        lines += ["## Scaling: fit time against n (medium model, float64, tol 1e-4)", "",
                  "| library | solver | n | time s | iter | passes | floor ms | note |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in scaling_rows:
            lines.append(f"| {r['library']} | {r['solver']} | {r['n_samples']:,} "
                         f"| {_fmt(r.get('fit_time_s'))} | {_fmt(r.get('iterations'))} "
                         f"| {_fmt(r.get('passes'))} | {_fmt(r['floor_s'] * 1e3)} "
                         f"| {r.get('note', '')} |")
        lines.append("")
    return "\n".join(lines)


THREAD_COLUMNS = ["problem", "dtype", "pass_1_thread_s", "pass_2_threads_s", "pass_speedup",
                  "sc_default_threads_fit_s", "lr_default_threads_fit_s",
                  "sc_over_lr_default_threads"]


def thread_table(thread_rows):
    """Markdown: pass speed-up on 2 threads; default-thread fits of both libraries."""
    lines = ["## Threads: one pass on 1 and 2 threads; fits with no thread limit (lbfgs, tol 1e-4)",
             "", "| problem | dtype | pass, 1 thread ms | pass, 2 threads ms | speed-up | "
             "SC fit, default threads s | LR fit, default threads s | SC / LR |",
             "|---|---|---|---|---|---|---|---|"]
    for r in thread_rows:
        lines.append(f"| {r['problem']} | {r['dtype']} | {_fmt(r['pass_1_thread_s'] * 1e3)} "
                     f"| {_fmt(r['pass_2_threads_s'] * 1e3)} | {_fmt(r['pass_speedup'])} "
                     f"| {_fmt(r['sc_default_threads_fit_s'])} "
                     f"| {_fmt(r['lr_default_threads_fit_s'])} "
                     f"| {_fmt(r['sc_over_lr_default_threads'])} |")
    return lines + [""]


def write_all(out, rows, traces, scaling_rows, env, thread_rows=()):
    """Write every results file into ``out`` (called after each problem)."""
    finalize(rows, traces)
    env["load_average_at_end"] = os.getloadavg()
    _write_csv(out / "results.csv", rows, COLUMNS)
    if scaling_rows:
        _write_csv(out / "scaling.csv", scaling_rows, SCALING_COLUMNS)
    if thread_rows:
        _write_csv(out / "threads.csv", thread_rows, THREAD_COLUMNS)
    with open(out / "traces.json", "w") as f:
        json.dump(traces, f)
    with open(out / "environment.json", "w") as f:
        json.dump(env, f, indent=1, default=str)
    text = markdown(rows, scaling_rows, env)
    if thread_rows:
        text += "\n" + "\n".join(thread_table(thread_rows))
    (out / "results.md").write_text(text)
