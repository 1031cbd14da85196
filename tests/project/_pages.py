"""The documentation's pages and their Python examples, as the tests read them."""

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = [ROOT / "README.md"] + sorted(
    path for path in DOCS.rglob("*.md") if "_build" not in path.parts and "examples" not in path.parts
)
# A ```python block, then optionally one paragraph that says "prints", then the ```text it prints.
EXAMPLE = re.compile(
    r"```python\n(?P<code>.*?)```\n(?:\n(?P<between>(?:(?!```)[^\n]+\n)+))?\n*"
    r"(?:```text\n(?P<shown>.*?)```)?",
    re.S,
)
REQUIRES = re.compile(r"^# requires: (.+)$", re.M)


def name(path):
    return path.relative_to(ROOT).as_posix()


def examples():
    """(page, index, code, printed output shown on the page or None) for every Python block."""
    for path in PAGES:
        text = path.read_text(encoding="utf-8")
        for index, match in enumerate(EXAMPLE.finditer(text)):
            shown = match["shown"]
            if shown is not None and "prints" not in (match["between"] or ""):
                shown = None
            yield path, index, match["code"], shown


def requirements(code):
    """What an example needs, from its ``# requires: a, b`` line: modules, or ``cuda``."""
    found = REQUIRES.search(code)
    return [item.strip() for item in found.group(1).split(",")] if found else []
