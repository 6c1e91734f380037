"""WeChat Pay's daily trade bill (交易账单): read it as a stream, by the header's column names.

The file is a header line, one line per trade with every field prefixed by a backtick, then a
summary header and one summary line. The bill is refused (BillError) when its rows do not add up
to its own summary or when its SHA-1 differs from the `hash_value` WeChat Pay gave with the
download address. Both are known only at the end, so `BillReader.rows()` yields every row first
and raises after the last one: a caller stages what it reads and acts only once the loop ends.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, cast

from wechat.timeutil import CHINA_TZ

GZIP_MAGIC = b"\x1f\x8b"

# The columns warmfund reads; a bill without one of them is refused. Others are ignored.
TIME, APPID, MCHID = "交易时间", "公众账号ID", "商户号"
TRANSACTION_ID, OUT_TRADE_NO, OPENID = "微信订单号", "商户订单号", "用户标识"
TRADE_STATE, SETTLEMENT, ORDER_AMOUNT = "交易状态", "应结订单金额", "订单金额"
REFUND_ID, OUT_REFUND_NO, REFUND_AMOUNT, REFUND_STATUS = (
    "微信退款单号", "商户退款单号", "退款金额", "退款状态")
FEE = "手续费"
REQUIRED_COLUMNS = (TIME, TRANSACTION_ID, OUT_TRADE_NO, TRADE_STATE, SETTLEMENT, REFUND_AMOUNT,
                    FEE)

SUMMARY_COUNT, SUMMARY_SETTLEMENT, SUMMARY_REFUND, SUMMARY_FEE = (
    "总交易单数", "应结订单总金额", "退款总金额", "手续费总金额")
SUMMARY_ORDER = "订单总金额"
REQUIRED_SUMMARY = (SUMMARY_COUNT, SUMMARY_SETTLEMENT, SUMMARY_REFUND, SUMMARY_FEE)


class BillError(ValueError):
    """A bill warmfund refuses; `reason` is hash_mismatch, summary_mismatch or malformed."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class BillLocation:
    """WeChat Pay's answer to a bill request: where to download it and its digest."""

    hash_type: str
    hash_value: str
    download_url: str


@dataclass(frozen=True, slots=True)
class BillRow:
    """One trade of the bill. A refund is its own row, with trade_state REFUND."""

    trade_time: datetime
    transaction_id: str
    out_trade_no: str
    trade_state: str
    settlement_fen: int
    order_fen: int
    refund_fen: int
    fee: Decimal
    openid: str = ""
    appid: str = ""
    mchid: str = ""
    refund_id: str = ""
    out_refund_no: str = ""
    refund_status: str = ""

    @property
    def is_payment(self) -> bool:
        return self.trade_state == "SUCCESS"

    @property
    def is_refund(self) -> bool:
        return self.trade_state == "REFUND"


@dataclass(frozen=True)
class BillSummary:
    count: int
    settlement_fen: int
    refund_fen: int
    fee: Decimal
    order_fen: int | None = None

    @property
    def fee_fen(self) -> int:
        """The fees in whole fen (the bill states them to a thousandth of a fen)."""
        return int((self.fee * 100).to_integral_value(rounding="ROUND_HALF_UP"))


def open_bill(raw: IO[bytes]) -> IO[bytes]:
    """The bill's text as a binary stream, decompressed when the download is gzip."""
    start = raw.read(2)
    raw.seek(0)
    if start == GZIP_MAGIC:
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    return raw


def _decimal(text: str, column: str) -> Decimal:
    try:
        value = Decimal(text.rstrip("%") or "0")
    except InvalidOperation as exc:
        raise BillError("malformed", f"{column} is not a number: {text!r}") from exc
    if not value.is_finite():
        raise BillError("malformed", f"{column} is not a number: {text!r}")
    return value


def yuan_to_fen(text: str, column: str) -> int:
    """'1.00' → 100; a yuan amount that is not a whole number of fen is malformed."""
    fen = _decimal(text, column) * 100
    if fen != fen.to_integral_value():
        raise BillError("malformed", f"{column} is not a whole number of fen: {text!r}")
    return int(fen)


def _fields(line: str) -> list[str]:
    # Every field starts with a backtick, so splitting on ",`" keeps a comma inside a
    # description (商品名称) where it belongs.
    if not line.startswith("`"):
        raise BillError("malformed", f"a data line without backticks: {line[:60]!r}")
    return line[1:].split(",`")


class _Columns:
    """Positions of the columns by name, from a header line."""

    def __init__(self, header: str, required: tuple[str, ...]) -> None:
        names = [name.strip() for name in header.lstrip("\ufeff").split(",")]
        self.positions = {name: index for index, name in enumerate(names) if name}
        self.width = len(names)
        missing = [name for name in required if name not in self.positions]
        if missing:
            raise BillError("malformed", f"the header lacks {', '.join(missing)}")

    def values(self, line: str) -> dict[str, str]:
        fields = _fields(line)
        if len(fields) != self.width:
            raise BillError("malformed", f"{len(fields)} fields where the header has "
                                         f"{self.width}: {line[:60]!r}")
        return {name: fields[index].strip() for name, index in self.positions.items()}


def _unless_zero(text: str) -> str:
    # A payment's row writes its (absent) refund numbers as 0.
    return "" if text == "0" else text


def _row(values: dict[str, str]) -> BillRow:
    text = values[TIME]
    try:
        # fromisoformat is several times faster than strptime; the length and the space pin
        # the one form the bill uses (YYYY-MM-DD HH:MM:SS).
        if len(text) != 19 or text[10] != " ":
            raise ValueError(text)
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BillError("malformed", f"{TIME} {values[TIME]!r}") from exc
    return BillRow(
        trade_time=moment.replace(tzinfo=CHINA_TZ),
        transaction_id=values[TRANSACTION_ID],
        out_trade_no=values[OUT_TRADE_NO],
        trade_state=values[TRADE_STATE],
        settlement_fen=yuan_to_fen(values[SETTLEMENT], SETTLEMENT),
        order_fen=yuan_to_fen(values.get(ORDER_AMOUNT) or values[SETTLEMENT], ORDER_AMOUNT),
        refund_fen=yuan_to_fen(values[REFUND_AMOUNT], REFUND_AMOUNT),
        fee=_decimal(values[FEE], FEE),
        openid=values.get(OPENID, ""),
        appid=values.get(APPID, ""),
        mchid=values.get(MCHID, ""),
        refund_id=_unless_zero(values.get(REFUND_ID, "")),
        out_refund_no=_unless_zero(values.get(OUT_REFUND_NO, "")),
        refund_status=values.get(REFUND_STATUS, ""),
    )


def _summary(header: str, line: str) -> BillSummary:
    values = _Columns(header, REQUIRED_SUMMARY).values(line)
    count = values[SUMMARY_COUNT]
    if not count.isdigit():
        raise BillError("malformed", f"{SUMMARY_COUNT} {count!r}")
    order = values.get(SUMMARY_ORDER)
    return BillSummary(
        count=int(count),
        settlement_fen=yuan_to_fen(values[SUMMARY_SETTLEMENT], SUMMARY_SETTLEMENT),
        refund_fen=yuan_to_fen(values[SUMMARY_REFUND], SUMMARY_REFUND),
        fee=_decimal(values[SUMMARY_FEE], SUMMARY_FEE),
        order_fen=yuan_to_fen(order, SUMMARY_ORDER) if order else None,
    )


class BillTally:
    """Running sums of a bill's rows, to hold against its summary."""

    def __init__(self) -> None:
        self.count = self.settlement_fen = self.refund_fen = self.order_fen = 0
        self.fee = Decimal(0)

    def add(self, row: BillRow) -> None:
        self.count += 1
        self.settlement_fen += row.settlement_fen
        self.refund_fen += row.refund_fen
        self.order_fen += row.order_fen
        self.fee += row.fee

    def disagreements(self, summary: BillSummary) -> list[str]:
        # The summary states the fees to its own precision: compare at that precision.
        exponent = summary.fee.as_tuple().exponent
        fee = self.fee.quantize(Decimal(1).scaleb(int(exponent)), rounding="ROUND_HALF_UP")
        pairs = [(SUMMARY_COUNT, self.count, summary.count),
                 (SUMMARY_SETTLEMENT, self.settlement_fen, summary.settlement_fen),
                 (SUMMARY_REFUND, self.refund_fen, summary.refund_fen),
                 (SUMMARY_FEE, fee, summary.fee)]
        if summary.order_fen is not None:
            pairs.append((SUMMARY_ORDER, self.order_fen, summary.order_fen))
        return [f"{name}: rows {mine}, summary {stated}" for name, mine, stated in pairs
                if mine != stated]


class BillReader:
    """Reads one bill; `rows()` yields every trade, then checks the summary and the digest."""

    def __init__(self, text: IO[bytes], hash_value: str, hash_type: str = "SHA1") -> None:
        if hash_type.upper() != "SHA1":
            raise BillError("malformed", f"unsupported hash_type {hash_type!r}")
        self._text = text
        self._expected = hash_value.strip().lower()
        self._digest = hashlib.sha1(usedforsecurity=False)
        self.summary: BillSummary | None = None

    def _lines(self) -> Iterator[str]:
        # The digest covers the bill's bytes exactly as WeChat Pay made them, line ends and all.
        for raw in self._text:
            self._digest.update(raw)
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                raise BillError("malformed", "the bill is not UTF-8") from exc
            if line.strip():
                yield line

    def rows(self) -> Iterator[BillRow]:
        lines = self._lines()
        columns = _Columns(next(lines, ""), REQUIRED_COLUMNS)
        tally = BillTally()
        for line in lines:
            if line.lstrip("\ufeff").startswith(SUMMARY_COUNT):
                self.summary = _summary(line, next(lines, ""))
                break
            row = _row(columns.values(line))
            tally.add(row)
            yield row
        for extra in lines:
            raise BillError("malformed", f"a line after the summary: {extra[:60]!r}")
        self._check(tally)

    def _check(self, tally: BillTally) -> None:
        if self._digest.hexdigest() != self._expected:
            raise BillError("hash_mismatch", f"SHA-1 {self._digest.hexdigest()} is not the "
                                             f"{self._expected} WeChat Pay stated")
        if self.summary is None:
            raise BillError("malformed", "the bill has no summary")
        problems = tally.disagreements(self.summary)
        if problems:
            raise BillError("summary_mismatch", "; ".join(problems))
