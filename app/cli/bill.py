"""`warmfund bill check`: the day's WeChat Pay trade bill against the ledger."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from app.runtime import current_runtime
from app.services.actor import SYSTEM
from app.services.errors import DomainError
from app.services.payments import bill, bill_checks


@click.group("bill")
def bill_group() -> None:
    """WeChat Pay's daily trade bill."""


@bill_group.command("check")
@click.option("--date", "day", default=None, metavar="YYYY-MM-DD",
              help="The bill's day, Asia/Shanghai (default: yesterday).")
@with_appcontext
def bill_check(day: str | None) -> None:
    """Check a day's trade bill against the ledger; record payments only the bill knows of.

    Exits 0 when nothing is left unexplained, 1 when findings remain, 2 when the bill could not
    be fetched or verified (a day whose bill WeChat Pay has not made yet says so)."""
    rt = current_runtime()
    try:
        bill_date = (bill_checks.parse_bill_date(day) if day is not None
                     else bill_checks.yesterday(rt.deps.clock()))
    except DomainError as exc:
        raise click.BadParameter(exc.message, param_hint="--date") from exc
    with rt.sessions() as session:
        check_id = bill.check_bill(session, rt.deps, SYSTEM, bill_date)
        check = bill_checks.get_check(session, SYSTEM, check_id)
    for line in bill_checks.report_lines(check):
        click.echo(line)
    sys.exit(bill_checks.exit_code(check))
