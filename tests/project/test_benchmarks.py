"""Smoke test of the benchmark suite in benchmarks/ (no timing assertions)."""

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.metrics import log_loss

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from objective import objective  # noqa: E402

EXPECTED_COLUMNS = {
    "library", "solver", "problem", "dtype", "tol", "fit_time_median_s", "fit_time_min_s",
    "fit_time_max_s", "iterations", "evaluations", "hessian_products", "objective",
    "objective_rel_gap", "time_to_target_s", "test_accuracy", "test_log_loss",
    "peak_memory_mb", "floor_s", "pass_cost_over_floor",
}


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@pytest.mark.slow
def test_quick_run_writes_a_row_per_solver(tmp_path):
    # A hang guard only: --quick takes well under two minutes.
    subprocess.run(
        [sys.executable, str(BENCHMARKS / "run.py"), "--quick", "--output", str(tmp_path)],
        check=True, timeout=600, capture_output=True, text=True,
    )
    with open(tmp_path / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert EXPECTED_COLUMNS <= set(rows[0])

    import bench_sklearn_logistic
    import bench_sklearn_sgd
    import bench_softmax_regression

    expected = {
        (module.LIBRARY, solver)
        for module in (bench_softmax_regression, bench_sklearn_logistic, bench_sklearn_sgd)
        for solver in module.solvers()
    }
    assert {(r["library"], r["solver"]) for r in rows} == expected
    fitted = [r for r in rows if not r["note"].startswith("skipped")]
    assert fitted and all(r["objective"] and np.isfinite(float(r["objective"])) for r in fitted)
    assert all(float(r["objective_rel_gap"]) >= 0 for r in fitted)
    assert {r["tol"] for r in rows} == {"0.0001", "1e-08"}
    for name in ["results.md", "traces.json", "scaling.csv", "convergence.png", "scaling.png"]:
        assert (tmp_path / name).stat().st_size > 0


@pytest.mark.parametrize("C, l1_ratio", [(0.5, 0.0), (2.0, 0.3), (np.inf, 0.0)])
def test_objective_matches_log_loss_plus_penalty(C, l1_ratio):
    rng = np.random.default_rng(0)
    n, d, k = 40, 5, 3
    X = rng.standard_normal((n, d))
    y = np.arange(n) % k
    W = rng.standard_normal((k, d))
    b = rng.standard_normal(k)
    total = log_loss(y, _softmax(X @ W.T + b), normalize=False)
    if np.isfinite(C):
        total += (1 - l1_ratio) / (2 * C) * np.sum(W**2) + l1_ratio / C * np.abs(W).sum()
    expected = total / n
    assert objective(X, y, W, b, C=C, l1_ratio=l1_ratio) == pytest.approx(expected, rel=1e-12)
    # float32 and sparse inputs are scored in float64 too.
    assert objective(sp.csr_matrix(X), y, W, b, C=C, l1_ratio=l1_ratio) == pytest.approx(
        expected, rel=1e-12
    )
    assert objective(X.astype(np.float32), y, W, b, C=C, l1_ratio=l1_ratio) == pytest.approx(
        expected, rel=1e-6
    )


def test_objective_binary_is_softmax_over_zero_and_z():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((30, 4))
    y = (rng.random(30) < 0.4).astype(int)
    w = rng.standard_normal((1, 4))
    b = np.array([0.3])
    p1 = 1 / (1 + np.exp(-(X @ w[0] + b[0])))
    expected = (log_loss(y, np.column_stack([1 - p1, p1]), normalize=False)
                + np.sum(w**2) / (2 * 1.5)) / 30
    assert objective(X, y, w, b, C=1.5) == pytest.approx(expected, rel=1e-12)


def test_objective_is_stable_for_huge_logits():
    X = np.array([[1.0], [-1.0]])
    W = np.array([[1e4], [0.0], [-1e4]])
    value = objective(X, np.array([2, 0]), W, np.zeros(3), C=np.inf)
    assert value == pytest.approx(2e4, rel=1e-12)


def test_objective_matches_the_loss_curve_of_softmax_classifier():
    from sklearn.datasets import load_iris
    from sklearn.preprocessing import StandardScaler

    from softmax_regression import SoftmaxClassifier

    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = SoftmaxClassifier(C=0.7, tol=1e-10, max_iter=1000).fit(X, y)
    value = objective(X, y, clf.coef_, clf.intercept_, C=0.7)
    assert value == pytest.approx(clf.loss_curve_[-1], rel=1e-8)


@pytest.mark.slow
def test_cv_speed_reports_each_problem_with_the_commit():
    import cv_speed

    rows, blas = cv_speed.run(quick=True, repeats=1, skip_medium=True)
    assert [row[0] for row in rows] == ["wine", "digits"]
    for _, _, Cs, _, seconds, ratios, chosen in rows:
        assert set(seconds) == set(chosen) == {"SoftmaxClassifierCV", "LogisticRegressionCV",
                                               "GridSearchCV(SoftmaxClassifier)"}
        assert all(value > 0 for value in [*seconds.values(), *ratios.values()])
        # Each contestant's choice is one of the grid's values.
        assert all(np.isclose(C, cv_speed.SMALL_CS).any() for C in chosen.values())
    text = cv_speed.report(rows, blas, "python benchmarks/cv_speed.py --quick")
    assert "| wine | 178 x 13 |" in text and "| digits | 1797 x 64 |" in text
    # A ratio below its target with another C_ than LogisticRegressionCV's is not met.
    name, shape, Cs, repeats, seconds, ratios, chosen = rows[0]
    other = dict(chosen, LogisticRegressionCV=chosen["SoftmaxClassifierCV"] * 10)
    fast = dict(ratios, LogisticRegressionCV=0.01)
    text = cv_speed.report([(name, shape, Cs, repeats, seconds, fast, other)], blas, "x")
    assert "| 0.01x (not met) |" in text and "(different) |" in text
    assert "softmax_regression from git " in text and "from git unknown" not in text


@pytest.mark.slow
def test_cv_diagonal_reports_both_starts_with_the_commit():
    import cv_diagonal

    rows = cv_diagonal.run(quick=True)
    assert [(row[0], row[1]) for row in rows] == [
        ("wine", "standardized"), ("wine", "unscaled"), ("wine", "[0, 1]")]
    for _, _, tol, plain, scaled in rows:
        assert tol == 1e-4 and plain[1] > 0 and scaled[1] > 0
    # Unscaled wine: the identity serves the intercepts and the weights badly.
    assert rows[1][4][1] < 0.6 * rows[1][3][1]
    text = cv_diagonal.report(rows, "python benchmarks/cv_diagonal.py --quick")
    assert "| wine | unscaled | 0.0001 |" in text
    assert "softmax_regression from git " in text and "from git unknown" not in text


@pytest.mark.slow
def test_default_path_reports_method_passes_and_the_commit(tmp_path):
    import default_path

    default_path.main(["--quick", "--repeats", "1", "--problems", "digits,medium",
                       "--output", str(tmp_path)])
    text = (tmp_path / "default_path_quick.md").read_text()
    rows = [line for line in text.splitlines() if line.startswith("| digits") or
            line.startswith("| medium")]
    assert len(rows) == 4  # two problems, float64 and float32
    for line in rows:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        assert cells[4] in {"newton-exact", "newton-cg-sampled", "lbfgs"}
        assert float(cells[6]) >= float(cells[5]) > 0  # pass-equivalents >= iterations
    assert "Commit " in text and "Made by `benchmarks/default_path.py`" in text


def test_the_documented_default_path_table_is_the_committed_run():
    import re

    root = Path(__file__).resolve().parents[2]
    committed = (root / "benchmarks/results/default_path.md").read_text()
    page = (root / "docs/benchmarks.md").read_text()
    section = page.split("## The default path", 1)[1].split("## ", 1)[0]

    def rows(text):
        return [re.sub(r"\(<= [0-9.]+: (met|not met)\)", r"(\1)", line)
                for line in text.splitlines()
                if line.startswith("| ") and not line.startswith("| problem")
                and "L1, C=0.1" not in line]

    assert rows(section) == rows(committed) and len(rows(committed)) >= 12
    commit = re.search(r"Commit (\w+);", committed).group(1)
    assert f"commit {commit}" in section


def _default_path_ratios():
    """``{(problem, dtype): (time / LR, objective vs LR)}`` of the committed default-path run."""
    import re

    root = Path(__file__).resolve().parents[2]
    ratios = {}
    for line in (root / "benchmarks/results/default_path.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 10 and cells[1] in ("float64", "float32"):
            time_ratio = float(re.match(r"[0-9.]+", cells[8]).group())
            ratios[cells[0], cells[1]] = (time_ratio, float(re.match(r"[-+0-9.e]+", cells[9]).group()))
    return ratios


def _span(values):
    low, high = min(values), max(values)
    return f"{low:.2f}x" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}x to {high:.2f}x"


def test_the_readme_quotes_the_committed_default_path_run():
    root = Path(__file__).resolve().parents[2]
    readme = " ".join((root / "README.md").read_text().split())
    ratios = _default_path_ratios()

    def span(*problems):
        return _span([time for (name, _), (time, _) in ratios.items() if name in problems])

    for claim in (f"on the 500,000-row problem it takes {span('tall')} its time",
                  f"on the 100,000-row one {span('medium')}",
                  f"on iris, wine and breast_cancer {span('iris', 'wine', 'breast_cancer')}",
                  f"on digits it takes {span('digits')}",
                  f"on the sparse problem {span('sparse')}"):
        assert claim in readme, claim


def test_the_readme_quotes_the_committed_cv_run():
    import re

    root = Path(__file__).resolve().parents[2]
    readme = " ".join((root / "README.md").read_text().split())
    ratios = {}
    for line in (root / "benchmarks/results/cv_speed.md").read_text().splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 10 and cells[0] in ("wine", "digits", "medium"):
            ratios[cells[0]] = float(re.match(r"[0-9.]+", cells[7]).group())
    assert set(ratios) == {"wine", "digits", "medium"}
    small = _span([ratios["wine"], ratios["digits"]])
    claim = (f"in {small} `LogisticRegressionCV`'s time on wine and digits, "
             f"{ratios['medium']:.2f}x on 100,000 rows")
    assert claim in readme, claim


def test_the_cv_page_quotes_the_committed_cv_run():
    import re

    root = Path(__file__).resolve().parents[2]
    committed = (root / "benchmarks/results/cv_speed.md").read_text()
    page = (root / "docs/user_guide/cv.md").read_text()
    commit = re.search(r"softmax_regression from git (\w+)", committed).group(1)
    assert f"commit {commit}" in page
    quoted = {}
    for line in page.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 8 and cells[0] in ("wine", "digits", "medium"):
            quoted[cells[0]] = (cells[6], cells[7])
    for line in committed.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) == 10 and cells[0] in ("wine", "digits", "medium"):
            assert quoted.pop(cells[0]) == (cells[7], cells[8]), cells[0]
    assert not quoted
