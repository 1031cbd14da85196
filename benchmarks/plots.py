"""Plots from a results folder (matplotlib, Agg): PNGs next to the CSVs.

    python benchmarks/plots.py [benchmarks/results]

- ``convergence.png``: relative objective gap against wall time, one panel
  per problem and dtype, one line per solver (the tight-tol traced fits);
- ``scaling.png``: fit time and time per pass against n on the medium model.
"""

import csv
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import NullFormatter  # noqa: E402

GAP_FLOOR = 1e-16  # gaps at or below this are drawn on the axis
TARGET_GAP = 1e-9


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _number(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return np.nan


def _label(library, solver):
    short = {"softmax_regression": "SC", "sklearn.LogisticRegression": "LR",
             "sklearn.SGDClassifier": "SGDClassifier"}.get(library, library)
    return f"{short} {solver}"


def plot_convergence(out):
    out = Path(out)
    traces = json.loads((out / "traces.json").read_text())
    rows = _read_csv(out / "results.csv")
    if not traces:
        return None
    best = {}
    for row in rows:
        value = _number(row["objective"])
        if np.isfinite(value):
            key = (row["problem"], row["dtype"])
            best[key] = min(best.get(key, np.inf), value)
    for tr in traces:
        key = (tr["problem"], tr["dtype"])
        best[key] = min([best.get(key, np.inf)] + [v for _, v in tr["points"]])
    panels = list(dict.fromkeys((tr["problem"], tr["dtype"]) for tr in traces))
    n_cols = 3
    n_rows = int(np.ceil(len(panels) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(5.2 * n_cols, 3.8 * n_rows),
                             squeeze=False)
    styles = {}
    for ax, key in zip(axes.ravel(), panels):
        for tr in (t for t in traces if (t["problem"], t["dtype"]) == key):
            points = np.array(tr["points"], dtype=float)
            t = points[:, 0]
            gap = np.minimum.accumulate(points[:, 1])
            gap = np.maximum((gap - best[key]) / abs(best[key]), GAP_FLOOR)
            label = _label(tr["library"], tr["solver"])
            style = styles.setdefault(label, dict(color=f"C{len(styles) % 10}",
                                                  ls="-" if len(styles) < 10 else "--"))
            ax.step(t, gap, where="post", label=label, marker=".", ms=3, lw=1.2, **style)
        ax.axhline(TARGET_GAP, color="grey", lw=0.8, ls=":")
        ax.set(xscale="log", yscale="log", title=f"{key[0]} ({key[1]})",
               xlabel="wall time since fit start (s)", ylabel="relative objective gap")
        ax.set_ylim(GAP_FLOOR / 3, None)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3, which="both", lw=0.4)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    handles = {h.get_label(): h for ax in axes.ravel() for h in ax.get_lines()
               if not h.get_label().startswith("_")}
    fig.legend(handles.values(), handles.keys(), loc="lower center",
               ncol=min(len(handles), 5), frameon=False)
    fig.suptitle("Objective gap to the best objective found on each problem, traced fits at "
                 "tol=1e-8 (dotted: 1e-9).  SC = SoftmaxClassifier, LR = LogisticRegression")
    fig.tight_layout(rect=(0, 0.06, 1, 0.97))
    path = out / "convergence.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_scaling(out):
    out = Path(out)
    if not (out / "scaling.csv").exists():
        return None
    rows = [r for r in _read_csv(out / "scaling.csv") if np.isfinite(_number(r["fit_time_s"]))]
    if not rows:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    series = dict.fromkeys((r["library"], r["solver"]) for r in rows)
    for i, key in enumerate(series):
        mine = [r for r in rows if (r["library"], r["solver"]) == key]
        n = np.array([_number(r["n_samples"]) for r in mine])
        seconds = np.array([_number(r["fit_time_s"]) for r in mine])
        passes = np.array([_number(r["passes"]) for r in mine])
        style = dict(color=f"C{i % 10}", ls="-" if i < 10 else "--", marker="o", ms=4)
        left.plot(n, seconds, label=_label(*key), **style)
        right.plot(n, seconds / passes, **style)
    floors = sorted({(_number(r["n_samples"]), _number(r["floor_s"])) for r in rows})
    fn, fs = np.array(floors).T
    right.plot(fn, fs, color="black", lw=2, ls=":", label="floor: X W^T + R^T X")
    left.plot(fn, fs * 100, color="grey", lw=1, ls=":", label="100 x floor")
    left.set(xscale="log", yscale="log", xlabel="n (training rows)", ylabel="fit time (s)",
             title="Fit time, medium model (d=100, K=10), float64, tol 1e-4")
    right.set(xscale="log", yscale="log", xlabel="n (training rows)",
              ylabel="seconds per pass (per epoch: stochastic)",
              title="Time per pass over the data")
    for ax in (left, right):
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.grid(alpha=0.3, which="both", lw=0.4)
    left.legend(fontsize=7, ncol=2)
    right.legend(fontsize=7)
    fig.tight_layout()
    path = out / "scaling.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_all(out):
    return [p for p in (plot_convergence(out), plot_scaling(out)) if p is not None]


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent / "results"
    for written in plot_all(folder):
        print(written)
