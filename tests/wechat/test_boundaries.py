"""`wechat` is a leaf: it never imports the app, the models, qr, or Flask."""

from __future__ import annotations

import ast
from pathlib import Path

import wechat

FORBIDDEN = {"app", "models", "qr", "flask"}
PACKAGE = Path(wechat.__file__).parent


def _imported_roots(source: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_wechat_imports_no_app_models_qr_or_flask() -> None:
    sources = sorted(PACKAGE.rglob("*.py"))
    assert len(sources) > 10
    offenders = {str(s.relative_to(PACKAGE)): _imported_roots(s) & FORBIDDEN for s in sources}
    assert {name: roots for name, roots in offenders.items() if roots} == {}


def test_modules_stay_short() -> None:
    long_modules = [
        p.name for p in PACKAGE.rglob("*.py") if len(p.read_text("utf-8").splitlines()) > 300
    ]
    assert long_modules == []
