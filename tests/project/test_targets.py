"""benchmarks/targets.py turns a results table into measured ratios."""

import csv
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def targets():
    spec = importlib.util.spec_from_file_location("targets", ROOT / "benchmarks" / "targets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _row(library, solver, dtype, tol_setting, seconds, objective, time_to_target=""):
    return dict(library=library, solver=solver, problem="medium", dtype=dtype,
                tol_setting=tol_setting, fit_time_median_s=seconds, objective=objective,
                time_to_target_s=time_to_target, peak_memory_mb=1.0, pass_cost_over_floor=1.1,
                n_samples=1000, n_features=10, n_classes=3)


def _table_rows(tmp_path, targets, rows):
    """The float64 and float32 lines of targets.py's table of ``rows``, split into cells."""
    with open(tmp_path / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    lines = targets.table(targets.load(tmp_path)).splitlines()
    return lines[2].split("|"), lines[3].split("|")


def test_ratios(tmp_path, targets):
    rows = [
        _row("softmax_regression", "lbfgs", "float64", "default", 1.0, 0.5),
        _row("sklearn.LogisticRegression", "lbfgs", "float64", "default", 4.0, 0.6),
        _row("softmax_regression", "lbfgs", "float32", "default", 0.25, 0.5),
        _row("sklearn.LogisticRegression", "lbfgs", "float32", "default", 1.0, 0.4),
        _row("softmax_regression", "newton-cg", "float64", "tight", 1.0, 0.5, 1.0),
        _row("sklearn.LogisticRegression", "saga", "float64", "tight", 3.0, 0.5, 3.0),
    ]
    f64, f32 = _table_rows(tmp_path, targets, rows)
    assert f64[4].strip() == "0.25 (met)" and f64[5].strip() == "yes"
    assert f64[6].strip() == "0.33 (met)"
    assert f32[4].strip() == "0.25 (met)" and f32[5].strip().startswith("no (+2.5e-01)")
    assert f32[7].strip() == "4.00 (met)"
    assert f64[3].strip() == "1.10 (met)"


def test_the_default_column_is_solver_auto_held_to_1e7(tmp_path, targets):
    rows = [
        _row("softmax_regression", "lbfgs", "float64", "default", 1.0, 0.5),
        _row("softmax_regression", "auto", "float64", "default", 3.0, 0.60000005),
        _row("sklearn.LogisticRegression", "lbfgs", "float64", "default", 4.0, 0.6),
        _row("softmax_regression", "lbfgs", "float32", "default", 1.0, 0.5),
        _row("softmax_regression", "auto", "float32", "default", 1.0, 0.6001),
        _row("sklearn.LogisticRegression", "lbfgs", "float32", "default", 4.0, 0.6),
    ]
    f64, f32 = _table_rows(tmp_path, targets, rows)
    # auto's time and objective, not lbfgs's: 8e-8 above LR's is within 1e-7.
    assert f64[4].strip() == "0.75 (not met)" and f64[5].strip() == "yes"
    assert f32[4].strip() == "0.25 (met)" and f32[5].strip() == "no (+1.7e-04)"
