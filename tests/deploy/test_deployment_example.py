"""The deployment page's example runs in process and prints what the page shows."""

import contextlib
import io
import pathlib
import re
import warnings

import pytest
from sklearn.exceptions import ConvergenceWarning

pytest.importorskip("skl2onnx")
pytest.importorskip("onnxruntime")
pytest.importorskip("skops")

PAGE = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "user_guide" / "deployment.md").read_text(
    encoding="utf-8"
)
# The one number that may differ in its last digits between machines.
GAP = re.compile(r"\(largest gap [^)]*\)")


def _deployment_section():
    return PAGE


def test_the_deployment_example_prints_what_the_page_shows(tmp_path, monkeypatch):
    section = _deployment_section()
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    (shown,) = re.findall(r"```text\n(.*?)```", section, flags=re.S)
    monkeypatch.chdir(tmp_path)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), warnings.catch_warnings():
        # The example's fit converges: a user running it sees no warning.
        warnings.simplefilter("error", ConvergenceWarning)
        exec(compile(code, "docs/user_guide/deployment.md", "exec"), {"__name__": "__readme__"})
    assert (tmp_path / "digits.onnx").exists() and (tmp_path / "digits.skops").exists()
    assert GAP.sub("(...)", printed.getvalue()) == GAP.sub("(...)", shown)
    gap = float(re.search(r"largest gap ([0-9.e+-]+)", printed.getvalue()).group(1))
    assert gap < 1e-10
