"""/api/openapi.json is a valid OpenAPI 3.1 document that describes exactly the app's API
routes: a route added without a description, or a description left behind, fails here."""

from __future__ import annotations

import re
from typing import Any

from openapi_spec_validator import validate

from app.web.openapi import build_spec

# Pages for people, not the API: the console's HTML, the landing pages, static files and the
# development-only payment button.
NOT_THE_API = (r"/admin/(?!api/|export/).*", r"/admin/", r"/", r"/static/.*", r"/d/.*",
               r"/dev/simulate-payment/.*")
_PARAM = re.compile(r"\{[^}/]+\}")


def _api_rules(app: Any) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if any(re.fullmatch(pattern, rule.rule) for pattern in NOT_THE_API):
            continue
        found |= {(rule.rule, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def _described_rules(app: Any) -> dict[tuple[str, str], str]:
    """Each described operation -> the Flask rule a request to it reaches."""
    adapter = app.url_map.bind("localhost")
    reached = {}
    for path, operations in build_spec()["paths"].items():
        sample = _PARAM.sub("1", path)
        for method in operations:
            rule, _ = adapter.match(sample, method=method.upper(), return_rule=True)
            reached[(rule.rule, method.upper())] = path
    return reached


def test_the_description_is_valid_openapi_3_1(client: Any) -> None:
    reply = client.get("/api/openapi.json")
    assert reply.status_code == 200
    assert reply.content_type == "application/json"
    served = reply.get_json()
    assert served["openapi"] == "3.1.0"
    assert served == build_spec()
    validate(served)


def test_every_api_route_is_described(app: Any) -> None:
    missing = _api_rules(app) - set(_described_rules(app))
    assert not missing, f"routes missing from /api/openapi.json: {sorted(missing)}"


def test_nothing_described_is_missing_from_the_app(app: Any) -> None:
    # adapter.match raises NotFound / MethodNotAllowed for a description with no route.
    described = _described_rules(app)
    assert set(described) <= _api_rules(app), sorted(set(described) - _api_rules(app))


def test_every_secured_operation_declares_401() -> None:
    for path, operations in build_spec()["paths"].items():
        for method, operation in operations.items():
            statuses = {int(s) for s in operation["responses"]}
            assert any(s < 400 for s in statuses), (method, path)
            if operation.get("security"):
                assert 401 in statuses, (method, path)
