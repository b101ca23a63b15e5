"""The package's layering, read from the source: no import cycles among genlab's modules
(imports inside functions count too), the core never imports streamlit, networks import no
training code, and the generic loop knows no family."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "genlab"


def module_names() -> dict[str, Path]:
    """genlab's modules by dotted name (a package by its ``__init__``)."""
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Every genlab module that ``name`` imports, at any depth of its code."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x / from .x import y
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from genlab import checkpoints" imports the module genlab.checkpoints
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_names()
    return {name: imports_of(path, name, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph as a list of nodes (first == last), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_imports_inside_functions(tmp_path):
    modules = {"genlab.x": tmp_path / "x.py", "genlab.y": tmp_path / "y.py", "genlab": tmp_path}
    (tmp_path / "x.py").write_text("def f():\n    from genlab import y\n")
    assert imports_of(tmp_path / "x.py", "genlab.x", modules) == {"genlab.y"}


def test_no_import_cycles_in_genlab():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_core_never_imports_streamlit():
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        names += [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        assert not any(n.split(".")[0] == "streamlit" for n in names), path


@pytest.mark.parametrize("low, high", [("genlab.models", "genlab.families"),
                                       ("genlab.models", "genlab.train"),
                                       ("genlab.train", "genlab.families"),
                                       ("genlab.train", "genlab.registry"),
                                       ("genlab.families", "genlab.registry")])
def test_layers_import_downwards_only(low, high):
    """Networks know no training; the loop knows no family; families do not reach the registry."""
    for name, targets in import_graph().items():
        if name == low or name.startswith(low + "."):
            bad = [t for t in targets if t == high or t.startswith(high + ".")]
            assert not bad, f"{name} imports {bad}"
