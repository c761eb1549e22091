from playwright.sync_api import Page, expect

from tests.browser.conftest import screenshots, sign_in


def test_wrong_password_is_shown_beside_the_form(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("用户名").fill("dispatcher")
    page.get_by_label("密码").fill("not-the-password")
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    screenshots(page, "sign-in")


def test_each_role_lands_on_its_workbench_and_signs_out(page: Page) -> None:
    sign_in(page, "dispatcher")
    expect(page).to_have_url("/dispatch")
    page.get_by_role("button", name="退出").click()
    expect(page).to_have_url("/login")


def test_a_page_asks_for_sign_in_and_returns_there(page: Page) -> None:
    page.goto("/cases")
    expect(page).to_have_url("/login?next=%2Fcases")
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill("Dongcheng2026")
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url("/cases")
