"""`warmfund reconcile` and `warmfund totals verify`: the ledger against WeChat Pay, and the
running totals against the ledger (both exit 1 on what is left for a person, for cron)."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from app.runtime import current_runtime
from app.services.payments import ledger_check, reconcile


@click.command("reconcile")
@with_appcontext
def reconcile_command() -> None:
    """Ask WeChat Pay about every pending order and refund in flight; record what it says."""
    rt = current_runtime()
    with rt.sessions() as session:
        report = reconcile.reconcile(session, rt.deps)
    click.echo(f"checked {report.checked}: paid {report.paid}, closed {report.closed}, "
               f"still pending {report.still_pending}, failed {len(report.failed)}")
    refunds = report.refunds
    click.echo(f"refunds in flight checked {refunds.checked}: settled {refunds.settled}, "
               f"sent again {refunds.resent}, still processing {refunds.still_processing}")
    for failure in report.failed:
        click.echo(f"  {failure}", err=True)
    if report.failed:
        sys.exit(1)


@click.group("totals")
def totals_group() -> None:
    """Running totals against the ledger."""


@totals_group.command("verify")
@click.option("--repair", is_flag=True, help="Rebuild drifted totals from the ledger.")
@with_appcontext
def totals_verify(repair: bool) -> None:
    """Recompute every total from the ledger and report (or repair) any drift."""
    rt = current_runtime()
    with rt.sessions() as session:
        found = (ledger_check.repair_totals(session) if repair
                 else ledger_check.verify_totals(session))
    for d in found.totals:
        click.echo(f"campaign {d.campaign_id} {d.scope} {d.unit_id}: stored {d.stored}, "
                   f"ledger {d.expected}")
    for campaign_id, scope, unit_id in found.tallies:
        click.echo(f"campaign {campaign_id} {scope} {unit_id}: donor tallies differ from the "
                   "ledger")
    if not found:
        click.echo("all totals equal the ledger")
    elif not repair:
        sys.exit(1)
    else:
        click.echo(f"repaired {len(found.totals)} total(s) and the donor tallies of "
                   f"{len(found.tallies)}")
