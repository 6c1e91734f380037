"""Schemathesis against the real app (SQLite, or PostgreSQL with TEST_DATABASE_URL): every
described operation, with data that fits its schema and data that does not, with valid tokens
and without. No reply may be a 5xx, every reply must be described (status, media type, schema),
and afterwards the ledger must still equal the running totals.

Bounded: FUZZ_EXAMPLES cases per operation, mode and credential (a few hundred requests in all).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select

from app.infra.tokens import issue_token
from app.services.accounts.accounts import PURPOSE
from app.services.payments.ledger_check import verify_totals
from app.web.openapi import build_spec
from models import Account
from tests.admin.helpers import ADMIN, bearer, seed
from tests.helpers import Api

FUZZ_EXAMPLES = int(os.environ.get("WARMFUND_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


def _admin_token(api: Api, session: Any) -> str:
    """A fresh token of the seeded admin: a fuzzed logout or password change revokes the last."""
    session.rollback()
    account = session.scalars(select(Account).where(Account.username == ADMIN[0])).one()
    secret = api.runtime.deps.secret_key
    return issue_token(secret, PURPOSE, {"a": account.id, "g": account.token_generation})


Headers = Callable[[], dict[str, str]]
NO_CREDENTIALS: Headers = dict


def _valid_credentials(api: Api, session: Any, operation: Any) -> Headers | None:
    """The right kind of valid token for a secured operation; None for a public one."""
    schemes = {name for need in operation.definition.raw.get("security", []) for name in need}
    if "workerToken" in schemes:
        worker = api.login("fuzzer")
        return lambda: bearer(worker)
    if "adminToken" in schemes:
        return lambda: bearer(_admin_token(api, session))
    return None


@dataclass(frozen=True)
class Run:
    mode: GenerationMode
    headers: Headers
    examples: int
    path: dict[str, str] | None = None  # fixed path parameters: the seeded unit or campaign


def _runs(api: Api, session: Any, operation: Any) -> list[Run]:
    """Fitting and unfitting data as the caller who may; fitting data aimed at the seeded
    objects (the described examples of its path); fitting data without credentials, which must
    be refused (401) or public."""
    raw = operation.definition.raw
    valid = _valid_credentials(api, session, operation) or NO_CREDENTIALS
    runs = [Run(GenerationMode.POSITIVE, valid, FUZZ_EXAMPLES)]
    if raw.get("parameters") or raw.get("requestBody"):
        runs.append(Run(GenerationMode.NEGATIVE, valid, FUZZ_EXAMPLES))
    seeded = {p["name"]: p["example"] for p in raw.get("parameters", [])
              if p["in"] == "path" and "example" in p}
    if seeded:
        runs.append(Run(GenerationMode.POSITIVE, valid, FUZZ_EXAMPLES, seeded))
    if raw.get("security"):
        runs.append(Run(GenerationMode.POSITIVE, NO_CREDENTIALS, max(2, FUZZ_EXAMPLES // 3)))
    return runs


def _fuzz(operation: Any, run_as: Run, app: Any) -> None:
    strategy = operation.as_strategy(generation_mode=run_as.mode,
                                     path_parameters=run_as.path)
    headers = run_as.headers

    @given(case=strategy)
    @settings(max_examples=run_as.examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=list(HealthCheck))
    def run(case: Any) -> None:
        response = case.call(app=app, headers=headers())
        case.validate_response(response, checks=CHECKS)

    run()


def test_fuzzing_finds_no_5xx_no_undescribed_reply_and_no_drift(api: Api, session: Any) -> None:
    seed(api, session)
    schema = schemathesis.openapi.from_dict(build_spec())
    for result in schema.get_all_operations():
        operation = result.ok()
        for run_as in _runs(api, session, operation):
            _fuzz(operation, run_as, api.app)
    session.rollback()
    assert not verify_totals(session), "the ledger and the totals disagree after fuzzing"
