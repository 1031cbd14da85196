"""Optional dependencies: imported where needed, and named with their extra when missing."""

import importlib

# The extra of pyproject.toml that installs each optional module.
EXTRAS = {
    "matplotlib": "compare",
    "pandas": "compare",
    "dask": "dask",
    "distributed": "dask",
    "onnx": "onnx",
    "onnxruntime": "onnx",
    "skl2onnx": "onnx",
    "skops": "onnx",
}


def missing(module, purpose):
    """The ModuleNotFoundError for ``purpose`` without ``module``: what to install.

    Parameters
    ----------
    module : str
        The module that could not be imported (its top package names the extra).
    purpose : str
        What needs it, as the user called it (``"SoftmaxClassifierCV.plot_path()"``).

    Returns
    -------
    ModuleNotFoundError
    """
    package = module.partition(".")[0]
    return ModuleNotFoundError(
        f'{purpose} requires {package}: pip install "softmax_regression[{EXTRAS[package]}]"',
        name=module,
    )


def require(module, purpose):
    """Import ``module``, or raise :func:`missing`'s error for ``purpose``."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise missing(module, purpose) from error
