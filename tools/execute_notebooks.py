"""Re-execute notebooks in place, so that their stored outputs are today's.

    python tools/execute_notebooks.py                      # every notebook
    python tools/execute_notebooks.py notebooks/01_*.ipynb # some

Runs each in a fresh kernel from the notebooks folder, with one BLAS thread
(as the test suite does) and matplotlib's inline backend, so that every
figure is stored as an image in the cell that draws it; stops at the first
failing cell.
"""

import os
import sys
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parents[1]


def main(paths):
    # The inline backend stores figures as images (Agg would draw them nowhere).
    os.environ.update(MPLBACKEND="module://matplotlib_inline.backend_inline",
                      OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    paths = [Path(p) for p in paths] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3",
            resources={"metadata": {"path": str(path.parent)}},
        )
        client.execute()
        nbformat.write(nb, path)
        print(f"executed {path.name}")


if __name__ == "__main__":
    main(sys.argv[1:])
