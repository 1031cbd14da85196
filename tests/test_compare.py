"""The ``compare`` command line."""

import subprocess
import sys

import numpy as np
import pytest

from softmax_regression._compare import compare_on, main


def test_compare_one_dataset(capsys):
    assert main(["--dataset", "iris", "--C", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "C=0.5" in out
    for model in ("LogisticRegression(lbfgs)", "SoftmaxClassifier(lbfgs)",
                  "SoftmaxClassifier(newton-cg)"):
        assert model in out


def test_compare_rows_agree_with_logistic_regression():
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    rows = compare_on("wine", X, y, C=1.0, solvers=["lbfgs", "newton-cg"], tol=1e-10,
                      max_iter=10000)
    assert [r.model for r in rows][0] == "LogisticRegression(lbfgs)"
    for row in rows[1:]:
        assert row.max_proba_diff < 1e-5
        assert row.accuracy == rows[0].accuracy
        assert row.log_loss == pytest.approx(rows[0].log_loss, rel=1e-4)


def test_compare_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 120
    color = rng.choice(["red", "green", "blue"], size=n).astype(object)
    color[3] = None
    size = rng.standard_normal(n)
    size[5] = np.nan
    label = np.where(size > 0.3, "big", np.where(color == "red", "red-ish", "other"))
    lines = ["size,color,label"] + [
        f"{'' if np.isnan(s) else s},{'' if c is None else c},{lab}"
        for s, c, lab in zip(size, color, label)
    ]
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines))
    assert main(["--csv", str(path), "--target", "label"]) == 0
    assert "SoftmaxClassifier(lbfgs)" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="column 'nope'"):
        main(["--csv", str(path), "--target", "nope"])
    with pytest.raises(SystemExit, match="no such file"):
        main(["--csv", str(tmp_path / "missing.csv"), "--target", "label"])
    with pytest.raises(SystemExit, match="--target"):
        main(["--csv", str(path)])


def test_module_entry_point():
    proc = subprocess.run([sys.executable, "-m", "softmax_regression", "compare", "--dataset",
                           "wine"], capture_output=True, text=True, check=True)
    assert "SoftmaxClassifier(newton-cg)" in proc.stdout
    bad = subprocess.run([sys.executable, "-m", "softmax_regression"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "usage" in bad.stderr


def test_compare_plot(tmp_path, capsys):
    path = tmp_path / "convergence.png"
    assert main(["--dataset", "iris", "--solvers", "lbfgs", "--plot", str(path)]) == 0
    assert path.stat().st_size > 10_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "convergence picture written" in capsys.readouterr().out
