"""Every console page in headless Chromium (Debian's) on a 390 px phone: nothing needs a
sideways scroll to be read, every column of every table is on screen, codes stay on one line,
the charts have their y-axis values and their last date inside the card. A screenshot of each
page goes to artifacts/screenshots/ (and of the dashboard on a desktop too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.services.deps import utc_now
from app.services.units import unit_import
from tests.admin.helpers import ADMIN, log_in_browser, pay
from tests.helpers import Api, make_admin

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
DEMO_UNITS = Path(__file__).resolve().parents[2] / "app" / "demo" / "units.csv"
PHONE, DESKTOP = {"width": 390, "height": 844}, {"width": 1366, "height": 768}

# Each console page, and the columns a clerk needs from its tables (by data-label).
PAGES = {
    "dashboard": ("/admin/?campaign=one-yuan", {"children": ["金额（元）", "参与率"]}),
    "donations": ("/admin/donations", {"donations": ["下单时间", "订单号", "单位", "金额（元）",
                                                     "状态", "捐款人", "留言"]}),
    "reports": ("/admin/reports", {"report": ["单位编码", "金额（元）"]}),
    "units": ("/admin/units", {"units": ["编码", "二维码", "海报", "下载"]}),
    "campaigns": ("/admin/campaigns", {}),
    "accounts": ("/admin/accounts", {"accounts": ["角色", "单位", "操作"]}),
    "audit": ("/admin/audit", {"actions": ["操作", "详情"], "notifications": ["结论"]}),
    "password": ("/admin/password", {}),
}

# What overflows sideways, what sits off screen, what wraps that should not.
_LAYOUT_FAULTS = """() => {
  const faults = [], width = window.innerWidth;
  if (document.documentElement.scrollWidth > width)
    faults.push("page scrolls sideways: " + document.documentElement.scrollWidth);
  for (const el of document.querySelectorAll("main *")) {
    const style = getComputedStyle(el);
    if (["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
      faults.push("scrolls sideways: " + el.className + " " + el.scrollWidth);
  }
  for (const cell of document.querySelectorAll("main td, main th")) {
    const head = cell.closest("thead");  // a card table's header is kept for screen readers only
    if (head && getComputedStyle(head).clipPath !== "none") continue;
    const box = cell.getBoundingClientRect();
    if (box.width && (box.right > width + 0.5 || box.left < -0.5))
      faults.push("off screen: " + (cell.dataset.label || cell.textContent.trim().slice(0, 20)));
  }
  for (const code of document.querySelectorAll("main code, main .mono")) {
    if (code.getClientRects().length > 1) faults.push("wraps: " + code.textContent.trim());
  }
  return faults;
}"""


_CHARTS = """() => [...document.querySelectorAll("[data-testid=chart]")].map(chart => {
  const card = chart.getBoundingClientRect();
  const labels = [...chart.querySelectorAll(".x-axis span")].filter(s => s.textContent.trim());
  const text = document.createRange();
  text.selectNodeContents(labels[labels.length - 1]);
  const last = text.getBoundingClientRect();
  return {ticks: [...chart.querySelectorAll(".y-axis span")].map(s => s.textContent.trim()),
          left: card.left, right: card.right, last_label: [last.left, last.right]};
})"""


@pytest.fixture
def clerk_day(api: Api, session: Any) -> str:
    """The demo district with payments in three units and an entry in the audit trail."""
    rows = unit_import.read_rows(DEMO_UNITS.name, DEMO_UNITS.read_bytes())
    unit_import.import_units(session, rows, utc_now())
    make_admin(session, *ADMIN)
    make_admin(session, "hc-clerk", "clerk password 1", role="organizer", unit="DX-HC-01")
    pay(api, "alice", "DX-HC-01", quantity=3, message="加油")
    pay(api, "bob", "DX-XF", quantity=20)
    pay(api, "carol", "DX-BIO-01", quantity=2, anonymous=True)
    return str(api.runtime.settings.public_url)


def test_every_console_page_reads_on_a_phone(browser: Any, clerk_day: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page = log_in_browser(browser, clerk_day, PHONE, accept_downloads=True)
    with page.expect_download():  # an export, so the audit trail has an entry with details
        page.goto(f"{clerk_day}/admin/donations")
        page.click("[data-testid=export-csv]")
    faults: dict[str, list[str]] = {}
    for name, (path, needed) in PAGES.items():
        page.goto(clerk_day + path)
        found = page.evaluate(_LAYOUT_FAULTS)
        page.screenshot(path=str(SHOTS / f"console-{name}-390.png"), full_page=True)
        for table, labels in needed.items():
            rows = page.locator(f"[data-testid={table}] tbody tr")
            assert rows.count() > 0, (name, table)
            first = rows.first
            for label in labels:
                cell = first.locator(f"td[data-label='{label}']")
                if not cell.count() or not cell.first.is_visible():
                    found.append(f"{table}: no visible {label}")
        if found:
            faults[name] = found
    assert not faults


def test_charts_have_y_axis_values_and_keep_the_last_date_inside(browser: Any,
                                                                 clerk_day: str) -> None:
    for viewport, suffix in ((PHONE, "390"), (DESKTOP, "1366")):
        page = log_in_browser(browser, clerk_day, viewport)
        page.screenshot(path=str(SHOTS / f"console-dashboard-charts-{suffix}.png"),
                        full_page=True)
        # Read at once (the live part is re-rendered every 5 seconds).
        charts = page.evaluate(_CHARTS)
        assert len(charts) == 2
        for chart in charts:
            values = chart["ticks"]
            assert values[-1] == "0" and len(values) == 3, values
            assert values[0] in ("50", "20"), values  # 20 yuan from bob, on a round top
            left, right = chart["last_label"]
            assert chart["left"] <= left and right <= chart["right"], (suffix, chart)
