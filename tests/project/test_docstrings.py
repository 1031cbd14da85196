"""Numpydoc validation of the public API."""

import pytest

numpydoc_validate = pytest.importorskip("numpydoc.validate")

import softmax_regression  # noqa: E402

# GL08: no docstring; SA01/EX01: See Also / Examples are optional on methods;
# ES01: extended summary optional; RT02: return names are used.
IGNORED = {"ES01", "SA01", "EX01", "GL01", "GL02", "RT02", "SA04"}


def _public_objects():
    for name in softmax_regression.__all__:
        if name.startswith("__"):
            continue
        obj = getattr(softmax_regression, name)
        yield f"softmax_regression.{name}"
        if isinstance(obj, type):
            # Public methods written in this package, inherited ones included.
            for attr in sorted(dir(obj)):
                member = getattr(obj, attr, None)
                module = getattr(member, "__module__", "") or ""
                if not attr.startswith("_") and callable(member) and module.startswith(
                    "softmax_regression"
                ):
                    yield f"softmax_regression.{name}.{attr}"
    yield from _onnx_functions()


def _onnx_functions():
    """The public functions of ``softmax_regression.onnx``, where its extra is installed."""
    try:
        import softmax_regression.onnx as onnx_module
    except ImportError:  # the [onnx] extra is not installed
        return
    assert onnx_module.__all__
    for name in onnx_module.__all__:
        yield f"softmax_regression.onnx.{name}"


@pytest.mark.parametrize("qualname", list(_public_objects()))
def test_docstring(qualname):
    result = numpydoc_validate.validate(qualname)
    errors = [(code, msg) for code, msg in result["errors"] if code not in IGNORED]
    assert not errors, f"{qualname}: {errors}"


def _modules_with_examples():
    import importlib
    import pathlib

    package = pathlib.Path(softmax_regression.__file__).parent
    for path in sorted(package.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = list(path.relative_to(package.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield importlib.import_module(".".join(parts))


@pytest.mark.parametrize("module", list(_modules_with_examples()), ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    import doctest

    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    tests = [test for test in finder.find(module) if test.examples]
    assert tests, f"{module.__name__} has '>>>' but no example was found"
    for test in tests:
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed"
