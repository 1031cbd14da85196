"""Every Python example of the README and of the documentation runs as a script.

Each ```python block is written to a file in a fresh folder and run in its own
process, as a user who copies it would run it; it must exit 0 and print
something. Where a page shows what the example prints (a ```text block after
"prints:"), the output must match: words exactly, numbers to 1e-6 absolute or
1e-3 relative (the last digits of a fit's rounding may differ by machine).

An example that needs more than the ``[dev]`` extra says so in its first
lines, ``# requires: torch, cuda``: it is skipped where a module is missing or
no CUDA device is present.
"""

import importlib.util
import math
import os
import re
import subprocess
import sys

import pytest

import softmax_regression

from _pages import PAGES, ROOT, examples, name, requirements

EXAMPLES = list(examples())
# The examples that take more than a few seconds (a cluster, a grid of fits).
SLOW = ("dask", "cv.md")
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
TIMEOUT_S = 300


def _params():
    for path, index, code, shown in EXAMPLES:
        marks = [pytest.mark.slow] if any(word in name(path) for word in SLOW) else []
        yield pytest.param(code, shown, id=f"{name(path)}[{index}]", marks=marks)


def _missing(code):
    missing = []
    for item in requirements(code):
        if item == "cuda":
            if importlib.util.find_spec("torch") is None:
                missing.append("torch" if "torch" not in missing else "a CUDA device")
            else:
                import torch

                if not torch.cuda.is_available():
                    missing.append("a CUDA device")
        elif importlib.util.find_spec(item) is None:
            missing.append(item)
    return missing


def run_script(code, folder):
    """Run ``code`` as ``example.py`` in ``folder`` with the package this process imports."""
    script = folder / "example.py"
    script.write_text(code, encoding="utf-8")
    package_parent = os.path.dirname(os.path.dirname(softmax_regression.__file__))
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([package_parent, os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, script.name], cwd=folder, env=env, capture_output=True,
                          text=True, timeout=TIMEOUT_S)


def outputs_match(printed, shown):
    """Equal words, and numbers equal to 1e-6 absolute or 1e-3 relative."""
    printed_words, shown_words = NUMBER.split(printed.strip()), NUMBER.split(shown.strip())
    if [" ".join(w.split()) for w in printed_words] != [" ".join(w.split()) for w in shown_words]:
        return False
    return all(
        math.isclose(float(a), float(b), rel_tol=1e-3, abs_tol=1e-6)
        for a, b in zip(NUMBER.findall(printed), NUMBER.findall(shown), strict=True)
    )


def test_every_page_is_read():
    assert name(PAGES[0]) == "README.md"
    assert len(PAGES) >= 15 and len(EXAMPLES) >= 12


def test_the_output_comparison_can_fail():
    assert outputs_match("accuracy 0.969\n", "accuracy 0.9690001")
    assert not outputs_match("accuracy 0.969", "accuracy 0.958")
    assert not outputs_match("accuracy 0.969", "precision 0.969")


def test_every_user_guide_page_has_an_example():
    pages = {name(path) for path, *_ in EXAMPLES}
    # The command line's example is a shell command: test_docs.py runs it and
    # compares its table with the page's.
    pages.add("docs/user_guide/command_line.md")
    guide = {name(path) for path in PAGES if "user_guide" in name(path) and path.name != "index.md"}
    assert guide and guide <= pages


def test_dask_examples_guard_their_main():
    # distributed starts worker processes that import the script again.
    for path, index, code, _ in EXAMPLES:
        if "LocalCluster" in code:
            assert 'if __name__ == "__main__":' in code, f"{name(path)}[{index}]"


@pytest.mark.parametrize(("code", "shown"), _params())
def test_example_runs_as_a_script(code, shown, tmp_path):
    missing = _missing(code)
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    result = run_script(code, tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip(), "the example prints nothing"
    if shown is not None:
        assert outputs_match(result.stdout, shown), f"prints:\n{result.stdout}\nthe page shows:\n{shown}"


def test_root_is_the_repository():
    assert (ROOT / "pyproject.toml").exists()
