"""``python -m build`` makes a wheel and an sdist that install and work in a fresh venv.

The venv sees the system's site-packages (numpy, scipy and scikit-learn are
not downloaded again) but gets the package only from the wheel; the smoke
script runs outside the repository and checks which copy it imported.
"""

import importlib.metadata
import importlib.util
import os
import pathlib
import subprocess
import sys
import tarfile
import venv

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SMOKE = """
import pathlib, sys
import softmax_regression
from sklearn.datasets import load_iris
from softmax_regression import SoftmaxClassifier

X, y = load_iris(return_X_y=True)
model = SoftmaxClassifier().fit(X, y)
assert pathlib.Path(softmax_regression.__file__).is_relative_to(sys.prefix), softmax_regression.__file__
print(softmax_regression.__version__, round(model.score(X, y), 2))
"""


def _local_setuptools_is_enough():
    """Whether the installed setuptools meets pyproject's build requirement (no download needed)."""
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except importlib.metadata.PackageNotFoundError:
        return False
    return major >= 77


@pytest.mark.slow
def test_the_wheel_and_sdist_install_and_fit_in_a_fresh_venv(tmp_path):
    if importlib.util.find_spec("build") is None:
        pytest.skip('build is not installed (pip install -e ".[dev]")')
    dist = tmp_path / "dist"
    command = [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)]
    if _local_setuptools_is_enough():
        command.insert(3, "--no-isolation")
    result = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]

    import softmax_regression

    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    assert wheel.name == f"softmax_regression-{softmax_regression.__version__}-py3-none-any.whl"
    with tarfile.open(sdist) as archive:
        names = {pathlib.PurePosixPath(name).relative_to(*pathlib.PurePosixPath(name).parts[:1]).as_posix()
                 for name in archive.getnames() if "/" in name}
    assert {"README.md", "LICENSE", "CHANGELOG.md", "CITATION.cff", "docs/conf.py",
            "softmax_regression/__init__.py"} <= names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=True)
    python = env_dir / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    # --ignore-installed: a copy in the system's site-packages (an editable
    # install of a checkout) would otherwise count as already installed.
    install = subprocess.run(
        [python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "--quiet",
         str(wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert install.returncode == 0, install.stderr
    # Without PYTHONPATH, which may point at a checkout of the package.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    smoke = subprocess.run([python, "-c", SMOKE], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=300)
    assert smoke.returncode == 0, smoke.stderr
    assert smoke.stdout.split() == [softmax_regression.__version__, "0.97"]
