"""Sphinx configuration: ``sphinx-build -W -b html docs docs/_build/html``.

Pages are MyST markdown; the API reference comes from the numpydoc docstrings;
the notebooks are rendered with the outputs stored in them (never executed
here, so a build takes seconds and needs no kernel).
"""

import pathlib
import shutil
import sys

DOCS = pathlib.Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))

import softmax_regression  # noqa: E402

project = "softmax_regression"
author = "The softmax_regression developers"
copyright = "the softmax_regression developers"
release = softmax_regression.__version__
version = release

extensions = [
    "myst_nb",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx_copybutton",
]

# Links to the libraries the API speaks of. The inventories are small files
# kept beside this one (docs/_inventories/, made by make_inventories.py), so
# the build needs no network.
_INVENTORIES = DOCS / "_inventories"
intersphinx_mapping = {
    name: (url, str(_INVENTORIES / f"{name}.inv"))
    for name, url in {
        "numpy": "https://numpy.org/doc/stable/",
        "scipy": "https://docs.scipy.org/doc/scipy/",
        "sklearn": "https://scikit-learn.org/stable/",
        "dask": "https://docs.dask.org/en/stable/",
        "statsmodels": "https://www.statsmodels.org/stable/",
    }.items()
}

# Notebooks: shown with their stored outputs (tools/execute_notebooks.py
# refreshes them; tests/project/test_notebooks.py runs them).
nb_execution_mode = "off"
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}

autosummary_generate = False
autodoc_default_options = {"members": True, "member-order": "groupwise"}
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = set()

html_theme = "pydata_sphinx_theme"
html_title = f"softmax_regression {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []

exclude_patterns = ["_build", "_inventories", "Thumbs.db", ".DS_Store"]


def _copy_notebooks(app):
    """The notebooks live in notebooks/; the site shows copies of them."""
    target = DOCS / "examples"
    target.mkdir(exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        copy = target / path.name
        if not copy.exists() or copy.read_bytes() != path.read_bytes():
            shutil.copyfile(path, copy)


def setup(app):
    app.connect("builder-inited", _copy_notebooks)
