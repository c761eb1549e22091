"""The district reopens a closed case for rework: back to its last holder, a new handling clock."""

from tests.cases.flow import ILLEGAL_STRUCTURE, move, png, report, sign_in, upload


def _closed_case(api, u, ref="RO-1"):
    case = report(api, u["intake"], ref=ref)
    case = move(api, u["intake"], case, "file", type_code=ILLEGAL_STRUCTURE)
    case = move(api, u["dispatcher"], case, "dispatch", unit_code="D002-01")
    case = move(api, u["fieldunit"], case, "receive")
    case = move(api, u["fieldunit"], case, "report_result", result="已拆除")
    case = move(api, u["supervisor"], case, "verify", note="核查通过")
    return move(api, u["dispatcher"], case, "close")


def test_reopen_sends_a_closed_case_back_to_its_last_holder(api, world, frozen):
    u = {n: sign_in(api, n) for n in ("intake", "dispatcher", "fieldunit", "supervisor", "community")}
    case = _closed_case(api, u)
    move(api, u["dispatcher"], case, "reopen", expect=422)  # a reason is required
    move(api, u["fieldunit"], case, "reopen", expect=403, reason="x")
    frozen.advance(days=3)
    case = move(api, u["dispatcher"], case, "reopen", reason="回访群众不满意，违建仍在")
    assert (case["status"], case["holder_unit_code"], case["closed_at"], case["close_kind"]) == (
        "received", "D002-01", None, None)
    handling = [c for c in case["clocks"] if c["node"] == "handling"]
    assert [c["state"] for c in handling] == ["on_time", "running"] and handling[1]["unit_code"] == "D002-01"
    move(api, u["dispatcher"], case, "reopen", expect=409, reason="again")  # not closed any more
    # the holder works it again, through to closure
    case = move(api, u["fieldunit"], case, "report_result", result="已彻底拆除")
    case = move(api, u["supervisor"], case, "verify", note="复核通过")
    case = move(api, u["dispatcher"], case, "close")
    timeline = api.get(f"/api/v1/cases/{case['id']}/events", headers=u["dispatcher"]).json()
    reopen = next(e for e in timeline if e["transition"] == "reopen")
    assert reopen["target_unit_code"] == "D002-01" and reopen["reason"] == "回访群众不满意，违建仍在"


def test_a_self_handled_case_cannot_be_reopened(api, frozen):
    u = {n: sign_in(api, n) for n in ("community", "dispatcher")}
    case = report(api, u["community"], ref=None, channel="housekeeper_patrol", description="墙上少量小广告",
                  point=(None, None), grid_code="110101001001001")
    before, after = upload(api, u["community"], case, "before"), upload(api, u["community"], case, "after")
    case = move(api, u["community"], case, "self_handle", type_code="E020101", result="已清除",
                before_photo=before, after_photo=after)
    move(api, u["dispatcher"], case, "reopen", expect=409, reason="复查")
    assert png()
