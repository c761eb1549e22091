"""Every workbench, as its role opens it on a phone: one main landmark and one h1, every form
control with an accessible name, and nothing wider than the 375 px screen."""

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import PHONE, sign_in

WORKBENCHES = (
    (None, "/report"), (None, "/track"), (None, "/login"),
    ("intake", "/intake"), ("dispatcher", "/dispatch"), ("dispatcher", "/cases"),
    ("street", "/street"), ("street", "/whistles"), ("street", "/whistles/new"),
    ("department", "/department"), ("supervisor", "/field"), ("leader", "/dashboard"),
    ("leader", "/assessment"), ("caller", "/callbacks"), ("admin", "/admin"), ("admin", "/admin/users"),
    ("admin", "/admin/calendar"), ("admin", "/admin/weights"),
)

UNNAMED_CONTROLS = """() => [...document.querySelectorAll(
    'input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea')]
  .filter(el => el.offsetParent !== null || el.getClientRects().length)
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                && !el.getAttribute('aria-labelledby') && !el.closest('label'))
  .map(el => el.outerHTML.slice(0, 120))"""


@pytest.mark.parametrize(("username", "path"), WORKBENCHES)
def test_each_workbench_is_labelled_and_fits_a_phone(new_page, username: str | None, path: str) -> None:
    page: Page = new_page(width=PHONE, height=800)
    if username:
        sign_in(page, username)
    page.goto(path)
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("main").count() == 1
    assert page.locator("h1").count() == 1, page.locator("h1").all_inner_texts()
    assert page.evaluate(UNNAMED_CONTROLS) == []
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= PHONE, f"{path} is {overflow} px wide on a {PHONE} px phone"
