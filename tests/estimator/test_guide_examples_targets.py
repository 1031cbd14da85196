"""The examples of the user guide page on soft targets, offsets and penalty factors run."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "user_guide" / "soft_targets_offsets_penalty_factors.md"


def _examples():
    return re.findall(r"^```python\n(.*?)^```", PAGE.read_text(), flags=re.S | re.M)


def test_the_page_has_the_three_examples():
    assert len(_examples()) == 3


@pytest.mark.parametrize("index", range(3))
def test_an_example_runs_as_a_script_and_prints(index):
    source = _examples()[index]
    assert "softmax_regression._" not in source  # public names only
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "the example prints nothing"
