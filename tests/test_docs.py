"""The documents a user reads: the README stays a front door, and every document says what it
has to say inside the repository (its links lead to files that are here, and none of them
sends the reader to a document kept somewhere else)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {".git", ".venv", "node_modules", "artifacts"}
DOCUMENTS = sorted(p for p in ROOT.rglob("*.md")
                   if not SKIPPED_DIRS & set(p.relative_to(ROOT).parts))
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
# Names of notes that belong to the people who build warmfund, not to its users.
OUTSIDE_NAMES = re.compile(r"DESIGN\.md|STYLE\.md|wechat-protocol\.md|perf-notes\.md"
                           r"|\.\./shared|shared/vectors")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_readme_is_a_front_door() -> None:
    lines = (ROOT / "README.md").read_text("utf-8").splitlines()
    assert len(lines) <= 160
    assert lines[0].startswith("# warmfund")


def test_there_are_documents_to_check() -> None:
    names = {_name(p) for p in DOCUMENTS}
    assert {"README.md", "docs/design.md", "docs/api.md", "bench/README.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_links_stay_inside_the_repository(document: Path) -> None:
    broken = []
    for target in LINK.findall(document.read_text("utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or a heading of the same page
        path = (document.parent / target.split("#")[0]).resolve()
        if not path.is_relative_to(ROOT) or not path.exists():
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=_name)
def test_no_document_points_outside_the_repository(document: Path) -> None:
    assert OUTSIDE_NAMES.findall(document.read_text("utf-8")) == []
