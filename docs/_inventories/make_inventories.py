"""Write the small intersphinx inventories the documentation links through.

    python docs/_inventories/make_inventories.py

The site links to scikit-learn, NumPy, SciPy, Dask and statsmodels without
downloading their full inventories at build time (a build must work offline):
each ``<name>.inv`` here lists only the objects these pages and docstrings
name, in Sphinx's inventory format (version 2), with the address each has in
that project's documentation. Add a name here when a page starts linking it.
"""

import pathlib
import zlib

HERE = pathlib.Path(__file__).resolve().parent

# project -> [(object name, domain:role, address relative to the project's root; "$" is the name)]
OBJECTS = {
    "sklearn": [
        (f"sklearn.{name}", "py:class", f"modules/generated/sklearn.{name}.html#$")
        for name in (
            "linear_model.LogisticRegression", "linear_model.LogisticRegressionCV",
            "linear_model.SGDClassifier", "model_selection.GridSearchCV",
            "model_selection.StratifiedKFold", "model_selection.GroupKFold",
            "pipeline.Pipeline", "compose.ColumnTransformer",
            "preprocessing.StandardScaler", "calibration.CalibratedClassifierCV",
            "exceptions.ConvergenceWarning", "exceptions.NotFittedError",
        )
    ] + [
        ("sklearn.config_context", "py:function", "modules/generated/sklearn.config_context.html#$"),
        ("sklearn.pipeline.make_pipeline", "py:function",
         "modules/generated/sklearn.pipeline.make_pipeline.html#$"),
        # Named by the set_*_request methods scikit-learn gives every estimator.
        ("meta-estimator", "std:term", "glossary.html#term-meta-estimator"),
        ("metadata_routing", "std:label", "metadata_routing.html#metadata-routing"),
    ],
    "numpy": [
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#$"),
        ("numpy.inf", "py:data", "reference/constants.html#$"),
        ("numpy.logspace", "py:function", "reference/generated/numpy.logspace.html#$"),
    ],
    "scipy": [
        ("scipy.sparse.csr_matrix", "py:class", "reference/generated/scipy.sparse.csr_matrix.html#$"),
        ("scipy.sparse.csc_matrix", "py:class", "reference/generated/scipy.sparse.csc_matrix.html#$"),
        ("scipy.optimize.minimize", "py:function", "reference/generated/scipy.optimize.minimize.html#$"),
    ],
    "dask": [
        ("dask.array.Array", "py:class", "generated/dask.array.Array.html#$"),
        ("dask.dataframe.DataFrame", "py:class", "generated/dask.dataframe.DataFrame.html#$"),
    ],
    "statsmodels": [
        (f"statsmodels.discrete.discrete_model.{name}", "py:class",
         f"generated/statsmodels.discrete.discrete_model.{name}.html#$")
        for name in ("MNLogit", "Logit")
    ],
}
PROJECTS = {"sklearn": "scikit-learn", "numpy": "NumPy", "scipy": "SciPy", "dask": "Dask",
            "statsmodels": "statsmodels"}


def inventory(project, objects):
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        "# Version: stable\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in sorted(objects))
    return header.encode() + zlib.compress(body.encode())


def main():
    for key, objects in OBJECTS.items():
        (HERE / f"{key}.inv").write_bytes(inventory(PROJECTS[key], objects))


if __name__ == "__main__":
    main()
