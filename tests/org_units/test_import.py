"""`warmfund units import`: every kind of bad file is refused whole, with row numbers; good files
in UTF-8, UTF-8 with BOM, GBK and XLSX import; a re-import moves units and their totals."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.cli.units import units_import
from app.services.deps import utc_now
from app.services.units.unit_import import (
    ImportFileError,
    import_units,
    read_rows,
    template_csv,
)
from models import Unit
from tests.helpers import Api
from tests.org_units.conftest import paid_donation, subtree_total

GOOD = ("code,name,parent_code,kind,headcount\n"
        "DX,大兴区总工会,,district,\n"
        "DX-XF,兴丰街道总工会,DX,street,1200\n"
        "XF-1,兴丰第一企业工会,DX-XF,enterprise,35\n")


def _import(session: Any, name: str, content: bytes) -> Any:
    return import_units(session, read_rows(name, content), utc_now())


def _problems(session: Any, name: str, content: bytes) -> list[str]:
    with pytest.raises(ImportFileError) as caught:
        _import(session, name, content)
    assert session.scalar(select(func.count()).select_from(Unit)) == 0, "nothing imported"
    return caught.value.problems


def _xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("body, expected", [
    ("A,甲,,district\nB,乙,A,street\nA,丙,,town\n", "第 4 行：单位编码 A 与第 2 行重复"),
    ("A,甲,,district\nB,乙,ZZ,street\n", "第 3 行：上级单位 ZZ 不存在"),
    ("A,甲,C,district\nB,乙,A,street\nC,丙,B,town\n", "形成了循环"),
    ("A,甲,A,district\n", "第 2 行：单位 A 的上级关系形成了循环"),
    ("A B,甲,,district\n", "第 2 行：单位编码 'A B' 不合规"),
    ("ABCDEFGHIJKLMNOPQ,甲,,district\n", "第 2 行：单位编码"),
    ("A,甲,,county\n", "第 2 行：单位类型 'county' 无效"),
    ("A,,,district\n", "第 2 行：单位名称不能为空"),
    ("A,甲,,district,-3\n", "第 2 行：职工人数 '-3'"),
    ("A,甲,,district,十\n", "第 2 行：职工人数 '十'"),
])
def test_a_bad_csv_row_is_reported_with_its_row_and_nothing_is_imported(
        session: Any, body: str, expected: str) -> None:
    problems = _problems(session, "units.csv", ("code,name,parent_code,kind,headcount\n"
                                                + body).encode())
    assert any(expected in p for p in problems), problems


def test_every_problem_of_a_file_is_listed(session: Any) -> None:
    body = "code,name,parent_code,kind\nA,甲,,district\nA,乙,,town\nB!,丙,Q,planet\n"
    problems = _problems(session, "units.csv", body.encode())
    assert len(problems) == 4, problems
    assert {p.split("：")[0] for p in problems} == {"第 3 行", "第 4 行"}


def test_a_wrong_header_is_refused(session: Any) -> None:
    assert _problems(session, "units.csv", "编码,名称\nA,甲\n".encode())[0].startswith("第 1 行")


def test_an_empty_file_is_refused(session: Any) -> None:
    assert _problems(session, "units.csv", b"") == ["文件是空的"]


@pytest.mark.parametrize("encode", [
    lambda text: text.encode("utf-8"),
    lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
    lambda text: text.encode("gbk"),
    lambda text: text.encode("gb18030"),
    lambda text: text.encode("utf-16"),
], ids=["utf-8", "utf-8-bom", "gbk", "gb18030", "utf-16"])
def test_good_csv_in_any_encoding_excel_writes(session: Any, encode: Any) -> None:
    report = _import(session, "units.csv", encode(GOOD.replace("\n", "\r\n")))
    assert report.created == ["DX", "DX-XF", "XF-1"]
    unit = session.scalar(select(Unit).where(Unit.code == "XF-1"))
    assert (unit.name, unit.headcount, unit.kind) == ("兴丰第一企业工会", 35, "enterprise")


def test_good_xlsx_imports(session: Any) -> None:
    rows = [["code", "name", "parent_code", "kind", "headcount"],
            ["DX", "大兴区总工会", None, "district", None],
            ["DX-XF", "兴丰街道总工会", "DX", "street", 1200.0]]
    report = _import(session, "units.xlsx", _xlsx(rows))
    assert report.created == ["DX", "DX-XF"]
    assert session.scalar(select(Unit.headcount).where(Unit.code == "DX-XF")) == 1200


def test_bad_xlsx_rows_are_reported(session: Any) -> None:
    rows = [["code", "name", "parent_code", "kind"], ["DX", "大兴", None, "district"],
            ["XF", "兴丰", "NOPE", "street"], ["XF", "重复", "DX", "moon"]]
    problems = _problems(session, "units.xlsx", _xlsx(rows))
    assert any(p.startswith("第 3 行：上级单位 NOPE") for p in problems)
    assert any(p.startswith("第 4 行：单位编码 XF 与第 3 行重复") for p in problems)
    assert any("'moon'" in p for p in problems)


def test_a_file_that_is_not_xlsx_is_refused(session: Any) -> None:
    assert _problems(session, "units.xlsx", b"PK\x03\x04 not really") == ["不是有效的 XLSX 文件"]


def test_reimport_moves_a_unit_and_its_totals_follow(api: Api, session: Any) -> None:
    _import(session, "units.csv", (GOOD + "DX-HC,黄村镇总工会,DX,town,\n").encode())
    paid_donation(api, "XF-1", "alice", quantity=3)
    assert (subtree_total(api, "DX-XF"), subtree_total(api, "DX-HC")) == (300, 0)
    moved = GOOD.replace("XF-1,兴丰第一企业工会,DX-XF", "XF-1,黄村第一企业工会,DX-HC")
    report = _import(session, "units.csv", (moved + "DX-HC,黄村镇总工会,DX,town,\n").encode())
    assert report.updated == ["XF-1"]
    assert (subtree_total(api, "DX-XF"), subtree_total(api, "DX-HC")) == (0, 300)
    assert subtree_total(api, "DX") == 300
    assert api.get("/api/units/XF-1").get_json()["path"][1]["code"] == "DX-HC"


def test_an_import_recounts_only_the_subtrees_its_moves_change(api: Api, session: Any) -> None:
    from sqlalchemy import text

    from app.services.payments.ledger_check import LedgerCheck

    tree = GOOD + "DX-HC,黄村镇总工会,DX,town,\nHC-1,黄村第一企业工会,DX-HC,enterprise,\n"
    _import(session, "units.csv", tree.encode())
    for n in range(6):
        paid_donation(api, "XF-1", f"w{n}", quantity=n + 1)  # 2,100 fen
    paid_donation(api, "HC-1", "w0", quantity=4)  # one of the same donors: 400 fen
    shards = text("SELECT u.code, count(*) FROM totals t JOIN units u ON u.id = t.unit_id "
                  "WHERE t.scope = 'subtree' GROUP BY u.code")
    session.rollback()
    before = dict(session.execute(shards).all())
    assert before["DX"] > 1  # payments spread the root's total over several shards
    # XF-1 moves under a unit the same file creates, HC-1 moves to the street; a new unit
    # appears under the root.
    moved = (GOOD.replace("XF-1,兴丰第一企业工会,DX-XF", "XF-1,兴丰第一企业工会,HC-NEW")
             + "DX-HC,黄村镇总工会,DX,town,\nHC-NEW,黄村新园区工会,DX-HC,park,\n"
             + "HC-1,黄村第一企业工会,DX-XF,enterprise,\nDX-NEW,新街道总工会,DX,street,\n")
    report = _import(session, "units.csv", moved.encode())
    assert report.created == ["HC-NEW", "DX-NEW"] and report.updated == ["XF-1", "HC-1"]
    session.rollback()
    after = dict(session.execute(shards).all())
    assert after["DX"] == before["DX"]  # above every move and every new unit: not recounted
    assert (after["DX-XF"], after["DX-HC"]) == (1, 1)  # recounted into one shard
    assert [subtree_total(api, code) for code in ("DX", "DX-XF", "DX-HC", "HC-NEW", "DX-NEW")] \
        == [2500, 400, 2100, 2100, 0]
    assert not LedgerCheck.of(session)
    donors = {code: next(t["donor_count"] for t in api.get(f"/api/units/{code}").get_json()
                         ["totals"] if t["campaign"] == "one-yuan")
              for code in ("DX", "DX-XF", "DX-HC")}
    assert donors == {"DX": 6, "DX-XF": 1, "DX-HC": 6}  # w0 gave in both places: once at DX


def test_reimport_lists_missing_units_and_leaves_them(session: Any) -> None:
    _import(session, "units.csv", GOOD.encode())
    without = GOOD.replace("XF-1,兴丰第一企业工会,DX-XF,enterprise,35\n", "")
    report = _import(session, "units.csv", without.encode())
    assert report.missing == ["XF-1"]
    assert report.unchanged == 2
    assert session.scalar(select(Unit.name).where(Unit.code == "XF-1")) == "兴丰第一企业工会"


def test_the_command_prints_problems_and_fails(app: Any, tmp_path: Path, session: Any) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes("code,name,parent_code,kind\nA,甲,ZZ,district\n".encode("gbk"))
    result = app.test_cli_runner().invoke(units_import, [str(path)])
    assert result.exit_code != 0
    assert "第 2 行：上级单位 ZZ 不存在" in result.output
    assert session.scalar(select(func.count()).select_from(Unit)) == 0


def test_the_command_imports_the_demo_tree(app: Any, session: Any) -> None:
    demo = Path(__file__).resolve().parents[2] / "app" / "demo" / "units.csv"
    result = app.test_cli_runner().invoke(units_import, [str(demo)])
    assert result.exit_code == 0, result.output
    assert "新增 40 个单位，修改 0 个，0 个不变" in result.output
    assert session.scalar(select(func.count()).select_from(Unit)) == 40


CHINESE = ("单位编码,单位名称,上级单位,类型,职工人数\r\n"
           "DX,大兴区总工会,,区总工会,\r\n"
           "DX-XF,兴丰街道总工会,DX,街道总工会,1200\r\n"
           "XF-1,兴丰第一企业工会,DX-XF,企业,35\r\n"
           "XF-2,兴丰社区工会,DX-XF,基层工会,\r\n")


def test_a_gbk_file_with_the_chinese_header_and_kinds_imports(session: Any) -> None:
    report = _import(session, "单位.csv", CHINESE.encode("gbk"))
    assert report.created == ["DX", "DX-XF", "XF-1", "XF-2"]
    kinds = {code: kind for code, kind in session.execute(select(Unit.code, Unit.kind))}
    assert kinds == {"DX": "district", "DX-XF": "street", "XF-1": "enterprise",
                     "XF-2": "grassroots"}
    # Columns are found by their header, in any order; the template's own header imports.
    reordered = "类型,单位名称,单位编码,上级单位\n企业,兴丰第二企业工会,XF-3,DX-XF\n"
    assert _import(session, "units.csv", reordered.encode("utf-8")).created == ["XF-3"]
    assert read_rows("template.csv", template_csv())[1].kind == "enterprise"


def test_a_wrong_kind_names_the_chinese_kinds(session: Any) -> None:
    problems = _problems(session, "units.csv",
                         "单位编码,单位名称,上级单位,类型\nA,甲,,县总工会\n".encode("gbk"))
    assert problems == ["第 2 行：单位类型 '县总工会' 无效（可填 区总工会、镇总工会、街道总工会、"
                        "产业基地、基层工会、企业）"]


def test_the_command_summarizes_in_chinese(app: Any, tmp_path: Path, session: Any) -> None:
    demo = Path(__file__).resolve().parents[2] / "app" / "demo" / "units.csv"
    runner = app.test_cli_runner()
    assert runner.invoke(units_import, [str(demo)]).exit_code == 0
    one = tmp_path / "one.csv"
    one.write_bytes("单位编码,单位名称,上级单位,类型\nDX-XF-09,某新公司工会,DX-XF,企业\n"
                    .encode("gbk"))
    result = runner.invoke(units_import, [str(one)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines == ["新增 1 个单位，修改 0 个，0 个不变",
                     "另有 40 个已有单位不在文件中，保持不变（DX、DX-AD、DX-BIO、DX-BIO-01、"
                     "DX-BIO-02等）"]
    bad = tmp_path / "bad.csv"
    bad.write_bytes("单位编码,单位名称,上级单位,类型\nB,乙,ZZ,企业\n".encode("gbk"))
    refused = runner.invoke(units_import, [str(bad)])
    assert refused.exit_code == 1
    assert refused.output.strip().splitlines()[-1] == "共 1 处问题，未导入任何内容"
    assert "Error" not in refused.output and "problem" not in refused.output


def test_the_console_offers_the_template(api: Api, boss: dict[str, str]) -> None:
    from tests.admin.helpers import console_as
    from tests.org_units.conftest import PASSWORD

    client = console_as(api, "boss", PASSWORD)
    page = client.get("/admin/units").get_data(as_text=True)
    assert 'data-testid="units-template"' in page
    reply = client.get("/admin/units/template.csv")
    assert reply.status_code == 200 and "attachment" in reply.headers["Content-Disposition"]
    assert reply.data.decode("utf-8-sig").startswith("单位编码,单位名称,上级单位,类型,职工人数")
