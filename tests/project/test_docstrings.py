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


@pytest.mark.parametrize("qualname", list(_public_objects()))
def test_docstring(qualname):
    result = numpydoc_validate.validate(qualname)
    errors = [(code, msg) for code, msg in result["errors"] if code not in IGNORED]
    assert not errors, f"{qualname}: {errors}"
