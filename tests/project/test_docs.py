"""The documentation: it builds, it covers the API, and what it promises is checked.

The README is the landing page and ``docs/`` the manual (a Sphinx site of
MyST pages). Every test a page names must exist, every row of "What happens
when..." must name the test that checks it, and the site must build with
warnings as errors.
"""

import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import pytest

import softmax_regression

from _pages import DOCS, PAGES, ROOT, name

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAX_README_LINES = 300
TEST_REFERENCE = re.compile(r"(test_\w+\.py)::(\w+)")


def _page(relative):
    return (DOCS / relative).read_text(encoding="utf-8")


def test_the_readme_is_a_landing_page():
    assert len(README.splitlines()) <= MAX_README_LINES
    for command in ('pip install -e ".[dev]"', "pytest", "python -m softmax_regression compare",
                    "jupyter lab notebooks/"):
        assert command in README


def test_relative_links_lead_to_files_in_the_repository():
    broken = []
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(((?!https?://|#)[^)\s]+)\)", text):
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{name(path)} -> {target}")
    assert broken == []


def test_the_readme_links_every_page_of_the_site():
    linked = {(ROOT / target).resolve() for target in re.findall(r"\]\((docs/[^)#]+)\)", README)}
    pages = {path.resolve() for path in PAGES if path.parent != ROOT and path.name != "changelog.md"}
    assert pages - linked == set()


def test_every_test_a_page_names_exists():
    named, missing = [], []
    for path in PAGES:
        named += TEST_REFERENCE.findall(path.read_text(encoding="utf-8"))
    assert len(named) > 40, "the tables name their tests"
    for filename, test in named:
        paths = list((ROOT / "tests").rglob(filename))
        if len(paths) != 1 or not re.search(rf"def {test}\b", paths[0].read_text(encoding="utf-8")):
            missing.append(f"{filename}::{test}")
    assert missing == []


def test_every_row_of_what_happens_when_names_its_test():
    rows = [line for line in _page("what_happens_when.md").splitlines()
            if line.startswith("| ") and not line.startswith("| input |")]
    assert len(rows) > 100
    unbacked = [row for row in rows
                if not re.search(r"test_\w+\.py|\| same \|$", row.rstrip())]
    assert unbacked == []


def test_the_api_reference_has_every_public_name():
    api = _page("api.md")
    public = [n for n in softmax_regression.__all__ if not n.startswith("__")]
    missing = [n for n in public if not re.search(rf"\.\. auto(class|function):: {n}\n", api)]
    onnx = pathlib.Path(softmax_regression.__file__).parent / "onnx.py"
    onnx_names = re.search(r"__all__ = \[([^\]]*)\]", onnx.read_text(encoding="utf-8")).group(1)
    for n in re.findall(r"\"(\w+)\"", onnx_names):
        if f".. autofunction:: softmax_regression.onnx.{n}\n" not in api:
            missing.append(f"onnx.{n}")
    assert missing == []


def _compare_sample():
    page = _page("user_guide/command_line.md")
    return re.search(r"```text\n\$ python -m softmax_regression compare\n(.*?)```", page, re.S).group(1)


def _split(output):
    """The lines before the table, the table's header, and its rows as lists of cells."""
    lines = output.rstrip("\n").splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("-----"))
    return lines[:rule - 1], lines[rule - 1], [line.split() for line in lines[rule + 1:]]


def test_the_compare_sample_is_what_the_command_prints_today():
    package_parent = os.path.dirname(os.path.dirname(softmax_regression.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_parent, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-m", "softmax_regression", "compare"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    shown_before, shown_header, shown_rows = _split(_compare_sample())
    before, header, rows = _split(result.stdout)
    assert before == shown_before and header == shown_header
    # dataset, model, accuracy, log loss; then fit time, iterations and max |dP|, which vary.
    assert [row[:3] for row in rows] == [row[:3] for row in shown_rows]
    for row, shown in zip(rows, shown_rows):
        assert float(row[3]) == pytest.approx(float(shown[3]), rel=1e-3), row


@pytest.mark.slow
def test_the_site_builds_with_warnings_as_errors(tmp_path):
    for module in ("sphinx", "pydata_sphinx_theme", "myst_nb", "numpydoc", "sphinx_copybutton"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (pip install -e \".[docs]\")")
    package_parent = os.path.dirname(os.path.dirname(softmax_regression.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([package_parent, os.environ.get("PYTHONPATH", "")]))
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-5000:]
    assert (tmp_path / "html" / "api.html").exists()
    assert "SoftmaxClassifierCV" in (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
