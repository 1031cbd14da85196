"""The command line as a user meets it: separate processes, exit status, stderr.

Every case runs ``python -m softmax_regression ...`` in its own process (a few
under a wrapper that hides pandas and matplotlib, or makes a fit fail). Each
process costs an import of scikit-learn, so they run three at a time in one
module fixture, and only for the cases that issue 18 names plus the commands'
dispatch; the other messages are checked in process by ``test_compare.py``.
"""

import gzip
import lzma
import os
import re
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


def _csv_bytes(n_rows=200):
    return ("a,b,label\n" + "".join(f"{i % 7},{i % 5},{'xy'[i % 2]}\n"
                                     for i in range(n_rows))).encode()


def _bad_crc(data):
    data = bytearray(data)
    data[-8] ^= 0xFF  # the trailer's CRC-32
    return bytes(data)


def binary_files():
    """Damaged, binary and unusual files, made when the module runs (issue 23)."""
    wine = (SKLEARN_DATA / "wine_data.csv").read_bytes()
    gz, xz = gzip.compress(_csv_bytes(4000)), lzma.compress(_csv_bytes(4000))
    return {
        "truncated.csv.gz": gz[: len(gz) // 2],
        "bad_crc.csv.gz": _bad_crc(gz),
        "truncated.csv.xz": xz[: len(xz) // 2],
        "truncated_wine.csv.gz": gzip.compress(wine)[:2000],
        "binary.csv": b"PK\x03\x04" + bytes(4096),
        "long_line.csv": b"a" * (2**24 + 1),
        "wide_int.csv": ("a,b,label\n" + "".join(
            f"{123456789012345678901234567890 if i == 3 else i},{i % 3},{'xy'[i % 2]}\n"
            for i in range(40))).encode(),
        "chinese.csv": ("a,b,label\n" + "".join(
            f"{i % 7},{i % 5},{'中文' if i % 2 else '英文'}\n" for i in range(40))).encode(),
        "piped.csv": _csv_bytes(),
    }


@dataclass
class Case:
    argv: list
    wrapper: str = None
    env: dict = None  # added to the environment
    stdin: str = None  # a file of the folder written into a pipe on stdin


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
    "truncated gz": Case(["compare", "--csv", "truncated.csv.gz", "--target", "label"]),
    "bad crc gz": Case(["compare", "--csv", "bad_crc.csv.gz", "--target", "label"]),
    "truncated xz": Case(["compare", "--csv", "truncated.csv.xz", "--target", "label"]),
    "truncated scikit-learn gz": Case(["compare", "--csv", "truncated_wine.csv.gz",
                                       "--target", "target"]),
    "binary": Case(["compare", "--csv", "binary.csv", "--target", "label"]),
    "dev zero": Case(["compare", "--csv", "/dev/zero", "--target", "label"]),
    "long line": Case(["compare", "--csv", "long_line.csv", "--target", "label"]),
    "wide integer": Case(["compare", "--csv", "wide_int.csv", "--target", "label", *FAST]),
    "cp1252 output": Case(["compare", "--csv", "chinese.csv", "--target", "label", *FAST],
                          env={"PYTHONIOENCODING": "cp1252"}),
    "pipe": Case(["compare", "--csv", "/dev/stdin", "--target", "label", *FAST],
                 stdin="piped.csv"),
    "binary pipe": Case(["compare", "--csv", "/dev/stdin", "--target", "label"],
                        stdin="binary.csv"),
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
    env = None if case.env is None else {**os.environ, **case.env}
    # input= writes through a pipe: the reader cannot seek back in it.
    data = None if case.stdin is None else (folder / case.stdin).read_bytes()
    proc = subprocess.run(command, cwd=folder, capture_output=True, timeout=300, env=env,
                          input=data)
    encoding = (case.env or {}).get("PYTHONIOENCODING", "utf-8")
    return Result(proc.returncode, proc.stdout.decode(encoding), proc.stderr.decode(encoding))


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    (folder / "folder").mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text)
    for name, data in binary_files().items():
        (folder / name).write_bytes(data)
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
                    f"compare: --csv requires pandas: {EXTRA}")
    assert results["no extra: --csv"].out == ""


def test_without_the_extra_plot_prints_the_table_then_names_it(results):
    result = results["no extra: --plot"]
    assert_one_line(result, 2,
                    f"compare: --plot requires matplotlib: {EXTRA}")
    assert "\niris     SoftmaxClassifier(lbfgs)  " in result.out
    assert "convergence picture" not in result.out


def test_closed_output_pipe_is_quiet(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-m", "softmax_regression", "compare", "--dataset", "iris", *FAST],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proc.stdout.close()  # like `compare | head -0`: the first print meets a closed pipe
    err = proc.stderr.read()
    assert (proc.wait(timeout=120), err) == (1, "")


# -- the CSV reader on damaged, binary, endless and piped input (issue 23) ---------------------
@pytest.mark.parametrize("name, status, line", [
    ("truncated gz", 1, "truncated.csv.gz: the gz file is damaged or truncated (Compressed file "
                        "ended before the end-of-stream marker was reached); compress the CSV "
                        "again, or give the uncompressed file"),
    ("bad crc gz", 1, "bad_crc.csv.gz: the gz file is damaged or truncated (CRC check failed "
                      "0x{crc} != 0x{crc}); compress the CSV again, or give the uncompressed "
                      "file"),
    ("truncated xz", 1, "truncated.csv.xz: the xz file is damaged or truncated (Compressed file "
                        "ended before the end-of-stream marker was reached); compress the CSV "
                        "again, or give the uncompressed file"),
    ("truncated scikit-learn gz", 1,
     "truncated_wine.csv.gz: the gz file is damaged or truncated (Compressed file ended before "
     "the end-of-stream marker was reached); compress the CSV again, or give the uncompressed "
     "file"),
    ("binary", 1, "binary.csv: not a text CSV file (it holds NUL bytes, as binary files do); "
                  "give --csv a CSV file (.csv, or .csv.gz/.bz2/.xz)"),
    ("dev zero", 1, "zero: not a text CSV file (it holds NUL bytes, as binary files do); give "
                    "--csv a CSV file (.csv, or .csv.gz/.bz2/.xz)"),
    ("long line", 1, "long_line.csv: a line longer than 16 MiB; this is not a CSV file of rows "
                     "(or its lines are not separated by newlines)"),
    ("binary pipe", 1, "stdin: not a text CSV file (it holds NUL bytes, as binary files do); "
                       "give --csv a CSV file (.csv, or .csv.gz/.bz2/.xz)"),
], ids=["truncated-gz", "bad-crc-gz", "truncated-xz", "truncated-scikit-learn-gz", "binary",
        "dev-zero", "long-line", "binary-pipe"])
def test_damaged_binary_and_endless_files_are_one_line(results, name, status, line):
    result = results[name]
    assert "Traceback" not in result.err
    assert result.status == status and result.out == ""
    assert result.err.count("\n") == 1
    # The CRC values differ from run to run of gzip's header: matched as hex.
    pattern = re.escape(f"compare: {line}\n").replace(re.escape("0x{crc}"), "0x[0-9a-f]+")
    assert re.fullmatch(pattern, result.err), result.err


def test_a_csv_read_from_a_pipe_is_compared(results):
    result = results["pipe"]
    assert (result.status, result.err) == (0, "")
    assert result.out.startswith("stdin (target 'label'): 200 rows read, 200 used\n")
    assert re.search(r"\nstdin +SoftmaxClassifier\(lbfgs\) ", result.out)


def test_an_integer_wider_than_64_bits_is_a_number(results):
    result = results["wide integer"]
    assert (result.status, result.err) == (0, "")
    assert "\n  features (2 model inputs after encoding):\n" in result.out
    assert "one-hot" not in result.out


def test_labels_the_output_encoding_cannot_show_are_escaped(results):
    result = results["cp1252 output"]
    assert "Traceback" not in result.err
    assert (result.status, result.err) == (0, "")
    assert "classes (2, rows each): \\u4e2d\\u6587 20, \\u82f1\\u6587 20" in result.out
