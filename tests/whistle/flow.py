"""Builders for whistle tests: an L3 case waiting to be whistled, starting and moving whistles."""

from fastapi.testclient import TestClient

from tests.cases.flow import DONGHUAMEN, move, report, sign_in

UNDERGROUND_DWELLING = "C050301"  # 地下空间违规住人: an L3 type of the demo catalog
USERS = ("street", "dispatcher", "department", "fieldunit", "housing", "police", "jgm_street", "admin",
         "intake", "leader")


def users(api: TestClient) -> dict[str, dict[str, str]]:
    return {name: sign_in(api, name) for name in USERS}


def l3_case(api: TestClient, u: dict, *, ref: str = "GD-W1") -> dict:
    """A case in 东华门 sent to the street to be whistled (status to_whistle)."""
    case = report(api, u["intake"], ref=ref, description="东华门某楼普通地下室有人违规居住")
    case = move(api, u["intake"], case, "file", type_code=UNDERGROUND_DWELLING)
    return move(api, u["dispatcher"], case, "send_to_whistle", reason="涉及人防、房管、公安多个部门")


def departments(*codes: str) -> list[dict]:
    return [{"unit_code": code, "task": f"请{code}派员到场，依职责处置"} for code in codes]


def start(api: TestClient, headers: dict, expect: int = 201, **body) -> dict:
    payload = {"situation_code": "ZF03", "title": "东华门某楼地下室违规住人", "description": "群众反映地下室住人，存在消防隐患",
               "departments": departments("D011"), **body}
    response = api.post("/api/v1/whistles", headers=headers, json=payload)
    assert response.status_code == expect, response.text
    return response.json()


def direct(api: TestClient, headers: dict, situation: str, *codes: str, expect: int = 201, **body) -> dict:
    """A whistle without a case (key work or emergency), placed in 东华门."""
    body = {"lng": DONGHUAMEN[0], "lat": DONGHUAMEN[1], "title": f"{situation} 现场",
            "description": "现场需要多部门协同处置", **body}
    return start(api, headers, expect=expect, situation_code=situation, departments=departments(*codes), **body)


def step(api: TestClient, headers: dict, whistle: dict, name: str, expect: int = 200, *,
         summons: dict | None = None, **fields) -> dict:
    """One step; a summons step sends the summons' id and version, others the whistle's version."""
    body = {"version": summons["version"] if summons else whistle["version"], **fields}
    if summons is not None:
        body["summons_id"] = summons["id"]
    response = api.post(f"/api/v1/whistles/{whistle['id']}/transitions/{name}", headers=headers, json=body)
    assert response.status_code == expect, response.text
    return response.json() if expect == 200 else response.json()


def summons_of(whistle: dict, unit_code: str) -> dict:
    return next(s for s in whistle["summons"] if s["unit_code"] == unit_code)


def report_in(api: TestClient, headers: dict, whistle: dict, unit_code: str, expect: int = 200, **fields) -> dict:
    body = {"place": "东华门大街 12 号", "leader": "王队长", "headcount": 4, "forces": "执法车 1 辆", **fields}
    return step(api, headers, whistle, "report_in", expect, summons=summons_of(whistle, unit_code), **body)


def finish(api: TestClient, headers: dict, whistle: dict, unit_code: str, expect: int = 200, **fields) -> dict:
    return step(api, headers, whistle, "finish_part", expect, summons=summons_of(whistle, unit_code),
                **{"result": f"{unit_code} 已完成本部门处置", **fields})


def rating(whistle: dict, unit_code: str, marks=(5, 5, 5, 5), comment: str | None = None) -> dict:
    points = dict(zip(("efficiency", "cooperation", "professionalism", "responsibility"), marks, strict=True))
    return {"summons_id": summons_of(whistle, unit_code)["id"], **points, "comment": comment}


def get(api: TestClient, headers: dict, whistle: dict, expect: int = 200) -> dict:
    response = api.get(f"/api/v1/whistles/{whistle['id']}", headers=headers)
    assert response.status_code == expect, response.text
    return response.json()
