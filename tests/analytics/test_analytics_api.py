"""Trends with year-on-year, hot spots (Gi*), recurrence, slow and returned types, suggestions,
and every ledger with its Excel export — on SQLite and PostgreSQL, in the reader's scope."""

from datetime import timedelta
from io import BytesIO

from openpyxl import load_workbook

from gridgov.analytics.hotspots import queen_weights
from tests.assessment.rows import GRID, Rows, at
from tests.cases.flow import ILLEGAL_STRUCTURE, move, report, sign_in

OTHER_STREET_GRID = "110101002001001"  # 景山街道


def test_trends_by_day_week_and_month_with_year_on_year(api, world, frozen):
    with world.write() as db:
        r = Rows(db)
        r.case(responsible=None, status="reported", reported_at=at(10, 31, 17))  # 1 Nov 01:00 local
        r.case(responsible=None, status="reported", reported_at=at(11, 2))
        r.case(responsible=None, status="reported", reported_at=at(11, 2), grid=OTHER_STREET_GRID, channel="wechat")
        r.case(responsible=None, status="reported", reported_at=at(11, 10))
        r.case(responsible=None, status="reported", reported_at=at(11, 30, 15))  # 30 Nov 23:00 local
        r.case(responsible=None, status="reported", reported_at=at(11, 30, 17))  # 1 Dec: outside
        r.case(responsible=None, status="reported", reported_at=at(11, 2, year=2025))
        db.commit()
    leader, street = sign_in(api, "leader"), sign_in(api, "street")
    params = {"start": "2026-11-01", "end": "2026-11-30"}
    days = api.get("/api/v1/analytics/trends", headers=leader, params=params).json()
    counts = {p["bucket"]: (p["count"], p["last_year"], p["yoy"]) for p in days["series"] if p["count"]}
    assert counts == {"2026-11-01": (1, 0, None), "2026-11-02": (2, 1, 1.0), "2026-11-10": (1, 0, None),
                      "2026-11-30": (1, 0, None)}
    assert len(days["series"]) == 30 and (days["total"], days["last_year_total"], days["yoy"]) == (5, 1, 4.0)
    weeks = api.get("/api/v1/analytics/trends", headers=leader, params=params | {"granularity": "week"}).json()
    assert [(p["bucket"], p["count"]) for p in weeks["series"]] == [
        ("2026-10-26", 1), ("2026-11-02", 2), ("2026-11-09", 1), ("2026-11-16", 0), ("2026-11-23", 0),
        ("2026-11-30", 1)]
    months = api.get("/api/v1/analytics/trends", headers=leader,
                     params=params | {"granularity": "month", "dimension": "street"}).json()
    assert [(p["bucket"], p["count"], p["last_year"]) for p in months["series"]] == [("2026-11", 5, 1)]
    assert [(d["key"], d["count"], d["last_year"], d["series"]) for d in months["by_dimension"]] == [
        ("110101001", 4, 1, [4]), ("110101002", 1, 0, [1])]
    assert months["by_dimension"][0]["label"] == "东华门街道"
    channels = api.get("/api/v1/analytics/trends", headers=leader, params=params | {"dimension": "channel"}).json()
    assert {d["key"]: d["count"] for d in channels["by_dimension"]} == {"hotline_12345": 4, "wechat": 1}
    # a street sees its own street only
    assert api.get("/api/v1/analytics/trends", headers=street, params=params).json()["total"] == 4
    assert api.get("/api/v1/analytics/trends", headers=sign_in(api, "department"), params=params).status_code == 403
    bad = api.get("/api/v1/analytics/trends", headers=leader, params={"start": "2026-11-30", "end": "2026-11-01"})
    assert bad.status_code == 422


def test_hot_spots_find_the_cluster_with_significant_p_values(api, world, frozen):
    with world.read() as db:
        codes, weights = queen_weights(db)
    centre = GRID
    cluster = [centre, *weights.neighbors[centre]]
    elsewhere = [c for c in codes if c not in cluster and not c.startswith("110101001")][::50]
    with world.write() as db:
        r = Rows(db)
        for code in cluster:
            for _ in range(12 if code == centre else 8):
                r.case(responsible=None, status="reported", reported_at=at(11, 5), grid=code)
        for code in elsewhere:
            r.case(responsible=None, status="reported", reported_at=at(11, 5), grid=code)
        db.commit()
    leader = sign_in(api, "leader")
    result = api.get("/api/v1/analytics/hotspots", headers=leader,
                     params={"start": "2026-11-01", "end": "2026-11-30"}).json()
    assert result["grids"] == 2322 and result["cases"] == 12 + 8 * (len(cluster) - 1) + len(elsewhere)
    hot = {h["unit_grid_code"]: h for h in result["hot"]}
    assert centre in hot and hot[centre]["hot_spot"] == "hot_99" and hot[centre]["p_sim"] <= 0.01
    assert hot[centre]["z"] > 3 and hot[centre]["p_value"] < 0.001 and hot[centre]["label"] == "热点（99%置信）"
    assert set(hot) <= set(cluster) | {n for c in cluster for n in weights.neighbors[c]}
    # the street's users analyse their own street's grids
    mine = api.get("/api/v1/analytics/hotspots", headers=sign_in(api, "street"),
                   params={"start": "2026-11-01", "end": "2026-11-30", "permutations": 0}).json()
    assert mine["grids"] == len([c for c in codes if c.startswith("110101001")]) and mine["permutations"] == 0
    assert centre in {h["unit_grid_code"] for h in mine["hot"]}


def test_recurring_places_slow_and_returned_types_and_suggestions(api, world, frozen):
    with world.write() as db:
        r = Rows(db)
        for day in (3, 10, 17):  # the same type in the same grid, three times
            r.case(responsible=None, status="reported", reported_at=at(11, day))
        # ten handled cases of 私搭乱建: D002-01 on time without a return (×3), D001 once late, once returned
        for i in range(10):
            unit = "D002-01" if i < 6 else "D001"
            case = r.case(responsible=unit, closed_at=at(11, 20), close_kind="normal",
                          return_count=1 if i == 9 else 0, reported_at=at(11, 2))
            r.assign(case, unit, at(11, 2), ended_at=at(11, 20), end_reason="normal")
            finished = at(11, 2) + timedelta(hours=i + 1)  # 10:00 local + 1 … 10 hours
            r.clock(case, "handling", unit, at(11, 2), at(11, 2, 7), finished=finished, overdue=i >= 5)
            r.event(case, "report_result", finished, unit=unit)
        returned = r.case(responsible="D001", status="received", type_code="E010201", reported_at=at(11, 2))
        for unit in ("D015", "D015", "D001"):
            r.assign(returned, unit, at(11, 2), end_reason="returned" if unit == "D015" else None,
                     ended_at=at(11, 2) if unit == "D015" else None)
        db.commit()
    leader = sign_in(api, "leader")
    params = {"start": "2026-11-01", "end": "2026-11-30"}
    recurring = api.get("/api/v1/analytics/recurring", headers=leader, params=params | {"min_count": 3}).json()
    assert [(p["unit_grid_code"], p["type_code"], p["count"], p["open"]) for p in recurring] == [
        (GRID, "E010101", 13, 3)]
    slow = api.get("/api/v1/analytics/types/slowest", headers=leader, params=params).json()
    assert slow[0]["type_code"] == "E010101" and slow[0]["cases"] == 10
    assert slow[0]["value"] == 5.5 and slow[0]["rate"] == 0.5  # mean of 1 … 10 hours; 5 of 10 late
    returned_types = api.get("/api/v1/analytics/types/most-returned", headers=leader,
                             params=params | {"min_cases": 1}).json()
    assert returned_types[0]["type_code"] == "E010201" and returned_types[0]["value"] == 2
    suggestion = api.get("/api/v1/analytics/types/E010101/suggestion", headers=leader,
                         params=params | {"street": "110101001"}).json()
    assert suggestion["sample"] == 10 and suggestion["current_limit"]["text"] == "4 工作小时"
    assert suggestion["suggested_limit"]["unit"] == "working_hours"
    # 10:00 + 1 … 10 hours on a Monday, in working hours (09:00–12:00, 13:30–17:00):
    # 1, 2, 2, 2.5, 3.5, 4.5, 5.5, 5.5, 5.5, 5.5 → 90th percentile 5.5; 5 of 10 within the 4 h limit
    assert float(suggestion["suggested_limit"]["value"]) == 5.5 and suggestion["within_current"] == 0.5
    assert suggestion["suggested_unit"]["unit_code"] == "D002-01"
    assert suggestion["suggested_unit"]["closed_on_time_unreturned"] == 5 and suggestion["duty_unit_code"] == "D002-01"
    assert api.get("/api/v1/analytics/types/NOPE/suggestion", headers=leader, params=params).status_code == 404


def test_every_ledger_lists_its_cases_and_exports_to_excel(api, world, frozen):
    u = {n: sign_in(api, n) for n in ("intake", "dispatcher", "department", "fieldunit", "leader", "street")}
    pushed = report(api, u["intake"], ref="LG-1")
    pushed = move(api, u["intake"], pushed, "file", type_code=ILLEGAL_STRUCTURE)
    pushed = move(api, u["dispatcher"], pushed, "dispatch", unit_code="D001", reason="先由城管委研究")
    pushed = move(api, u["department"], pushed, "return_to_district", reason="非本部门职责")
    pushed = move(api, u["dispatcher"], pushed, "dispatch", unit_code="D002-01")
    pushed = move(api, u["fieldunit"], pushed, "return_to_district", reason="需多部门协同")
    pushed = move(api, u["dispatcher"], pushed, "dispatch", unit_code="D002-01")
    pushed = move(api, u["dispatcher"], pushed, "force_close", reason="历史遗留问题，经会商强制结案")
    watched = move(api, u["dispatcher"], report(api, u["intake"], ref="LG-2"), "supervise", reason="群众多次反映")
    cleared = move(api, u["dispatcher"], report(api, u["intake"], ref="LG-3"), "supervise", reason="媒体曝光")
    frozen.advance(days=2)
    move(api, u["dispatcher"], cleared, "clear_supervision", reason="问题已解决")
    quiet = report(api, u["intake"], ref="LG-4")
    frozen.advance(days=31)

    def ledger(name, **params):
        response = api.get(f"/api/v1/analytics/ledgers/{name}", headers=u["leader"], params=params)
        assert response.status_code == 200, response.text
        return response.json()

    forced = ledger("forced")
    assert [row["number"] for row in forced["rows"]] == [pushed["number"]]
    assert forced["rows"][0]["reason"] == "历史遗留问题，经会商强制结案" and forced["rows"][0]["transfers"] == 3
    multi = ledger("multi_transfer")
    assert [(row["number"], row["transfers"]) for row in multi["rows"]] == [(pushed["number"], 3)]
    assert multi["rows"][0]["path"].count("→") == 2
    assert [row["number"] for row in ledger("multi_transfer_forced")["rows"]] == [pushed["number"]]
    assert ledger("multi_transfer", min_transfers=4)["rows"] == []
    stalled = ledger("stalled", days=30)
    assert [row["number"] for row in stalled["rows"]] == [watched["number"], cleared["number"], quiet["number"]]
    assert [row["number"] for row in ledger("stalled", days=32)["rows"]] == [watched["number"]]
    assert stalled["rows"][0]["stalled_days"] == 33.0 and ledger("stalled", days=34)["rows"] == []
    supervised = ledger("supervised")
    assert [(row["number"], row["state"]) for row in supervised["rows"]] == [
        (watched["number"], "督办中"), (cleared["number"], "已销账")]
    assert supervised["rows"][1]["days"] == 2.0 and supervised["rows"][1]["clear_reason"] == "问题已解决"
    assert [row["number"] for row in ledger("supervised", state="open")["rows"]] == [watched["number"]]
    assert api.get("/api/v1/analytics/ledgers/nope", headers=u["leader"]).status_code == 404
    assert api.get("/api/v1/analytics/ledgers/forced", headers=u["department"]).status_code == 403
    export = api.get("/api/v1/analytics/ledgers/supervised/export.xlsx", headers=u["street"])
    sheet = load_workbook(BytesIO(export.content))["挂账督办台账"]
    assert sheet.freeze_panes == "A2" and sheet["A1"].value == "案件编号"
    headers = [c.value for c in sheet[1]]
    row = [c for c in sheet[2]]
    assert row[0].value == watched["number"] and row[headers.index("挂账时间")].is_date
    assert row[headers.index("督办状态")].value == "督办中"
    forced_sheet = load_workbook(BytesIO(api.get("/api/v1/analytics/ledgers/forced/export.xlsx",
                                                 headers=u["leader"]).content)).active
    assert forced_sheet.title == "强制结案台账" and forced_sheet.max_row == 2
