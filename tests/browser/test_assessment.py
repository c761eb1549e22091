"""绩效考核 in a real browser: an administrator computes November, reads the rankings, and a
figure opens the list of the cases behind it."""

import re

from playwright.sync_api import Page, expect

from tests.assessment.test_indicators import build_november
from tests.browser.conftest import screenshots, sign_in


def test_an_administrator_computes_the_month_and_drills_into_a_figure(page: Page, live_server) -> None:
    with live_server.database.write() as db:
        cases = build_november(db)
    sign_in(page, "admin")
    page.goto("/assessment?month=2026-11")
    page.get_by_role("button", name="计算2026-11（存为草稿）").click()
    expect(page).to_have_url(re.compile(r"/assessment\?month=2026-11&version=\d+$"))
    expect(page.get_by_role("heading", name=re.compile("职能部门 · 第"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("下载 Excel"))).to_be_visible()
    screenshots(page, "assessment")

    page.get_by_role("link", name=re.compile("^城管执法局退回率的分母 4 件$")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("退回率 · 分母"))
    links = page.get_by_role("table").get_by_role("link")
    expect(links).to_have_count(4)
    hrefs = sorted(links.evaluate_all("els => els.map(e => e.getAttribute('href'))"))
    assert hrefs == sorted(f"/cases/{cases[c]}" for c in ("c1", "c2", "c3", "c6"))
