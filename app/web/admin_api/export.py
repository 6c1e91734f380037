"""Downloads under /admin/export/: donations (CSV, XLSX) and the per-unit report
(CSV, XLSX, PDF). Bearer token or the console's session; errors in the JSON shape."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from urllib.parse import quote

from flask import Blueprint, Response
from sqlalchemy.orm import Session

from app.services.reports import exports, reports
from app.services.reports.report_files import report_csv, report_pdf, report_xlsx
from app.web.admin_api.args import campaign_code, donation_filter, period, unit_code
from app.web.auth import current_actor
from app.web.context import deps, get_session, runtime

bp = Blueprint("admin_export", __name__, url_prefix="/admin/export")

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(filename: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename=\"export.{filename.rsplit('.')[-1]}\";"
                                   f" filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def _streamed(make: Callable[[Session], Iterator[bytes]]) -> Iterator[bytes]:
    """Runs the export on a session of its own, which outlives the request's teardown."""
    session = runtime().sessions()
    try:
        chunks = make(session)
    except BaseException:
        session.close()
        raise

    def body() -> Iterator[bytes]:
        try:
            yield from chunks
        finally:
            session.close()

    return body()


@bp.get("/donations.csv")
def donations_csv() -> Response:
    actor, wanted, now = current_actor(), donation_filter(), deps().clock()
    body = _streamed(lambda s: exports.csv_chunks(s, actor, wanted, now))
    return Response(body, content_type=CSV_TYPE,
                    headers=attachment(exports.export_filename(wanted, "csv")))


@bp.get("/donations.xlsx")
def donations_xlsx() -> Response:
    actor, wanted, now = current_actor(), donation_filter(), deps().clock()
    body = _streamed(lambda s: exports.xlsx_chunks(s, actor, wanted, now))
    return Response(body, mimetype=XLSX_TYPE,
                    headers=attachment(exports.export_filename(wanted, "xlsx")))


def _report(kind: str) -> reports.Report:
    return reports.report_download(get_session(), current_actor(), campaign_code(),
                                   unit_code(), period(), kind, deps().clock())


def _report_name(suffix: str) -> str:
    return f"单位统计-{campaign_code()}.{suffix}"


@bp.get("/units-report.csv")
def report_as_csv() -> Response:
    return Response(report_csv(_report("csv")), content_type=CSV_TYPE,
                    headers=attachment(_report_name("csv")))


@bp.get("/units-report.xlsx")
def report_as_xlsx() -> Response:
    return Response(report_xlsx(_report("xlsx")), mimetype=XLSX_TYPE,
                    headers=attachment(_report_name("xlsx")))


@bp.get("/units-report.pdf")
def report_as_pdf() -> Response:
    pdf = report_pdf(_report("pdf"), runtime().poster_fonts.find())
    return Response(pdf, mimetype="application/pdf", headers=attachment(_report_name("pdf")))
