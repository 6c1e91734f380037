"""Replies checked against the OpenAPI description: the operation a request reached, and the
JSON Schema its status and media type promise."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from app.web.openapi import build_spec

_PARAM = re.compile(r"\{[^}/]+\}")


@lru_cache(maxsize=1)
def _templates() -> list[tuple[re.Pattern[str], str]]:
    found = []
    for path in build_spec()["paths"]:
        pieces = _PARAM.split(path)
        pattern = "[^/]+".join(re.escape(piece) for piece in pieces)
        found.append((re.compile(pattern), path))
    # The most literal first: /admin/api/accounts/import, not …/{username}; .wxacode.png, not .png.
    return sorted(found, key=lambda item: -len(_PARAM.sub("", item[1])))


def operation_for(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The described (path template, operation) a request reached; AssertionError if none."""
    paths = build_spec()["paths"]
    for pattern, template in _templates():
        if pattern.fullmatch(path) and method.lower() in paths[template]:
            return template, paths[template][method.lower()]
    raise AssertionError(f"{method} {path} is not described in /api/openapi.json")


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node and node["$ref"].startswith("#/components/responses/"):
        node = build_spec()["components"]["responses"][node["$ref"].rsplit("/", 1)[1]]
    return node


def check_reply(method: str, path: str, status: int, content_type: str, body: Any) -> str:
    """Asserts the reply is described and matches its schema; returns the path template."""
    template, operation = operation_for(method, path)
    described = operation["responses"].get(str(status))
    assert described is not None, f"{method} {template} answered {status}, not described"
    content = _resolve(described).get("content", {})
    media = content_type.split(";")[0].strip()
    if not content:
        assert not body, f"{method} {template} {status} has a body, described as none"
        return template
    assert media in content, f"{method} {template} {status} answered {media}, not {list(content)}"
    if media == "application/json":
        schema = {**content[media]["schema"], "components": build_spec()["components"]}
        validator = Draft202012Validator(schema, format_checker=FormatChecker())
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        assert not errors, f"{method} {template} {status}: " + "; ".join(
            f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return template
