"""The package's structure: one way in, the binary case in the loss, one place
for scikit-learn's private helpers."""

import ast
import pathlib

import softmax_regression

PACKAGE = pathlib.Path(softmax_regression.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _source(path):
    return path.read_text(encoding="utf-8")


def _code_strings(path):
    """String constants of a module that are not docstrings."""
    tree = ast.parse(_source(path))
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            if node.body and isinstance(node.body[0], ast.Expr) and isinstance(
                node.body[0].value, ast.Constant
            ):
                docstrings.add(id(node.body[0].value))
    return [
        node.value for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_modules_were_found():
    names = {path.name for path in MODULES}
    assert {"_estimator.py", "prepare.py", "loss.py", "compat.py"} <= names


def _private_sklearn_imports(path):
    """``sklearn`` imports of ``path`` that reach a private module or name."""
    found = []
    for node in ast.walk(ast.parse(_source(path))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sklearn":
            parts = node.module.split(".") + [alias.name for alias in node.names]
            found += [f"{node.module}: {part}" for part in parts if part.startswith("_")]
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names
                      if alias.name.split(".")[0] == "sklearn" and "._" in alias.name]
    return found


def test_only_the_compat_module_imports_private_scikit_learn_helpers():
    assert _private_sklearn_imports(PACKAGE / "_utils" / "compat.py"), "the check finds nothing"
    offenders = {path.name: _private_sklearn_imports(path) for path in MODULES
                 if path.name != "compat.py" and _private_sklearn_imports(path)}
    assert offenders == {}


def test_only_the_loss_knows_the_binary_parametrization():
    offenders = [path.name for path in MODULES
                 if path.name != "loss.py" and "pinned_reference" in _source(path)]
    assert offenders == []


def test_the_estimator_asks_the_solver_table_not_solver_names():
    # Docstrings may name solvers; code in the estimator's way in may not.
    for name in ("_estimator.py", "_fitting/prepare.py", "_fitting/store.py"):
        strings = _code_strings(PACKAGE / name)
        assert not {"sgd", "newton-cg"} & set(strings), name


def test_there_is_no_partial_fit_module():
    assert not (PACKAGE / "_partial_fit.py").exists()
    assert "_partial_fit" not in _source(PACKAGE / "_estimator.py")
