"""The layering rule, checked mechanically: models, wechat and qr are leaves, services never
import Flask, and every module and function stays short enough to read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEAVES = {
    "models": {"app", "wechat", "qr", "flask"},
    "wechat": {"app", "models", "qr", "flask"},
    "qr": {"app", "models", "wechat", "flask"},
    "app/services": {"flask", "werkzeug"},
}


def _imported_roots(source: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(LEAVES))
def test_package_imports_stay_inside_their_layer(package: str) -> None:
    sources = sorted((ROOT / package).rglob("*.py"))
    assert sources, package
    offenders = {str(s.relative_to(ROOT)): sorted(_imported_roots(s) & LEAVES[package])
                 for s in sources}
    assert {name: roots for name, roots in offenders.items() if roots} == {}


def _code(package: str) -> list[Path]:
    """The package's modules, migrations left out (Alembic writes them in its own shape)."""
    return [p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts]


@pytest.mark.parametrize("package", ["app", "models", "wechat", "qr"])
def test_modules_stay_short(package: str) -> None:
    long_modules = [str(p.relative_to(ROOT)) for p in _code(package)
                    if len(p.read_text("utf-8").splitlines()) > 320]
    assert long_modules == []


@pytest.mark.parametrize("package", ["app", "models", "wechat", "qr"])
def test_functions_stay_short(package: str) -> None:
    """No function over 40 lines (decorators left out): a longer one hides a second idea."""
    long_functions = []
    for path in _code(package):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno \
                    and node.end_lineno - node.lineno + 1 > 40:
                long_functions.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name}")
    assert long_functions == []
