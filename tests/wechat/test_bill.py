"""The trade bill reader, pinned by fixtures written from WeChat Pay's documented layout, and
the writer the stand-in serves, read back by the reader."""

from __future__ import annotations

import gzip
import hashlib
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from wechat.bill import BillError, BillReader, BillRow, open_bill
from wechat.bill_format import DOCUMENTED_COLUMNS, bill_lines, fee_of, write_bill
from wechat.timeutil import CHINA_TZ

BILLS = Path(__file__).parent / "fixtures" / "bills"
DAY_SHA1 = "ed24825e68c7940731603e63625bdcff72206d5a"  # of day_crlf.csv, as WeChat states it


def _sha1(name: str) -> str:
    return hashlib.sha1(open_bill(io.BytesIO((BILLS / name).read_bytes())).read()).hexdigest()


def _read(name: str, hash_value: str | None = None) -> tuple[list[BillRow], BillReader]:
    reader = BillReader(open_bill(io.BytesIO((BILLS / name).read_bytes())),
                        hash_value or _sha1(name))
    return list(reader.rows()), reader


def _trades(rows: list[BillRow]) -> list[tuple[str, str, int, int, str]]:
    return [(r.out_trade_no, r.trade_state, r.order_fen, r.refund_fen, r.out_refund_no)
            for r in rows]


EXPECTED = [("WF20261201A0001", "SUCCESS", 100, 0, ""),
            ("WF20261201A0002", "SUCCESS", 1000, 0, ""),
            ("WF20261201A0003", "SUCCESS", 200, 0, ""),
            ("WF20261201A0001", "REFUND", 0, 100, "WFR20261201A0001")]


@pytest.mark.parametrize("name", ["day_crlf.csv", "day_lf.csv", "columns_reordered.csv",
                                  "day_crlf.csv.gz"])
def test_a_bill_reads_the_same_whatever_its_line_ends_column_order_or_compression(
        name: str) -> None:
    rows, reader = _read(name)
    assert _trades(rows) == EXPECTED
    assert reader.summary is not None
    assert (reader.summary.count, reader.summary.settlement_fen, reader.summary.refund_fen,
            reader.summary.fee_fen) == (4, 1300, 100, 7)
    first, refund = rows[0], rows[3]
    assert first.trade_time == datetime(2026, 12, 1, 9, 15, 2, tzinfo=CHINA_TZ)
    assert (first.transaction_id, first.openid, first.fee) == (
        "4200002701202612010000000001", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", Decimal("0.00600"))
    assert (refund.is_refund, refund.refund_id, refund.refund_status, refund.fee) == (
        True, "50300000012026120100000000001", "SUCCESS", Decimal("-0.00600"))


def test_the_gzip_download_is_hashed_as_the_bill_inside_it() -> None:
    # WeChat Pay's hash_value is the digest of the bill itself (gzip decompressed first).
    assert _sha1("day_crlf.csv.gz") == _sha1("day_crlf.csv") == DAY_SHA1
    rows, _ = _read("day_crlf.csv.gz", DAY_SHA1.upper())
    assert len(rows) == 4


def test_a_hash_that_does_not_match_is_refused_after_the_last_row() -> None:
    reader = BillReader(io.BytesIO((BILLS / "day_lf.csv").read_bytes()), DAY_SHA1)
    seen = []
    with pytest.raises(BillError) as refused:
        for row in reader.rows():
            seen.append(row)
    assert refused.value.reason == "hash_mismatch" and len(seen) == 4


def test_a_summary_that_does_not_add_up_is_refused() -> None:
    with pytest.raises(BillError) as refused:
        _read("summary_off.csv")
    assert refused.value.reason == "summary_mismatch"
    assert "应结订单总金额: rows 1300, summary 1400" in refused.value.detail


def test_refund_rows_read_whole_partial_and_in_flight() -> None:
    # LF line ends, a description with a comma in it, two refunds of one payment: the first
    # done, the second still PROCESSING (merchant refund number as WeChat Pay fills it in).
    rows, reader = _read("refunds_lf.csv")
    assert [(r.trade_state, r.settlement_fen, r.refund_fen, r.out_refund_no, r.refund_status)
            for r in rows] == [
        ("SUCCESS", 1000, 0, "", ""),
        ("REFUND", 0, 300, "WF20261202B0001R1", "SUCCESS"),
        ("REFUND", 0, 200, "50300000022026120200000000012", "PROCESSING")]
    assert {r.out_trade_no for r in rows} == {"WF20261202B0001"}
    assert [r.is_refund for r in rows] == [False, True, True]
    assert [r.fee for r in rows] == [Decimal("0.06000"), Decimal("-0.01800"), Decimal("-0.01200")]
    assert (rows[0].refund_id, rows[1].refund_id) == ("", "50300000022026120200000000011")
    assert rows[2].trade_time == datetime(2026, 12, 2, 21, 12, 45, tzinfo=CHINA_TZ)
    assert reader.summary is not None
    assert (reader.summary.count, reader.summary.refund_fen, reader.summary.fee_fen) == (3, 500, 3)


@pytest.mark.parametrize("text, reason", [
    ("", "malformed"),
    ("交易时间,商户订单号\r\n", "malformed"),  # required columns missing
])
def test_a_bill_without_its_columns_is_malformed(text: str, reason: str) -> None:
    data = text.encode()
    with pytest.raises(BillError) as refused:
        list(BillReader(io.BytesIO(data), hashlib.sha1(data).hexdigest()).rows())
    assert refused.value.reason == reason


def _mangled(old: bytes, new: bytes) -> bytes:
    return (BILLS / "day_crlf.csv").read_bytes().replace(old, new, 1)


@pytest.mark.parametrize("data", [
    _mangled(b"`1.00,`0.00,`0,", b"`1.005,`0.00,`0,"),       # not a whole fen
    _mangled(b"`1.00,`0.00,`0,", b"`abc,`0.00,`0,"),         # not a number
    _mangled(b"`2026-12-01 09:15:02", b"`2026-13-01 09:15:02"),  # not a time
    _mangled(b"`WFR20261201A0001,`1.00,", b"`WFR20261201A0001,`1.0x,"),  # a refund's amount
    _mangled(b"`JSAPI,`SUCCESS", b"`JSAPI`SUCCESS"),         # a field short
    _mangled(b"`2026-12-01 09:15:02", b"2026-12-01 09:15:02"),   # no backticks
    (BILLS / "day_crlf.csv").read_bytes() + b"`extra\r\n",    # a line after the summary
    (BILLS / "day_crlf.csv").read_bytes().rsplit(b"\xe6\x80\xbb", 1)[0],  # no summary
    (BILLS / "day_crlf.csv").read_bytes().replace("西丰".encode(), b"\xff\xfe"),  # not UTF-8
])
def test_malformed_bills_are_refused(data: bytes) -> None:
    with pytest.raises(BillError) as refused:
        list(BillReader(io.BytesIO(data), hashlib.sha1(data).hexdigest()).rows())
    assert refused.value.reason == "malformed"


def test_a_refund_that_the_summary_does_not_count_is_refused() -> None:
    data = _mangled(b"`WFR20261201A0001,`1.00,", b"`WFR20261201A0001,`2.00,")
    with pytest.raises(BillError) as refused:
        list(BillReader(io.BytesIO(data), hashlib.sha1(data).hexdigest()).rows())
    assert refused.value.reason == "summary_mismatch"
    assert "退款总金额: rows 200, summary 100" in refused.value.detail


def test_an_empty_day_reads_as_no_rows() -> None:
    sink = io.BytesIO()
    sha1 = write_bill(sink, bill_lines([]), compress=False)
    sink.seek(0)
    reader = BillReader(sink, sha1)
    assert list(reader.rows()) == [] and reader.summary is not None
    assert reader.summary.count == 0


def _row(n: int, state: str = "SUCCESS", fen: int = 100) -> BillRow:
    refund = state == "REFUND"
    return BillRow(trade_time=datetime(2026, 12, 1, 8, n % 60, tzinfo=CHINA_TZ),
                   transaction_id=f"42000{n:023d}", out_trade_no=f"WF{n:08d}", trade_state=state,
                   settlement_fen=0 if refund else fen, order_fen=0 if refund else fen,
                   refund_fen=fen if refund else 0, fee=fee_of(fen, refund), openid="o-x",
                   out_refund_no=f"R{n}" if refund else "",
                   refund_status="SUCCESS" if refund else "")


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("columns", [DOCUMENTED_COLUMNS, tuple(reversed(DOCUMENTED_COLUMNS))])
def test_what_the_writer_writes_the_reader_reads_back(compress: bool,
                                                      columns: tuple[str, ...]) -> None:
    rows = [_row(n, fen=100 * (n + 1)) for n in range(7)] + [_row(3, "REFUND", 150)]
    sink = io.BytesIO()
    sha1 = write_bill(sink, bill_lines(rows, columns=columns, newline="\n"), compress=compress)
    assert sink.getvalue().startswith(b"\x1f\x8b") == compress
    sink.seek(0)
    reader = BillReader(open_bill(sink), sha1)
    assert [(r.out_trade_no, r.order_fen, r.refund_fen, r.out_refund_no, r.fee)
            for r in reader.rows()] == [
        (r.out_trade_no, r.order_fen, r.refund_fen, r.out_refund_no, r.fee) for r in rows]


def test_the_fixture_gzip_is_a_gzip_of_the_crlf_bill() -> None:
    packed = (BILLS / "day_crlf.csv.gz").read_bytes()
    assert gzip.decompress(packed) == (BILLS / "day_crlf.csv").read_bytes()
