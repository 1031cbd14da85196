"""The command line as a user meets it: separate processes, exit status, stderr.

Every case runs ``python -m softmax_regression ...`` in its own process (a few
under a wrapper that hides pandas and matplotlib, or makes a fit fail). Each
process costs an import of scikit-learn, so they run three at a time in one
module fixture, and only for the cases that issue 18 names plus the commands'
dispatch; the other messages are checked in process by ``test_compare.py``.
"""

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import sklearn

SKLEARN_DATA = Path(sklearn.__file__).parent / "datasets" / "data"
EXTRA = 'pip install "softmax_regression[compare]"'
FAST = ["--solvers", "lbfgs"]

# Run as `python wrapper.py ARGS`: the same as `python -m softmax_regression ARGS`
# after the wrapper's preparation.
_RUN_MODULE = """
import runpy
sys.argv = ["python -m softmax_regression", *sys.argv[1:]]
runpy.run_module("softmax_regression", run_name="__main__", alter_sys=True)
"""

WRAPPERS = {
    # An interpreter without the [compare] extra, without uninstalling anything.
    "no_extra.py": """
import sys

class HideExtra:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {"pandas", "matplotlib"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HideExtra())
""",
    # A solver that fails with a two-line message.
    "failing_fit.py": """
import sys
from softmax_regression import _estimator

def fit(self, X, y):
    raise ValueError("The solver overflowed.\\nA second line.")

_estimator.SoftmaxClassifier.fit = fit
""",
}

FILES = {
    "empty.csv": "",
    "header_only.csv": "a,b,label\n",
    "continuous.csv": "a,y\n" + "".join(f"{i},{i + 0.5}\n" for i in range(40)),
    "free_text.csv": "a,y\n" + "".join(
        f"{i},customer {i} wrote that the parcel arrived late and damaged\n"
        for i in range(400)),
    "single.csv": "a,y\n" + "".join(f"{i},yes\n" for i in range(30)),
    "gaps.csv": "a,color,y\n" + "".join(
        f"{'' if i == 4 else i},{'' if i == 6 else 'rgb'[i % 3]},{'' if i in (1, 2) else 'ab'[i % 2]}\n"
        for i in range(40)),
}


@dataclass
class Case:
    argv: list
    wrapper: str = None


CASES = {
    "help": Case(["--help"]),
    "h": Case(["-h"]),
    "no command": Case([]),
    "unknown command": Case(["fit"]),
    "compare help": Case(["compare", "--help"]),
    "iris": Case(["compare", "--dataset", "iris", "--solvers", "sgd"]),
    "iris again": Case(["compare", "--dataset", "iris", "--solvers", "sgd"]),
    "--C 0": Case(["compare", "--C", "0"]),
    "--dataset and --csv": Case(["compare", "--dataset", "iris", "--csv", "gaps.csv",
                                 "--target", "y"]),
    "directory": Case(["compare", "--csv", "folder", "--target", "y"]),
    "empty file": Case(["compare", "--csv", "empty.csv", "--target", "y"]),
    "header only": Case(["compare", "--csv", "header_only.csv", "--target", "label"]),
    "continuous target": Case(["compare", "--csv", "continuous.csv", "--target", "y"]),
    "free-text target": Case(["compare", "--csv", "free_text.csv", "--target", "y"]),
    "single class": Case(["compare", "--csv", "single.csv", "--target", "y"]),
    "gaps": Case(["compare", "--csv", "gaps.csv", "--target", "y", *FAST]),
    "wine_data.csv": Case(["compare", "--csv", str(SKLEARN_DATA / "wine_data.csv"),
                           "--target", "target", *FAST]),
    "breast_cancer.csv": Case(["compare", "--csv", str(SKLEARN_DATA / "breast_cancer.csv"),
                               "--target", "target", *FAST]),
    "fit fails": Case(["compare", "--dataset", "iris", *FAST], "failing_fit.py"),
    "no extra: table": Case(["compare", "--dataset", "iris", *FAST], "no_extra.py"),
    "no extra: --csv": Case(["compare", "--csv", "gaps.csv", "--target", "y"], "no_extra.py"),
    "no extra: --plot": Case(["compare", "--dataset", "iris", *FAST, "--plot", "c.png"],
                             "no_extra.py"),
}


@dataclass
class Result:
    status: int
    out: str
    err: str


def _run(folder, case):
    if case.wrapper is None:
        command = [sys.executable, "-m", "softmax_regression", *case.argv]
    else:
        command = [sys.executable, case.wrapper, *case.argv]
    proc = subprocess.run(command, cwd=folder, capture_output=True, text=True, timeout=300)
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    (folder / "folder").mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
    for name, text in WRAPPERS.items():
        (folder / name).write_text(textwrap.dedent(text) + _RUN_MODULE)
    with ThreadPoolExecutor(max_workers=3) as pool:
        futures = {name: pool.submit(_run, folder, case) for name, case in CASES.items()}
        return {name: future.result() for name, future in futures.items()}


def assert_one_line(result, status, line):
    assert "Traceback" not in result.err
    assert (result.status, result.err) == (status, line + "\n")


@pytest.mark.parametrize("name", ["help", "h"])
def test_help_lists_the_commands(results, name):
    result = results[name]
    assert (result.status, result.err) == (0, "")
    assert result.out.startswith("usage: python -m softmax_regression <command> [options]\n")
    assert "\ncommands:\n  compare  fit SoftmaxClassifier and LogisticRegression on the same " \
           "data; print one table\n" in result.out


def test_no_command(results):
    assert_one_line(results["no command"], 2,
                    "usage: python -m softmax_regression <command> [options]; commands: "
                    "compare (see --help)")
    assert results["no command"].out == ""


def test_unknown_command(results):
    assert_one_line(results["unknown command"], 2,
                    "python -m softmax_regression: unknown command 'fit'; commands: compare "
                    "(see --help)")


def test_compare_help(results):
    result = results["compare help"]
    assert (result.status, result.err) == (0, "")
    for option in ("--dataset", "--csv PATH", "--target COLUMN", "--C C", "--solvers SOLVER",
                   "--tol TOL", "--max-iter N", "--random-state SEED", "--threads N",
                   "--plot FILE"):
        assert f"\n  {option}" in result.out
    assert "\nexit status:\n" in result.out


def test_table_and_sgd_rows_repeat_run_to_run(results):
    first, second = results["iris"], results["iris again"]
    assert (first.status, first.err, second.status, second.err) == (0, "", 0, "")

    def without_fit_time(out):
        rows = [line.split() for line in out.splitlines() if line.startswith("iris  ")]
        assert len(rows) == 2
        return [row[:4] + row[5:] for row in rows]

    assert without_fit_time(first.out) == without_fit_time(second.out)


@pytest.mark.parametrize("name, line", [
    ("--C 0", "compare: --C must be > 0 (inf for no penalty), got 0"),
    ("--dataset and --csv", "compare: --dataset and --csv cannot be combined: give one of them"),
], ids=["C-zero", "dataset-and-csv"])
def test_usage_errors(results, name, line):
    assert_one_line(results[name], 2, line)
    assert results[name].out == ""


@pytest.mark.parametrize("name, line", [
    ("directory", "folder: is a directory; give --csv the path of a CSV file in it"),
    ("empty file", "empty.csv: the file is empty; a CSV needs a header row and data rows"),
    ("header only", "header_only.csv: only a header row, no data rows; add rows below the header"),
    ("continuous target",
     "continuous.csv: target 'y' holds continuous numbers (40 distinct values, e.g. 0.5, "
     "1.5, 2.5); compare needs class labels: choose another column or bin this one into "
     "classes"),
    ("free-text target",
     "free_text.csv: target 'y' has 400 distinct labels in 400 rows (e.g. 'customer 0 wrote "
     "that the parcel arri...', 'customer 1 wrote that the parcel arri...', 'customer 10 "
     "wrote that the parcel arr...'): it looks like free text or an identifier, not a class "
     "label; choose a column with a few repeated values"),
    ("single class", "single.csv: target 'y' has one class ('yes', 30 rows); a classifier "
                     "needs at least two: choose another --target column"),
], ids=["directory", "empty-file", "header-only", "continuous-target", "free-text-target",
        "single-class"])
def test_data_errors(results, name, line):
    assert_one_line(results[name], 1, f"compare: {line}")
    assert results[name].out == ""


def test_rows_without_target_are_dropped_and_said(results):
    result = results["gaps"]
    assert (result.status, result.err) == (0, "")
    assert result.out.splitlines()[:5] == [
        "gaps.csv (target 'y'): 40 rows read, 38 used; dropped: 2 (no value in target 'y')",
        "  features (4 model inputs after encoding):",
        "    a: numeric, as is; 1 missing value(s) imputed with the median (21)",
        "    color: one-hot, 3 categories; 1 missing value(s) imputed with the most frequent "
        "('r')",
        "  classes (2, rows each): a 19, b 19",
    ]
    assert "\ngaps.csv  LogisticRegression(lbfgs)  " in result.out


@pytest.mark.parametrize("name, n_features, classes", [
    ("wine_data.csv", 13, "classes (3, rows each): class_1 71, class_0 59, class_2 48"),
    ("breast_cancer.csv", 30, "classes (2, rows each): benign 357, malignant 212"),
], ids=["wine_data.csv", "breast_cancer.csv"])
def test_scikit_learn_csv_files_keep_every_column(results, name, n_features, classes):
    result = results[name]
    assert (result.status, result.err) == (0, "")
    assert f"  features ({n_features} model inputs after encoding):\n" in result.out
    assert f"    numeric, as is ({n_features} columns): feature_0, " in result.out
    assert f"  {classes}\n" in result.out
    # The file name, not its path, in the dataset column.
    assert f"\n{name}  SoftmaxClassifier(lbfgs)  " in result.out
    assert str(SKLEARN_DATA) not in result.out


def test_fit_error_is_one_line(results):
    result = results["fit fails"]
    assert_one_line(result, 1, "compare: iris: SoftmaxClassifier(lbfgs) failed to fit: The "
                               "solver overflowed; try another --C or check the data")
    assert "LogisticRegression(lbfgs)  " not in result.out  # no table after a failed fit


def test_without_the_extra_the_table_still_works(results):
    result = results["no extra: table"]
    assert (result.status, result.err) == (0, "")
    assert "\niris     SoftmaxClassifier(lbfgs)  " in result.out


def test_without_the_extra_csv_names_it(results):
    assert_one_line(results["no extra: --csv"], 2,
                    f"compare: --csv needs pandas, which is not installed: {EXTRA}")
    assert results["no extra: --csv"].out == ""


def test_without_the_extra_plot_prints_the_table_then_names_it(results):
    result = results["no extra: --plot"]
    assert_one_line(result, 2,
                    f"compare: --plot needs matplotlib, which is not installed: {EXTRA}")
    assert "\niris     SoftmaxClassifier(lbfgs)  " in result.out
    assert "convergence picture" not in result.out


def test_closed_output_pipe_is_quiet(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "softmax_regression", "compare", "--dataset", "iris", *FAST],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # like `compare | head -0`: the first print meets a closed pipe
    err = proc.stderr.read()
    assert (proc.wait(timeout=120), err) == (1, "")
