"""The per-unit report as files: CSV (UTF-8 with BOM), XLSX and a printable A4 PDF."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from xml.sax.saxutils import escape

from app.services.formatting import yuan
from app.services.reports.exports import BOM, XLSX_TEXT_AS_TEXT, safe_text, write_texts
from app.services.reports.reports import COLUMNS, Report
from qr.fonts import pdf_font

NOTE = "说明：捐款人数按微信用户去重，小计、合计不等于各行人数相加；金额为已支付捐款。"


def report_csv(report: Report) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_text(report.title), safe_text(report.subtitle)])
    writer.writerow(COLUMNS)
    for row in report.rows:
        code, name, parent, count, donors, fen = row.cells()
        writer.writerow([safe_text(code), safe_text(name), safe_text(parent), count, donors,
                         yuan(fen)])
    writer.writerow([NOTE])
    return buffer.getvalue().encode("utf-8")


def report_xlsx(report: Report) -> bytes:
    import xlsxwriter

    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(output, XLSX_TEXT_AS_TEXT | {"in_memory": True})
    sheet = workbook.add_worksheet("单位统计")
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "0.00"})
    strong_money = workbook.add_format({"num_format": "0.00", "bold": True})
    write_texts(sheet, 0, 0, [safe_text(report.title)], bold)
    write_texts(sheet, 1, 0, [safe_text(report.subtitle)])
    write_texts(sheet, 2, 0, COLUMNS, bold)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 2, 30)
    sheet.set_column(3, 5, 12)
    for index, row in enumerate(report.rows, start=3):
        code, name, parent, count, donors, fen = row.cells()
        strong = row.kind in ("subtotal", "total")
        write_texts(sheet, index, 0, map(safe_text, (code, name, parent)),
                    bold if strong else None)
        sheet.write_row(index, 3, (count, donors), bold if strong else None)
        sheet.write_number(index, 5, fen / 100, strong_money if strong else money)
    write_texts(sheet, len(report.rows) + 4, 0, [NOTE])
    workbook.close()
    return output.getvalue()


def report_pdf(report: Report, font_path: Path | None) -> bytes:
    """An A4 table; `font_path` (see qr.fonts.pdf_font) embedded when ReportLab can."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = pdf_font(font_path)
    output = io.BytesIO()
    doc = SimpleDocTemplate(output, pagesize=A4, leftMargin=14 * mm, rightMargin=14 * mm,
                            topMargin=14 * mm, bottomMargin=14 * mm, title=report.title)
    title = ParagraphStyle("t", fontName=font, fontSize=16, leading=22, alignment=1)
    small = ParagraphStyle("s", fontName=font, fontSize=9, leading=13, alignment=1)
    data = [list(COLUMNS)] + [[*r.cells()[:5], yuan(r.cells()[5])] for r in report.rows]
    table = Table(data, colWidths=[24 * mm, 58 * mm, 46 * mm, 16 * mm, 16 * mm, 22 * mm],
                  repeatRows=1)
    style = [("FONT", (0, 0), (-1, -1), font, 8.5),
             ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
             ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#fbe9e7")),
             ("ALIGN", (3, 0), (-1, -1), "RIGHT")]
    for index, row in enumerate(report.rows, start=1):
        if row.kind in ("subtotal", "total"):
            style.append(("BACKGROUND", (0, index), (-1, index), colors.HexColor("#f5f5f5")))
    table.setStyle(TableStyle(style))
    # Paragraph reads markup: names typed by people must not become tags (or <img src=...>).
    doc.build([Paragraph(escape(report.title), title), Paragraph(escape(report.subtitle), small),
               Spacer(1, 4 * mm), table, Spacer(1, 3 * mm), Paragraph(NOTE, small)])
    return output.getvalue()
