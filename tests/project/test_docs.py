"""The README's promises: every test it names exists, and it reads the same on PyPI."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_has_no_relative_links():
    # The README is the PyPI page, where links relative to the repository break.
    assert re.findall(r"\]\((?!https?://|#)[^)]*\)", README) == []


def test_every_test_the_readme_names_exists():
    named = re.findall(r"(test_\w+\.py)::(\w+)", README)
    assert len(named) > 40, "the README's tables name their tests"
    missing = []
    for filename, name in named:
        paths = list((ROOT / "tests").rglob(filename))
        if len(paths) != 1 or not re.search(rf"def {name}\b", paths[0].read_text(encoding="utf-8")):
            missing.append(f"{filename}::{name}")
    assert missing == []


def test_the_readme_shows_install_test_and_compare_commands():
    for command in ('pip install -e ".[dev]"', "pytest", "python -m softmax_regression compare"):
        assert command in README
