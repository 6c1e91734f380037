"""The donations list (filters, cursor pages, bad input) and the exports built from it."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook

from app.services.formatting import SHANGHAI, yuan
from app.services.reports.exports import safe_text
from qr.fonts import CjkFontFinder
from tests.admin.helpers import error_code, seed
from tests.helpers import Api
from tests.qr.helpers import installed_cjk_font


@pytest.fixture
def seeded(api: Api, session: Any) -> dict[str, str]:
    return seed(api, session)


def test_filters_and_cursor_pages(api: Api, seeded: dict[str, str]) -> None:
    token = seeded["admin"]
    first = api.get("/admin/api/donations?limit=2", token).get_json()
    assert [d["out_trade_no"] for d in first["donations"]] == [seeded["carol"], seeded["bob"]]
    second = api.get(f"/admin/api/donations?limit=2&cursor={first['next']}", token).get_json()
    assert [d["out_trade_no"] for d in second["donations"]] == [seeded["alice"]]
    assert second["next"] is None
    hc = api.get("/admin/api/donations?unit=DX-HC&campaign=one-yuan&status=paid",
                 token).get_json()["donations"]
    assert {d["out_trade_no"] for d in hc} == {seeded["alice"], seeded["carol"]}
    assert hc[0]["transaction_id"] and hc[0]["amount_fen"] == 200 and hc[0]["anonymous"]
    assert api.get("/admin/api/donations?status=pending", token).get_json()["donations"] == []


def test_date_filters_are_shanghai_dates_with_exclusive_end(api: Api,
                                                            seeded: dict[str, str]) -> None:
    today = datetime.now(SHANGHAI).date()
    tomorrow = today + timedelta(days=1)
    token = seeded["admin"]
    same_day = api.get(f"/admin/api/donations?from={today}&to={tomorrow}", token).get_json()
    assert len(same_day["donations"]) == 3
    ended = api.get(f"/admin/api/donations?to={today}", token).get_json()
    assert ended["donations"] == []


@pytest.mark.parametrize("query", ["status=bogus", "from=2025-13-01", "to=yesterday",
                                   "from=20250301", "from=2025-W09-6", "to=2025-3-1",
                                   "from=2025-03-02&to=2025-03-01", "limit=0", "limit=501",
                                   "limit=abc", "cursor=-1", "cursor=x", "openid=" + "x" * 65])
def test_bad_filters_are_400(api: Api, session: Any, query: str) -> None:
    from tests.admin.helpers import ADMIN, token_for
    from tests.helpers import make_admin

    make_admin(session, *ADMIN)
    reply = api.get("/admin/api/donations?" + query, token_for(api, *ADMIN))
    assert reply.status_code == 400
    assert error_code(reply) == "invalid_request"


def test_unknown_campaign_or_unit_is_404(api: Api, seeded: dict[str, str]) -> None:
    for path in ("/admin/api/donations?campaign=nope", "/admin/api/donations?unit=NOPE",
                 "/admin/export/donations.csv?unit=NOPE", "/admin/api/campaigns/nope/totals"):
        reply = api.get(path, seeded["admin"])
        assert reply.status_code == 404, path
        assert error_code(reply) == "not_found"


def test_csv_export_is_excel_friendly(api: Api, seeded: dict[str, str], session: Any) -> None:
    reply = api.get("/admin/export/donations.csv?unit=DX-HC", seeded["admin"])
    assert reply.status_code == 200 and reply.is_streamed
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"  # charset once
    assert "attachment" in reply.headers["Content-Disposition"]
    assert reply.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(reply.data.decode("utf-8-sig"))))
    assert rows[0][:8] == ["订单号", "微信支付单号", "状态", "项目", "单位编码", "单位名称", "份数",
                           "金额(元)"]
    carol = next(r for r in rows[1:] if seeded["carol"] in r[0])
    assert carol[0] == f'="{seeded["carol"]}"' and carol[1].startswith('="')
    assert (carol[2], carol[3], carol[7], carol[8]) == ("已支付", "一元捐", "2.00", "是")
    assert carol[9] == "'=HYPERLINK(1)"
    assert carol[11][:4] == str(datetime.now(SHANGHAI).year) and len(carol[11]) == 19
    # The database formats the times; they must read as Python's own conversion does.
    from models import Donation

    session.rollback()
    ledger = session.query(Donation).filter_by(out_trade_no=seeded["carol"]).one()
    assert ledger.paid_at is not None
    assert (carol[11], carol[12]) == (_shanghai(ledger.created_at), _shanghai(ledger.paid_at))


def _shanghai(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def test_xlsx_export_matches_the_list(api: Api, seeded: dict[str, str]) -> None:
    reply = api.get("/admin/export/donations.xlsx", seeded["admin"])
    assert reply.status_code == 200
    sheet = load_workbook(io.BytesIO(reply.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "订单号" and len(rows) == 4
    alice = next(r for r in rows[1:] if r[0] == seeded["alice"])
    assert isinstance(alice[1], str) and alice[1].isdigit()
    assert alice[7] == pytest.approx(3.00) and alice[4] == "HC-A1"
    carol = next(r for r in rows[1:] if r[0] == seeded["carol"])
    assert carol[9] == "'=HYPERLINK(1)"
    # Times are dates to Excel (Shanghai wall time), as in the CSV.
    csv_rows = list(csv.reader(io.StringIO(api.get("/admin/export/donations.csv",
                                                   seeded["admin"]).data.decode("utf-8-sig"))))
    as_csv = next(r for r in csv_rows if seeded["carol"] in r[0])
    assert isinstance(carol[11], datetime) and isinstance(carol[12], datetime)
    assert (str(carol[11]), str(carol[12])) == (as_csv[11], as_csv[12])


def test_units_report_files_upward(api: Api, seeded: dict[str, str]) -> None:
    text = api.get("/admin/export/units-report.csv", seeded["admin"]).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["单位编码", "单位名称", "上级单位", "捐款笔数", "捐款人数", "金额(元)"]
    subtotal = {r[0]: r for r in rows if len(r) > 1 and r[1].endswith("小计")}
    assert subtotal["DX"][3:] == ["3", "3", "6.00"]
    assert subtotal["DX-HC"][3:] == ["2", "2", "5.00"]
    assert subtotal["HC-A"][3:] == ["2", "2", "5.00"]
    own = next(r for r in rows if len(r) > 1 and r[1] == "HC-A 工会（本级）")
    assert own[3:] == ["1", "1", "2.00"]
    total = next(r for r in rows if len(r) > 1 and r[1] == "合计")
    assert total[3:] == ["3", "3", "6.00"]
    # Children in the order they were added (DX-XF before DX-HC), as the console lists them.
    assert [r[0] for r in rows if len(r) > 2 and r[2] == "DX 工会"] == ["DX-XF", "DX-HC"]


def test_units_report_xlsx_and_pdf(api: Api, seeded: dict[str, str]) -> None:
    book = load_workbook(io.BytesIO(api.get("/admin/export/units-report.xlsx",
                                            seeded["admin"]).data), read_only=True)
    cells = [r for r in book.active.iter_rows(values_only=True)]
    assert cells[2][0] == "单位编码"
    assert any(r[1] == "合计" and r[5] == pytest.approx(6.0) for r in cells)
    pdf = api.get("/admin/export/units-report.pdf", seeded["admin"])
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf.data)
    text = document[0].get_textpage().get_text_range()
    document.close()
    assert "合计" in text and "6.00" in text


def _no_fontconfig() -> str | None:
    return None


def test_the_report_pdf_embeds_the_font_configured_for_posters(
        api: Api, seeded: dict[str, str]) -> None:
    # As on a server without a CJK font: the viewer's own STSong-Light.
    api.runtime.poster_fonts = CjkFontFinder(None, _no_fontconfig, candidates=())
    plain = api.get("/admin/export/units-report.pdf", seeded["admin"]).data
    assert b"STSong-Light" in plain and b"FontFile2" not in plain
    api.runtime.poster_fonts = CjkFontFinder(str(installed_cjk_font()), _no_fontconfig, ())
    embedded = api.get("/admin/export/units-report.pdf", seeded["admin"]).data
    assert b"FontFile2" in embedded and b"STSong-Light" not in embedded


def test_date_range_figures_come_from_the_ledger(api: Api, seeded: dict[str, str]) -> None:
    today = datetime.now(SHANGHAI).date()
    path = "/admin/api/campaigns/one-yuan/totals"
    now = api.get(f"{path}?from={today}&to={today + timedelta(days=1)}",
                  seeded["admin"]).get_json()
    assert now["period"]["total_fen"] == 600 and now["period"]["donor_count"] == 3
    hc = next(u for u in now["units"] if u["code"] == "DX-HC")
    assert hc["subtree_total_fen"] == 500
    before = api.get(f"{path}?to={today}", seeded["admin"]).get_json()
    assert before["period"]["total_fen"] == 0
    assert all(u["subtree_total_fen"] == 0 for u in before["units"])


def test_formatting_helpers() -> None:
    assert [yuan(0), yuan(5), yuan(100), yuan(123456)] == ["0.00", "0.05", "1.00", "1234.56"]
    assert safe_text("+1") == "'+1" and safe_text("谢谢") == "谢谢"


def test_exports_list_donations_newest_first_as_the_api_does(api: Api, seeded: dict[str, str],
                                                              session: Any) -> None:
    token = seeded["admin"]
    listed = [d["out_trade_no"] for d in
              api.get("/admin/api/donations", token).get_json()["donations"]]
    assert listed == [seeded["carol"], seeded["bob"], seeded["alice"]]  # newest first
    csv_rows = list(csv.reader(io.StringIO(
        api.get("/admin/export/donations.csv", token).data.decode("utf-8-sig"))))
    assert [r[0] for r in csv_rows[1:]] == [f'="{no}"' for no in listed]
    book = load_workbook(io.BytesIO(api.get("/admin/export/donations.xlsx", token).data),
                         read_only=True)
    assert [r[0] for r in book.active.iter_rows(min_row=2, values_only=True)] == listed
    # Read in batches smaller than the list, the order holds across the pages.
    from app.services.actor import SYSTEM
    from app.services.reports.donation_list import DonationFilter, iter_rows, resolve_filter
    from models import Donation

    session.rollback()
    rf = resolve_filter(session, SYSTEM, DonationFilter())
    paged = [row[0] for row in iter_rows(session, rf, (Donation.out_trade_no,), batch=2)]
    assert paged == listed
