"""No import cycles among our modules, counting the imports written inside functions: one of those
runs on first call and can re-enter a module still being built (a blueprint importing its parent
while the parent imports it). Imports under `if TYPE_CHECKING:` never run, so they don't count."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "models", "wechat", "qr")


def module_files() -> dict[str, Path]:
    """Dotted name -> file, for every module of our packages (migration scripts excepted)."""
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "versions" in path.parts:  # Alembic's scripts, loaded by path, never imported
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _runs(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of the module but those under `if TYPE_CHECKING:` (its `else:` does run)."""
    skipped = {id(inner) for node in ast.walk(tree)
               if isinstance(node, ast.If) and _is_type_checking(node.test)
               for statement in node.body for inner in ast.walk(statement)}
    return (node for node in ast.walk(tree) if id(node) not in skipped)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _source(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of the module `from … import` reads from."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    base = base[:len(base) - node.level + (1 if is_package else 0)]
    return ".".join([*base, node.module] if node.module else base)


def _imported(node: ast.AST, module: str, is_package: bool, known: set[str]) -> Iterator[str]:
    """The modules an import statement runs: for `from x import y`, x.y when that is a module
    of ours, else x (the packages above a module are not counted as imported by it)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        source = _source(node, module, is_package)
        for alias in node.names:
            yield f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ours that `module` imports, at its top or inside its functions."""
    is_package = path.name == "__init__.py"
    return {name for node in _runs(ast.parse(path.read_text("utf-8")))
            for name in _imported(node, module, is_package, known)} & known - {module}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as [a, b, …, a], or None; depth first, walking modules in sorted order."""
    state: dict[str, str] = {}
    trail: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = "open"
        trail.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == "open":
                return [*trail[trail.index(target):], target]
            found = None if target in state else visit(target)
            if found:
                return found
        state[module] = "done"
        trail.pop()
        return None

    return next(filter(None, (visit(m) for m in sorted(graph) if m not in state)), None)


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    return {module: imports_of(module, path, set(files)) for module, path in files.items()}


def test_the_finder_sees_imports_inside_functions_but_not_type_checking(tmp_path: Path) -> None:
    written = tmp_path / "a.py"
    written.write_text("from typing import TYPE_CHECKING\n"
                       "if TYPE_CHECKING:\n    import app.b\n"
                       "def f():\n    from app import c\n    from .d import e\n")
    known = {"app", "app.a", "app.b", "app.c", "app.d"}
    assert imports_of("app.a", written, known) == {"app.c", "app.d"}
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
