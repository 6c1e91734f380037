"""qr is a leaf package: it speaks in plain values and bytes."""

from __future__ import annotations

import ast
from pathlib import Path

import qr

FORBIDDEN = {"app", "models", "wechat", "flask"}


def _imported_roots(source: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_qr_imports_no_application_package_or_flask() -> None:
    package = Path(qr.__file__).parent
    offenders = {
        source.name: sorted(_imported_roots(source) & FORBIDDEN)
        for source in package.glob("*.py")
        if _imported_roots(source) & FORBIDDEN
    }

    assert offenders == {}
