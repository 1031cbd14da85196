"""Every notebook in notebooks/ runs from top to bottom without an error.

Each notebook is executed in a fresh kernel, from a copy in a temporary
directory (its working directory too), so the stored notebooks and their
outputs are never modified. Any failing cell, including a failing ``assert``,
fails the test.
"""

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 120
# Notebooks that need an optional extra: skipped (with the reason) without it.
NEEDS = {"05_inference": ("statsmodels",), "06_dask": ("dask", "distributed")}


# What a stored output must not show: a path of the machine that ran it, a traceback.
ABSOLUTE_PATH = re.compile(r"(/work/|/home/|/tmp/|/root/|/Users/|[A-Za-z]:\\\\)")
TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
# A cell that draws a figure.
PLOTTING = re.compile(r"plt\.(show|subplots?|figure)\(|\.plot_path\(|\.plot\(")


def _stored(path):
    """(cell index, its source, the text of its outputs, whether an output is an image)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    for index, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        outputs = cell.get("outputs", [])
        text = json.dumps([{k: v for k, v in out.items() if k != "data"} for out in outputs]) + json.dumps(
            [{k: v for k, v in out.get("data", {}).items() if not k.startswith("image/")} for out in outputs])
        image = any(key.startswith("image/") for out in outputs for key in out.get("data", {}))
        yield index, "".join(cell["source"]), text, image, outputs


def test_the_hygiene_patterns_match():
    assert ABSOLUTE_PATH.search('"/work/main/softmax_regression/_store.py:36: ConvergenceWarning"')
    assert ABSOLUTE_PATH.search(r'"C:\\\\Users\\\\me\\\\x.py"')
    assert not ABSOLUTE_PATH.search('"notebooks/03.ipynb"')
    assert PLOTTING.search("ax = clf.plot_path()") and PLOTTING.search("fig, ax = plt.subplots(1, 2)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_stored_outputs_are_clean(path):
    # Read by anyone: no path of the machine that ran them, no errors.
    dirty = []
    for index, _, text, _, outputs in _stored(path):
        if ABSOLUTE_PATH.search(text):
            dirty.append(f"cell {index}: {ABSOLUTE_PATH.search(text).group(0)!r}")
        if TRACEBACK.search(text) or any(out.get("output_type") == "error" for out in outputs):
            dirty.append(f"cell {index}: an error")
    assert dirty == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_every_plotting_cell_stores_its_figure(path):
    empty = [index for index, source, _, image, _ in _stored(path) if PLOTTING.search(source) and not image]
    assert empty == [], f"{path.name}: plotting cells {empty} have no image (tools/execute_notebooks.py)"


def test_notebooks_exist():
    assert NOTEBOOKS, f"no notebooks found in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_executed(path):
    # The notebooks are meant to be read on their own, outputs and plots included.
    nb = nbformat.read(path, as_version=4)
    code_cells = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code_cells
    unexecuted = [i for i, cell in enumerate(code_cells) if cell.execution_count is None]
    assert not unexecuted, f"{path.name}: code cells {unexecuted} are stored without outputs"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    # The kernel inherits this environment: a non-interactive matplotlib
    # backend, and one BLAS thread per library (as in conftest.py: numpy's and
    # scipy's OpenBLAS pools otherwise stall each other on a small machine).
    missing = [name for name in NEEDS.get(path.stem, ()) if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"{path.name} needs {', '.join(missing)} (pip install -e \".[dev]\")")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")

    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    nb = nbformat.read(copy, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, naming the cell, on any error
