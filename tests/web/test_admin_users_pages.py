"""系统管理 · 用户 and 组织机构 pages, on both backends."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from gridgov import clock
from gridgov.auth.models import User
from gridgov.org.models import Unit
from tests.web.admin_helpers import XLSX, error_of, events, unique, workbook

GOOD_PASSWORD = "Password2026x"
ADMIN_PAGES = ["/admin", "/admin/users", "/admin/users/new", "/admin/units", "/admin/grid",
               "/admin/catalog", "/admin/duty", "/admin/situations", "/admin/calendar",
               "/admin/weights"]


@pytest.mark.parametrize("url", ADMIN_PAGES)
def test_a_dispatcher_gets_the_403_page_on_every_admin_page(pages, url) -> None:
    response = pages("dispatcher").get(url)
    assert response.status_code == 403
    assert "不能使用此页面" in response.text


def test_the_overview_links_every_section(pages) -> None:
    html = pages("admin").get("/admin").text
    for path in ADMIN_PAGES[1:]:
        if path != "/admin/users/new":
            assert f'href="{path}"' in html


def test_users_are_filtered_by_role_and_unit(pages) -> None:
    admin = pages("admin")
    html = admin.get("/admin/users", params={"role": "dispatcher"}).text
    assert 'href="/admin/users/dispatcher"' in html and 'href="/admin/users/intake"' not in html
    html = admin.get("/admin/users", params={"unit": "D002-01"}).text
    assert 'href="/admin/users/fieldunit"' in html and 'href="/admin/users/dispatcher"' not in html


def test_admin_creates_a_user_with_one_audit_event(pages, world) -> None:
    name = unique("web")
    response = pages("admin").post("/admin/users/new", {
        "username": name, "display_name": "王小明", "password": GOOD_PASSWORD,
        "unit_code": "110101001-FZX", "roles": "intake"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/admin/users/{name}?done=created"
    assert events(world, "user.create", name) == 1
    page = pages("admin").get(response.headers["location"])
    assert "已创建" in page.text and "王小明" in page.text


def test_a_weak_password_and_a_role_unfit_for_the_unit_are_shown_beside_them(pages, world) -> None:
    name = unique("web")
    response = pages("admin").post("/admin/users/new", {
        "username": name, "display_name": "李四", "password": "short1",
        "unit_code": "110101001001", "roles": "dispatcher"})
    assert response.status_code == 422
    assert "至少 10 位" in error_of(response.text, "password")
    assert "不能担任" in error_of(response.text, "roles")
    assert f'value="{name}"' in response.text  # what was typed stays
    assert events(world, "user.create", name) == 0
    with world.read() as db:
        assert db.scalar(select(User).where(User.username == name)) is None


def test_a_user_without_any_role_is_refused(pages) -> None:
    response = pages("admin").post("/admin/users/new", {
        "username": unique("web"), "display_name": "赵六", "password": GOOD_PASSWORD,
        "unit_code": "110101001-FZX"})
    assert response.status_code == 422
    assert error_of(response.text, "roles") == "至少选择一个角色"


def _make_user(admin, roles: str = "intake") -> str:
    name = unique("web")
    response = admin.post("/admin/users/new", {
        "username": name, "display_name": "测试员", "password": GOOD_PASSWORD,
        "unit_code": "110101001-FZX", "roles": roles}, follow_redirects=False)
    assert response.status_code == 303
    return name


def test_admin_changes_roles_and_deactivates_an_account(pages, world) -> None:
    admin = pages("admin")
    name = _make_user(admin)
    response = admin.post(f"/admin/users/{name}", {
        "display_name": "测试员", "roles": "intake,supervisor", "active": "false"},
        follow_redirects=False)
    assert response.status_code == 303
    assert events(world, "user.update", name) == 1
    with world.read() as db:
        user = db.scalar(select(User).where(User.username == name))
        assert user.roles == {"intake", "supervisor"} and not user.active
    refused = admin.post(f"/admin/users/{name}", {
        "display_name": "测试员", "roles": "department", "active": "true"})
    assert refused.status_code == 422 and "不能担任" in error_of(refused.text, "roles")
    assert events(world, "user.update", name) == 1


def test_admin_resets_a_password_but_not_to_a_weak_one(pages, world) -> None:
    admin = pages("admin")
    name = _make_user(admin)
    weak = admin.post(f"/admin/users/{name}/password", {"password": "abcdefghijk"})
    assert weak.status_code == 422
    assert "字母和数字" in error_of(weak.text, "password")
    assert events(world, "user.update", name) == 0
    reset = admin.post(f"/admin/users/{name}/password", {"password": "NewPassword2027"},
                       follow_redirects=False)
    assert reset.status_code == 303 and events(world, "user.update", name) == 1


def test_admin_unlocks_a_locked_account(pages, world) -> None:
    admin = pages("admin")
    name = _make_user(admin)
    with world.write() as db:
        user = db.scalar(select(User).where(User.username == name))
        user.failed_logins, user.locked_until = 5, clock.utcnow() + timedelta(minutes=30)
        db.commit()
    listed = admin.get("/admin/users", params={"locked": "true"}).text
    assert f'href="/admin/users/{name}"' in listed
    assert "解锁账号" in admin.get(f"/admin/users/{name}").text
    response = admin.post(f"/admin/users/{name}/unlock", follow_redirects=False)
    assert response.status_code == 303 and events(world, "user.unlock", name) == 1
    with world.read() as db:
        assert db.scalar(select(User.locked_until).where(User.username == name)) is None


# --- units ---------------------------------------------------------------------------------

def test_the_unit_tree_shows_a_street_with_its_sub_centre_and_communities(pages) -> None:
    html = pages("admin").get("/admin/units").text
    street = html.index("东华门街道</a>")
    assert html.index("东华门街道网格化服务管理分中心", street) > street
    assert html.index("多福巷社区", street) > street


def test_admin_creates_a_section_under_a_street(pages, world) -> None:
    code = unique("110101001-KS")
    response = pages("admin").post("/admin/units/new", {
        "code": code, "name": "测试科", "kind": "section", "parent_code": "110101001",
        "valid_from": "2026-12-01"}, follow_redirects=False)
    assert response.status_code == 303
    assert events(world, "unit.create", code) == 1


def test_a_unit_under_the_wrong_parent_is_refused_beside_the_parent(pages, world) -> None:
    code = unique("C")
    response = pages("admin").post("/admin/units/new", {
        "code": code, "name": "错误社区", "kind": "community", "parent_code": "D001",
        "valid_from": "2026-12-01"})
    assert response.status_code == 422
    assert "上级单位必须是" in error_of(response.text, "parent_code")
    assert events(world, "unit.create", code) == 0


def test_a_unit_cannot_end_before_it_began(pages, world) -> None:
    admin = pages("admin")
    response = admin.post("/admin/units/D001", {"name": "城管委", "valid_to": "1999-01-01"})
    assert response.status_code == 422
    assert "不能早于生效日期" in error_of(response.text, "valid_to")
    assert events(world, "unit.update", "D001") == 0


HEADERS = ["编码", "名称", "简称", "类型", "上级编码", "服务街道编码", "生效日期", "失效日期"]


def test_a_unit_sheet_with_a_bad_row_is_reported_and_nothing_is_written(pages, world) -> None:
    good, bad = unique("110101001-KS"), unique("X")
    content = workbook(HEADERS, [good, "好科室", None, "科室", "110101001", None, "2026-12-01", None],
                       [bad, "坏单位", None, "火星", "110101001", None, "2026-12-01", None])
    response = pages("admin").post("/admin/units/import",
                                   files={"file": ("units.xlsx", content, XLSX)})
    assert response.status_code == 422
    assert "未写入任何数据" in response.text and "未知的单位类型：火星" in response.text
    with world.read() as db:
        assert db.scalar(select(Unit).where(Unit.code == good)) is None


def test_a_good_unit_sheet_is_imported_with_its_report(pages, world) -> None:
    code = unique("110101001-KS")
    content = workbook(HEADERS, [code, "导入科", None, "科室", "110101001", None, "2026-12-01", None])
    response = pages("admin").post("/admin/units/import",
                                   files={"file": ("units.xlsx", content, XLSX)})
    assert response.status_code == 200
    assert "导入报告：已写入" in response.text
    assert events(world, "unit.create", code) == 1


def test_an_import_without_a_file_asks_for_one(pages) -> None:
    response = pages("admin").post("/admin/units/import", {})
    assert response.status_code == 422 and error_of(response.text, "file") == "请选择文件"
