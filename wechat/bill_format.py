"""Writing a trade bill in WeChat Pay's layout: what the stand-in and the fake serve, and what
the benchmark feeds `warmfund bill check`. The reader is wechat/bill.py."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO, cast

from wechat.bill import BillLocation, BillRow, BillTally
from wechat.timeutil import CHINA_TZ

# WeChat Pay's documented header of an ALL bill, in its documented order.
DOCUMENTED_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注")
DOCUMENTED_COLUMNS = tuple(DOCUMENTED_HEADER.split(","))
SUMMARY_HEADER = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,"
    "申请退款总金额")
SUMMARY_COLUMNS = tuple(SUMMARY_HEADER.split(","))
FEE_RATE = Decimal("0.006")  # 0.60%, the usual rate of a mini-program merchant
FEE_PLACES = Decimal("0.00001")


def fee_of(row_fen: int, refund: bool = False) -> Decimal:
    """WeChat Pay's fee on an amount, to five places; a refund gives its fee back."""
    fee = (Decimal(row_fen) / 100 * FEE_RATE).quantize(FEE_PLACES, rounding="ROUND_HALF_UP")
    return -fee if refund else fee


def _yuan(fen: int) -> str:
    return f"{Decimal(fen) / 100:.2f}"


def _fields(row: BillRow, description: str) -> dict[str, str]:
    refund = row.is_refund
    return {
        "交易时间": row.trade_time.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M:%S"),
        "公众账号ID": row.appid, "商户号": row.mchid, "特约商户号": "0", "设备号": "",
        "微信订单号": row.transaction_id, "商户订单号": row.out_trade_no, "用户标识": row.openid,
        "交易类型": "JSAPI", "交易状态": row.trade_state, "付款银行": "OTHERS",
        "货币种类": "CNY", "应结订单金额": _yuan(row.settlement_fen), "代金券金额": "0.00",
        "微信退款单号": row.refund_id or "0", "商户退款单号": row.out_refund_no or "0",
        "退款金额": _yuan(row.refund_fen), "充值券退款金额": "0.00",
        "退款类型": "ORIGINAL" if refund else "", "退款状态": row.refund_status,
        "商品名称": description, "商户数据包": "", "手续费": f"{row.fee:.5f}", "费率": "0.60%",
        "订单金额": _yuan(row.order_fen), "申请退款金额": _yuan(row.refund_fen), "费率备注": "",
    }


def _summary_fields(tally: BillTally) -> dict[str, str]:
    refund = _yuan(tally.refund_fen)
    return {"总交易单数": str(tally.count), "应结订单总金额": _yuan(tally.settlement_fen),
            "退款总金额": refund, "充值券退款总金额": "0.00", "手续费总金额": f"{tally.fee:.5f}",
            "订单总金额": _yuan(tally.order_fen), "申请退款总金额": refund}


def bill_lines(rows: Iterable[BillRow], *, columns: tuple[str, ...] = DOCUMENTED_COLUMNS,
               newline: str = "\r\n", description: str = "一元捐") -> Iterator[bytes]:
    """The bill's lines as bytes, summary included, in the order `columns` names them."""
    yield (",".join(columns) + newline).encode("utf-8")
    tally = BillTally()
    for row in rows:
        values = _fields(row, description)
        yield ("`" + ",`".join(values[name] for name in columns) + newline).encode("utf-8")
        tally.add(row)
    summary = _summary_fields(tally)
    yield (",".join(SUMMARY_COLUMNS) + newline).encode("utf-8")
    yield ("`" + ",`".join(summary[name] for name in SUMMARY_COLUMNS) + newline).encode("utf-8")


def write_bill(sink: IO[bytes], lines: Iterable[bytes], *, compress: bool) -> str:
    """Write the bill (gzip when `compress`) and return the SHA-1 of its text, as WeChat Pay
    states it: the digest of the bill itself, before compression."""
    digest = hashlib.sha1(usedforsecurity=False)
    target = cast(IO[bytes], gzip.GzipFile(fileobj=sink, mode="wb", mtime=0)) if compress else sink
    try:
        for line in lines:
            digest.update(line)
            target.write(line)
    finally:
        if compress:
            target.close()
    return digest.hexdigest()


def location(download_url: str, sha1: str) -> BillLocation:
    return BillLocation(hash_type="SHA1", hash_value=sha1, download_url=download_url)
