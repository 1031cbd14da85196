"""The ``compare`` command, in process: options, messages, what it reads and prints.

The same behaviour as seen from a separate process (exit status, one line on
stderr, no traceback) is in ``test_cli.py``.
"""

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
import sklearn
from sklearn.datasets import load_breast_cancer, load_iris, load_wine

from softmax_regression._cli.compare import compare_on, main
from softmax_regression._cli.csv_reader import read_csv

SKLEARN_DATA = Path(sklearn.__file__).parent / "datasets" / "data"
FAST = ["--solvers", "lbfgs"]


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def assert_fails(capsys, argv, status, message):
    """``main(argv)`` returns ``status`` and prints exactly ``compare: message``."""
    got, out, err = run(capsys, *argv)
    assert (got, err) == (status, f"compare: {message}\n")
    return out


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def two_class_rows(n, extra=""):
    """CSV rows ``i,<extra>label`` with labels alternating a/b."""
    return "".join(f"{i},{extra}{'ab'[i % 2]}\n" for i in range(n))


# ------------------------------------------------------------------ results


def test_compare_one_dataset(capsys):
    status, out, err = run(capsys, "--dataset", "iris", "--C", "0.5")
    assert (status, err) == (0, "")
    assert "C=0.5, tol=0.0001, random_state=0" in out
    for model in ("LogisticRegression(lbfgs)", "SoftmaxClassifier(lbfgs)",
                  "SoftmaxClassifier(newton-cg)", "SoftmaxClassifier(sgd)"):
        assert re.search(rf"^iris +{re.escape(model)} ", out, re.M)


def test_compare_rows_agree_with_logistic_regression():
    X, y = load_wine(return_X_y=True)
    rows = compare_on("wine", X, y, C=1.0, solvers=["lbfgs", "newton-cg"], tol=1e-10,
                      max_iter=10000)
    assert [r.model for r in rows][0] == "LogisticRegression(lbfgs)"
    for row in rows[1:]:
        assert row.max_proba_diff < 1e-5
        assert row.accuracy == rows[0].accuracy
        assert row.log_loss == pytest.approx(rows[0].log_loss, rel=1e-4)


def test_bundled_summary_before_the_table(capsys):
    status, out, _ = run(capsys, "--dataset", "iris", *FAST)
    assert status == 0
    assert out.splitlines()[:4] == [
        "iris (scikit-learn's load_iris()): 150 rows read, 150 used",
        "  features (4 model inputs after encoding):",
        "    numeric, as is (4 columns): sepal length (cm), sepal width (cm), "
        "petal length (cm), petal width (cm)",
        "  classes (3, rows each): setosa 50, versicolor 50, virginica 50",
    ]
    assert out.index("classes (3") < out.index("LogisticRegression(lbfgs)")


def test_many_classes_and_columns_are_summarized(capsys):
    status, out, _ = run(capsys, "--dataset", "digits", *FAST)
    assert status == 0
    assert "    numeric, as is (64 columns): pixel_0_0, pixel_0_1, " in out
    assert "pixel_1_1, ... (54 more)\n" in out
    assert "  classes (10, rows each): 3 183, 1 182, 5 182, 4 181, 6 181, 9 180, 7 179, " \
           "0 178, 2 177, 8 174\n" in out


def test_max_iter_reached_is_marked(capsys):
    status, out, _ = run(capsys, "--dataset", "iris", *FAST, "--max-iter", "2")
    assert status == 0
    assert re.search(r"SoftmaxClassifier\(lbfgs\) .* 2\*  ", out)
    assert out.rstrip().endswith("* reached --max-iter before --tol")


def test_sgd_is_seeded(capsys):
    def sgd_row(seed):
        status, out, _ = run(capsys, "--dataset", "wine", "--solvers", "sgd",
                             "--random-state", seed)
        assert status == 0
        line = next(line for line in out.splitlines() if "SoftmaxClassifier(sgd)" in line)
        fields = line.split()
        return fields[2:4] + fields[5:]  # everything but the fit time

    assert sgd_row(0) == sgd_row(0)
    assert sgd_row(0) != sgd_row(3)


def test_repeated_names_run_once(capsys):
    status, out, _ = run(capsys, "--dataset", "iris", "--dataset", "iris",
                         "--solvers", "lbfgs", "lbfgs")
    assert status == 0
    assert out.count("SoftmaxClassifier(lbfgs)") == 1
    assert out.count("iris (scikit-learn's") == 1


def test_compare_plot(tmp_path, capsys):
    path = tmp_path / "convergence.png"
    status, out, err = run(capsys, "--dataset", "iris", *FAST, "--plot", path)
    assert (status, err) == (0, "")
    assert path.stat().st_size > 10_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert out.rstrip().endswith(f"convergence picture written to {path}")


def test_plot_that_cannot_be_written(tmp_path, capsys, monkeypatch):
    import matplotlib.figure

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", refuse)
    path = tmp_path / "c.png"
    out = assert_fails(capsys, ["--dataset", "iris", *FAST, "--plot", path], 1,
                       f"--plot {path}: cannot write (Permission denied)")
    assert "SoftmaxClassifier(lbfgs)" in out  # the table came first


def test_fit_error_is_one_line(capsys, monkeypatch):
    from softmax_regression import _estimator

    def overflow(self, X, y):
        raise ValueError("The solver overflowed.\nSecond line of detail.")

    monkeypatch.setattr(_estimator.SoftmaxClassifier, "fit", overflow)
    assert_fails(capsys, ["--dataset", "iris", *FAST], 1,
                 "iris: SoftmaxClassifier(lbfgs) failed to fit: The solver overflowed; "
                 "try another --C or check the data")


# ------------------------------------------------------------------ usage errors (2)


@pytest.mark.parametrize("argv, message", [
    (["--dataset", "iris", "--csv", "x.csv", "--target", "y"],
     "--dataset and --csv cannot be combined: give one of them"),
    (["--target", "y"], "--target needs --csv PATH (the bundled datasets have their targets)"),
    (["--csv", "x.csv"], "--csv needs --target COLUMN, the column with the class labels"),
    (["--C", "0"], "--C must be > 0 (inf for no penalty), got 0"),
    (["--C", "-1"], "--C must be > 0 (inf for no penalty), got -1"),
    (["--C", "nan"], "--C must be > 0 (inf for no penalty), got nan"),
    (["--C", "1e-320"], "--C 1e-320 is too small (1/C overflows); give C >= 1e-300"),
    (["--C", "abc"], "argument --C: invalid float value: 'abc' (see --help)"),
    (["--tol", "-1"], "--tol must be a finite number >= 0, got -1"),
    (["--tol", "inf"], "--tol must be a finite number >= 0, got inf"),
    (["--max-iter", "0"], "--max-iter must be >= 1, got 0"),
    (["--max-iter", "2.5"], "argument --max-iter: invalid int value: '2.5' (see --help)"),
    (["--threads", "0"], "--threads must be >= 1, got 0"),
    (["--random-state", "-1"], "--random-state must be in [0, 2**32), got -1"),
    (["--solvers"], "argument --solvers: expected at least one argument (see --help)"),
    (["--bogus"], "unrecognized arguments: --bogus (see --help)"),
    (["iris"], "unrecognized arguments: iris (see --help)"),
], ids=["dataset-and-csv", "target-without-csv", "csv-without-target", "C-zero", "C-negative",
        "C-nan", "C-underflow", "C-not-a-number", "tol-negative", "tol-inf", "max-iter-zero",
        "max-iter-float", "threads-zero", "random-state-negative", "solvers-empty",
        "unknown-option", "stray-argument"])
def test_usage_errors(capsys, argv, message):
    out = assert_fails(capsys, argv, 2, message)
    assert out == ""


@pytest.mark.parametrize("option, value", [("--dataset", "mnist"), ("--solvers", "saga")])
def test_unknown_choice(capsys, option, value):
    status, out, err = run(capsys, option, value)
    assert (status, out) == (2, "")
    # The quoting of the choices differs between Python versions.
    assert re.fullmatch(
        rf"compare: argument {option}: invalid choice: '{value}' \(choose from [^\n]+\) "
        r"\(see --help\)\n", err)


def test_plot_path_errors(tmp_path, capsys):
    assert_fails(capsys, ["--plot", tmp_path / "no" / "c.png"], 2,
                 f"--plot {tmp_path / 'no' / 'c.png'}: folder {str(tmp_path / 'no')!r} does "
                 "not exist; create it first")
    assert_fails(capsys, ["--plot", tmp_path], 2,
                 f"--plot {tmp_path}: is a folder; give a file name such as "
                 f"{tmp_path / 'convergence.png'}")
    status, _, err = run(capsys, "--plot", tmp_path / "c.xyz")
    assert status == 2
    assert err.startswith(f"compare: --plot {tmp_path / 'c.xyz'}: unknown picture format "
                          "'xyz'; end the name with one of ")
    assert ".png" in err and ".svg" in err and err.count("\n") == 1


def test_help_documents_every_option(capsys):
    from softmax_regression._cli.compare import build_parser

    status, out, err = run(capsys, "--help")
    assert (status, err) == (0, "")
    actions = build_parser()._actions
    assert len(actions) == 11
    for action in actions:
        assert action.help, action.option_strings
        # Each option starts a line of the help, followed by its text.
        assert re.search(rf"^  {re.escape(', '.join(action.option_strings))}\b", out, re.M)
        assert action.help.split()[0] in out
    for text in ("exit status:", "what it prints:", 'pip install "softmax_regression[compare]"'):
        assert text in out


# ------------------------------------------------------------------ CSV: what it reads


def mixed_csv(folder):
    """120 rows: a numeric and a text feature with one gap each, two rows without a label."""
    rng = np.random.default_rng(0)
    n = 120
    color = rng.choice(["red", "green", "blue"], size=n).astype(object)
    color[3] = None
    size = rng.standard_normal(n)
    size[5] = np.nan
    label = np.where(size > 0.3, "big", np.where(color == "red", "red-ish", "other"))
    label = label.astype(object)
    label[[7, 9]] = None
    lines = ["size,color,label"] + [
        f"{'' if np.isnan(s) else s},{c or ''},{lab or ''}" for s, c, lab in zip(size, color, label)
    ]
    return write(folder, "data.csv", "\n".join(lines) + "\n")


def test_csv_says_what_it_read(tmp_path, capsys):
    path = mixed_csv(tmp_path)
    status, out, err = run(capsys, "--csv", path, "--target", "label", *FAST)
    assert (status, err) == (0, "")
    assert out.splitlines()[:5] == [
        "data.csv (target 'label'): 120 rows read, 118 used; dropped: 2 (no value in "
        "target 'label')",
        "  features (4 model inputs after encoding):",
        "    size: numeric, as is; 1 missing value(s) imputed with the median (0.07559)",
        "    color: one-hot, 3 categories; 1 missing value(s) imputed with the most "
        "frequent ('blue')",
        "  classes (3, rows each): big 49, other 47, red-ish 22",
    ]
    # The dataset column holds the file name, not the path.
    assert re.search(r"^data\.csv +SoftmaxClassifier\(lbfgs\) ", out, re.M)
    assert str(tmp_path) not in out


def test_csv_encodings(tmp_path):
    text = "a, flag, empty, label\n" + "".join(
        f"{i}, {'True' if i % 3 else 'False'}, , {'xy'[i % 2]}\n" for i in range(30))
    data = read_csv(write(tmp_path, "enc.csv", text), "label")
    assert data.features == [("a", "numeric, as is"), ("flag", "true/false as 1/0"),
                             ("empty", "left out: every value is missing")]
    assert data.X.shape == (30, 2)
    np.testing.assert_array_equal(data.X[:, 1], [i % 3 != 0 for i in range(30)])


def test_identifier_column_is_pointed_out(tmp_path):
    text = "id,a,label\n" + "".join(f"user{i},{i},{'ab'[i % 2]}\n" for i in range(30))
    data = read_csv(write(tmp_path, "ids.csv", text), "label")
    assert data.features[0] == (
        "id", "one-hot, 30 categories (one per row: an identifier? such a column predicts "
        "nothing new)")


def test_gzip_and_byte_order_mark(tmp_path):
    text = "label,a\n" + "".join(f"{'ab'[i % 2]},{i}\n" for i in range(20))
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(("\ufeff" + text).encode()))
    data = read_csv(path, "label")
    assert data.name == "d.csv.gz"
    np.testing.assert_array_equal(data.X[:, 0], np.arange(20))


@pytest.mark.parametrize("file, loader, n_features", [
    ("wine_data.csv", load_wine, 13),
    ("breast_cancer.csv", load_breast_cancer, 30),
    ("iris.csv", load_iris, 4),
])
def test_scikit_learn_csv_layout(file, loader, n_features):
    data = read_csv(SKLEARN_DATA / file, "target")
    bunch = loader()
    assert data.X.shape == (len(bunch.target), n_features)
    np.testing.assert_allclose(data.X, bunch.data)
    np.testing.assert_array_equal(data.y, bunch.target_names[bunch.target])
    assert data.notes[0].startswith("scikit-learn's bundled CSV layout (a first row of ")


def test_scikit_learn_csv_through_the_command(capsys):
    status, out, _ = run(capsys, "--csv", SKLEARN_DATA / "breast_cancer.csv", "--target",
                         "target", *FAST)
    assert status == 0
    assert "  features (30 model inputs after encoding):" in out
    assert "  classes (2, rows each): benign 357, malignant 212" in out
    assert re.search(r"^breast_cancer\.csv +LogisticRegression\(lbfgs\) ", out, re.M)


# ------------------------------------------------------------------ CSV: data errors (1)


def test_file_errors(tmp_path, capsys):
    assert_fails(capsys, ["--csv", tmp_path / "gone.csv", "--target", "y"], 1,
                 f"{tmp_path / 'gone.csv'}: no such file; check the --csv path")
    assert_fails(capsys, ["--csv", tmp_path, "--target", "y"], 1,
                 f"{tmp_path}: is a directory; give --csv the path of a CSV file in it")
    for name, text in [("empty.csv", ""), ("blank.csv", "\n \n")]:
        assert_fails(capsys, ["--csv", write(tmp_path, name, text), "--target", "y"], 1,
                     f"{name}: the file is empty; a CSV needs a header row and data rows")
    assert_fails(capsys, ["--csv", write(tmp_path, "h.csv", "a,y\n"), "--target", "y"], 1,
                 "h.csv: only a header row, no data rows; add rows below the header")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,y\ncaf\u00e9,1\n".encode("latin-1"))
    assert_fails(capsys, ["--csv", latin, "--target", "y"], 1,
                 "latin.csv: not UTF-8 text (it holds the byte 0xe9); save the file as UTF-8 CSV")


# (file text, --target, message after "compare: bad.csv: ")
BAD_CSV = {
    "fewer header names than columns": (
        "a,y\n" + two_class_rows(20, extra="9,"),
        "y", "the header names 2 columns but the rows have 3 fields; give every column a "
             "name in the first row"),
    "ragged row": (
        "a,b,y\n1,2,a\n3,4,b,5\n", "y",
        "line 3 has 4 fields where the header has 3; give every row one field per column"),
    "repeated column name": (
        "a,a,y\n" + two_class_rows(20, extra="1,"), "y",
        "column name(s) 'a' appear more than once in the header; give every column its own "
        "name"),
    "no header row": (
        two_class_rows(20).replace("a", "0").replace("b", "1"), "1",
        "the first row holds numbers, not column names; add a header row that names every "
        "column"),
    "missing target column": (
        "size,color,label\n1,red,a\n", "nope",
        "no column 'nope'; the columns are 'size', 'color', 'label': choose one with --target"),
    "target with another case": (
        "size,Label\n1,a\n", "label",
        "no column 'label' (did you mean 'Label'?); the columns are 'size', 'Label': choose "
        "one with --target"),
    "semicolons": (
        "a;label\n1;a\n", "label",
        "no column 'label' (the header is one column: is the file separated by something "
        "other than commas?); the columns are 'a;label': choose one with --target"),
    "target never given": (
        "a,y\n1,\n2,\n", "y",
        "target 'y' is empty in every row; choose a column with labels"),
    "only the target": (
        "y\na\nb\n", "y",
        "no feature columns besides the target 'y'; add columns to predict from"),
    "every feature empty": (
        "a,y\n,a\n,b\n", "y", "every feature column is empty; add values to predict from"),
    "continuous target": (
        "a,y\n" + "".join(f"{i},{i + 0.5}\n" for i in range(40)), "y",
        "target 'y' holds continuous numbers (40 distinct values, e.g. 0.5, 1.5, 2.5); compare "
        "needs class labels: choose another column or bin this one into classes"),
    "free-text target": (
        "a,y\n" + "".join(f"{i},comment number {i:03d} written by a user about it\n"
                          for i in range(300)), "y",
        "target 'y' has 300 distinct labels in 300 rows (e.g. 'comment number 000 written by "
        "a user ...', 'comment number 001 written by a user ...', 'comment number 002 "
        "written by a user ...'): it looks like free text or an identifier, not a class "
        "label; choose a column with a few repeated values"),
    "single class": (
        "a,y\n" + "".join(f"{i},yes\n" for i in range(30)), "y",
        "target 'y' has one class ('yes', 30 rows); a classifier needs at least two: choose "
        "another --target column"),
    "class with one row": (
        "a,y\n" + two_class_rows(30) + "31,c\n", "y",
        "target 'y' has 1 class(es) with a single row ('c'); the stratified split needs at "
        "least 2 rows per class: drop or merge those rows"),
    "too few rows for the split": (
        "a,y\n" + "".join(f"{i},{'abcde'[i % 5]}\n" for i in range(10)), "y",
        "10 rows are too few for 5 classes: the 25% held-out part (3 rows) cannot hold one "
        "row of each class; give at least 17 rows"),
    "infinite feature": (
        "a,y\ninf,a\n" + two_class_rows(20), "y",
        "column 'a' has 1 infinite value(s); replace them with numbers or leave the cells "
        "empty (empty cells are imputed)"),
    "feature too large to standardize": (
        "a,y\n" + "".join(f"{(-1) ** i * 1e308},{'ab'[i % 2]}\n" for i in range(20)), "y",
        "column 'a' has values too large to standardize (largest magnitude 1e+308); rescale "
        "that column"),
    "one-hot too large for memory": (
        "id,y\n" + "".join(f"u{i},{'ab'[i % 2]}\n" for i in range(20_000)), "y",
        "the encoded features would take 3.0 GiB (column 'id' alone has 20000 categories); "
        "leave out columns with that many categories"),
}


@pytest.mark.parametrize("case", list(BAD_CSV))
def test_bad_csv(tmp_path, capsys, case):
    text, target, message = BAD_CSV[case]
    path = write(tmp_path, "bad.csv", text)
    out = assert_fails(capsys, ["--csv", path, "--target", target, *FAST], 1,
                       f"bad.csv: {message}")
    assert out == ""


def test_wrong_target_in_scikit_learn_layout(capsys):
    assert_fails(capsys, ["--csv", SKLEARN_DATA / "wine_data.csv", "--target", "class"], 1,
                 "wine_data.csv: no column 'class'; in scikit-learn's CSV layout the labels "
                 "are in column 'target': use --target target")


def test_bad_byte_after_the_first_chunk(tmp_path, capsys):
    # The header is read by the csv module; a bad byte further on reaches pandas.
    path = tmp_path / "late.csv"
    path.write_bytes(("a,y\n" + two_class_rows(2000)).encode() + "caf\u00e9,a\n".encode("cp1252"))
    assert_fails(capsys, ["--csv", path, "--target", "y"], 1,
                 "late.csv: not UTF-8 text (it holds the byte 0xe9); save the file as UTF-8 CSV")


# ------------------------------------------------------------------ the command dispatch


def test_dispatch(capsys):
    from softmax_regression.__main__ import main as run_module

    assert run_module(["--help"]) == 0
    assert "\ncommands:\n  compare  " in capsys.readouterr().out
    assert run_module(["--bogus"]) == 2
    assert capsys.readouterr().err == (
        "python -m softmax_regression: unknown option '--bogus'; commands: compare "
        "(see --help)\n")
    assert run_module(["--version"]) == 0
    assert re.fullmatch(r"softmax_regression \S+\n", capsys.readouterr().out)
    assert run_module(["compare", "--C", "0"]) == 2
    assert capsys.readouterr().err == "compare: --C must be > 0 (inf for no penalty), got 0\n"
