"""No import cycle inside any of our packages (issue 9: talent's ``partner.py`` <-> ``service.py``
was one): a module that needs another's rule imports it, and the other never imports back.

Read from the source with ``ast`` (nothing is imported, so it runs in well under a second):
every ``import``/``from ... import`` of a module of the same package counts, at module level
or inside a function, except under ``if TYPE_CHECKING:`` (annotations only, never run).
Generated code (``gen/``) and migrations are not ours to shape.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    *sorted(p for p in ROOT.glob("services/*/src/kepu_*") if p.is_dir()),
    ROOT / "gateway/src/kepu_gateway",
    ROOT / "infra/devstack/src/kepu_devstack",
]
SKIPPED = {"gen", "migrations", "__pycache__", "node_modules"}
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")


def modules(package: Path) -> dict[str, Path]:
    """Dotted name -> file, for every module of the package (``pkg.sub`` for ``sub/__init__``)."""
    out: dict[str, Path] = {}
    for path in package.rglob("*.py"):
        rel = path.relative_to(package.parent)
        if SKIPPED & set(rel.parts):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run: everything but the body of ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        for field in _BLOCKS:  # statements only: an import is never inside an expression
            stack.extend(getattr(node, field, ()))


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of the same package that module ``name`` imports."""
    is_package = path.name == "__init__.py"
    here = name.split(".") if is_package else name.split(".")[:-1]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = here[: len(here) - node.level + 1] if node.level else []
            stem = ".".join([*base, *(node.module.split(".") if node.module else [])])
            # ``from pkg import sub`` imports the submodule when there is one, else a name of pkg
            subs = [f"{stem}.{alias.name}" for alias in node.names]
            targets = [s if s in known else stem for s in subs]
        for target in targets:
            while target and target not in known:  # ``import pkg.sub.name`` -> pkg.sub
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of the graph (as the chain of modules), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_check_finds_a_cycle() -> None:
    graph = {"p.service": {"p.partner"}, "p.partner": {"p.domain", "p.service"}, "p.domain": set()}
    assert cycle(graph) == ["p.partner", "p.service", "p.partner"]
    assert cycle({"p.a": {"p.b"}, "p.b": set()}) is None


@pytest.mark.parametrize("package", SOURCES, ids=lambda p: p.name)
def test_no_import_cycle_inside_the_package(package: Path) -> None:
    known = modules(package)
    assert known, f"no module found under {package}"
    graph = {name: imports(name, path, known) for name, path in known.items()}
    found = cycle(graph)
    assert found is None, "import cycle: " + " -> ".join(found or [])
