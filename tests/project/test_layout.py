"""The package's structure: one subpackage per capability, no import cycles,
small modules, public names in everything a user reads, one way in, the binary
case in the loss, one place for scikit-learn's private helpers."""

import ast
import json
import pathlib
import re

import softmax_regression

PACKAGE = pathlib.Path(softmax_regression.__file__).parent
ROOT = PACKAGE.parent
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 500
MAX_TOP_LEVEL_MODULES = 14


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


def _module_name(path):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path):
    """The package's modules that ``path`` imports, at module level or inside functions."""
    name = _module_name(path)
    here = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    known = {_module_name(module) for module in MODULES}
    found = set()
    for node in ast.walk(ast.parse(_source(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            candidates = [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        for candidate in candidates:
            # "from .x import y" imports the package x too: every parent runs first.
            parts = candidate.split(".")
            for stop in range(1, len(parts) + 1):
                prefix = ".".join(parts[:stop])
                if prefix in known and prefix != name:
                    found.add(prefix)
    return found


def _import_graph():
    return {_module_name(path): _imported_modules(path) for path in MODULES}


def _cycles(graph):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def _package_edges_ignored(graph):
    # A package's __init__ that imports its own modules (the solver table) is
    # not a cycle with them: only edges between modules count, and edges into
    # a package stand for its __init__ alone.
    return {node: {t for t in targets if not node.startswith(t + ".")} for node, targets in graph.items()}


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_the_import_graph_sees_imports_inside_functions():
    graph = _import_graph()
    # The command line imports the estimator only when it runs.
    assert "softmax_regression._estimator" in graph["softmax_regression._cli.compare"]
    assert "softmax_regression._model.loss" in graph["softmax_regression._model.problem"]


def test_no_import_cycles():
    assert _cycles(_package_edges_ignored(_import_graph())) == []


def test_no_module_over_500_lines():
    long = {str(path.relative_to(PACKAGE)): n for path in MODULES
            if (n := len(_source(path).splitlines())) > MAX_LINES}
    assert long == {}


def test_the_top_folder_reads_like_a_table_of_contents():
    top = [path.name for path in PACKAGE.glob("*.py")]
    assert len(top) <= MAX_TOP_LEVEL_MODULES, top
    subpackages = {path.name for path in PACKAGE.iterdir() if (path / "__init__.py").exists()}
    assert {"_model", "_solvers", "_fitting", "_cv", "_inference", "_dask", "_cli", "_utils"} <= subpackages
    for name in subpackages:
        assert ast.get_docstring(ast.parse(_source(PACKAGE / name / "__init__.py"))), name


PRIVATE_IMPORT = re.compile(r"\bsoftmax_regression\._\w+|from\s+softmax_regression\s+import\s+[^\n]*\b_[a-z]\w*")


def test_the_private_import_pattern_matches():
    assert PRIVATE_IMPORT.search("from softmax_regression._solvers import SOLVERS")
    assert PRIVATE_IMPORT.search("from softmax_regression import _estimator")
    assert not PRIVATE_IMPORT.search("from softmax_regression import SoftmaxClassifier, inference")


def test_notebooks_use_public_names_only():
    offenders = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(cell["source"]) for cell in cells if cell["cell_type"] == "code")
        if PRIVATE_IMPORT.search(code):
            offenders[path.name] = PRIVATE_IMPORT.findall(code)
    assert offenders == {}


def test_the_readme_and_the_documentation_use_public_names_only():
    pages = [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))
    blocks = [block for page in pages if "_build" not in page.parts
              for block in re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)]
    assert len(blocks) > 10
    assert [PRIVATE_IMPORT.findall(block) for block in blocks if PRIVATE_IMPORT.search(block)] == []


def test_docstring_examples_use_public_names_only():
    offenders = []
    for path in MODULES:
        for node in ast.walk(ast.parse(_source(path))):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)):
                doc = ast.get_docstring(node) or ""
                examples = [line for line in doc.splitlines() if line.strip().startswith((">>>", "..."))]
                if any(PRIVATE_IMPORT.search(line) for line in examples):
                    offenders.append(f"{path.relative_to(PACKAGE)}:{getattr(node, 'name', '')}")
    assert offenders == []
