"""The package's layers hold: every module imports cleanly, imports only from its own layer
or a lower one (lazy imports inside functions count too), and no two modules import each
other, directly or round a circle. docs/architecture.md draws the same table."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import orchestrator
import pytest

PACKAGE = Path(orchestrator.__file__).parent

# Lowest first. A module may import from its own layer and from any layer above it here.
LAYERS = [
    ("base", ("orchestrator", "orchestrator.errors", "orchestrator.jsonio",
              "orchestrator.redact", "orchestrator.fmt")),
    ("plan", ("orchestrator.plan",)),
    ("engine", ("orchestrator.engine",)),
    ("verify", ("orchestrator.verify",)),
    ("config", ("orchestrator.config",)),
    ("store", ("orchestrator.store",)),
    ("render", ("orchestrator.render",)),
    ("agents", ("orchestrator.agents",)),
    ("executors", ("orchestrator.executors",)),
    ("playbooks", ("orchestrator.playbooks",)),
    ("session", ("orchestrator.session",)),
    ("drivers", ("orchestrator.drivers",)),
    ("cli", ("orchestrator.cli", "orchestrator.__main__")),
]


def all_modules() -> dict[str, Path]:
    found = {"orchestrator": PACKAGE / "__init__.py"}
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="orchestrator."):
        spec = info.module_finder.find_spec(info.name)
        found[info.name] = Path(spec.origin)
    return found


MODULES = all_modules()


def layer_of(module: str) -> int:
    """The index of the layer ``module`` belongs to: its longest matching prefix."""
    best, best_length = None, -1
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_length:
                best, best_length = index, len(prefix)
    if best is None or (best == 0 and module != "orchestrator" and module not in LAYERS[0][1]):
        raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to "
                             f"docs/architecture.md)")
    return best


def imports_of(module: str, path: Path) -> set[str]:
    """The package's modules ``module`` imports, wherever in the file the import is.

    ``from orchestrator.x import y`` where y is a module imports y (its package's
    ``__init__`` runs first, but that is the package, not a dependency of choice).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    base = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = base.split(".")[: len(base.split(".")) - (node.level - 1)]
                source = ".".join(parts + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            submodules = [f"{source}.{alias.name}" for alias in node.names
                          if f"{source}.{alias.name}" in MODULES]
            found.update(submodules)
            if len(submodules) < len(node.names):
                found.add(source)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports_of(module, path) for module, path in MODULES.items()}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_imports_on_its_own(module):
    importlib.import_module(module)


def test_every_module_is_in_a_layer():
    for module in MODULES:
        layer_of(module)


def test_no_module_imports_from_a_higher_layer():
    upward = []
    for module, targets in sorted(GRAPH.items()):
        for target in sorted(targets):
            if layer_of(target) > layer_of(module):
                upward.append(f"{module} ({LAYERS[layer_of(module)][0]}) imports {target} "
                              f"({LAYERS[layer_of(target)][0]})")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_playbooks_do_not_import_each_other():
    def playbook(module: str) -> str | None:
        parts = module.split(".")
        return parts[2] if len(parts) > 2 and parts[1] == "playbooks" else None

    crossings = [f"{module} imports {target}" for module, targets in sorted(GRAPH.items())
                 for target in sorted(targets)
                 if playbook(module) and playbook(target) and playbook(module) != playbook(target)]
    assert crossings == []


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert circles(GRAPH) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text("def later():\n    from orchestrator.store import paths\n"
                      "    from . import fmt\n    import orchestrator.redact\n")
    assert imports_of("orchestrator.probe", source) == {
        "orchestrator.store.paths", "orchestrator.fmt", "orchestrator.redact"}


def test_a_module_outside_the_table_is_refused():
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("orchestrator.newfolder.thing")


@pytest.mark.parametrize("folder", sorted(
    path.parent for path in PACKAGE.rglob("__init__.py") if "__pycache__" not in path.parts))
def test_every_folder_says_what_lives_there_and_who_may_import_it(folder):
    docstring = ast.get_docstring(ast.parse((folder / "__init__.py").read_text()))
    assert docstring, f"{folder}/__init__.py has no docstring"
    words = docstring.split()
    assert len(words) >= 25, f"{folder}/__init__.py: one paragraph, please ({len(words)} words)"
    assert "import" in docstring.lower(), f"{folder}/__init__.py: say who may import it"
