"""The month's assessment as an Excel workbook in Chinese: one sheet per kind of unit (ranked,
numbers as numbers, rates formatted as percentages, header row frozen) and a sheet of notes
(version, weights and formulas)."""

from decimal import Decimal

from gridgov.assessment.rules import INDICATORS, KIND_SHEET_NAMES, ASSESSED_KINDS
from gridgov.assessment.service import MonthResult
from gridgov.excel import SheetSpec, write_workbook

PERCENT = "0.00%"
SCORE = "0.000"
STATUS_LABELS = {"draft": "草稿", "published": "已发布", "superseded": "已被取代", "preview": "预览（未保存）"}


def _number(value: Decimal | int | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if isinstance(value, int) else float(value)


def workbook(result: MonthResult, *, version: int | None, status: str) -> bytes:
    sheets = []
    for kind in ASSESSED_KINDS:
        units = [u for u in result.units if u.kind is kind]
        if not units:
            continue
        indicators = [i for i in INDICATORS.values() if kind in i.kinds]
        headers = ["排名", "单位编码", "单位名称", "综合得分", *(i.label for i in indicators)]
        formats = {"综合得分": SCORE} | {i.label: PERCENT for i in indicators if i.is_rate} | {
            i.label: SCORE for i in indicators if i.source == "whistle"}
        rows = []
        for unit in units:
            values = []
            for indicator in indicators:
                figure = unit.figures.get(indicator.key)
                values.append(None if figure is None else (
                    _number(figure.value) if indicator.is_rate or indicator.source == "whistle"
                    else figure.numerator))
            rows.append([unit.rank, unit.code, unit.name, _number(unit.composite), *values])
        sheets.append(SheetSpec(KIND_SHEET_NAMES[kind], headers, rows, formats))
    notes = [["考核月份", str(result.month)], ["版本", version if version is not None else "—"],
             ["状态", STATUS_LABELS.get(status, status)],
             ["计算时间", result.computed_at.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")],
             ["吹哨报到指标", "已纳入" if result.whistle_included else "吹哨模块未提供数据，不计入综合得分"]]
    for kind in ASSESSED_KINDS:
        weights = result.weights.get(kind.value, {})
        notes.append([f"{KIND_SHEET_NAMES[kind]}权重", "；".join(
            f"{INDICATORS[k].label} {v}%" for k, v in weights.items() if k in INDICATORS)])
    for indicator in INDICATORS.values():
        notes.append([indicator.label, indicator.formula])
    notes.append(["综合得分", "Σ 权重×指标得分 ÷ Σ 适用指标的权重；比率越高越好者得分 = 比率×100，"
                           "越低越好者得分 = (1−比率)×100；无案件的指标不适用，其权重按比例分给其余指标"])
    sheets.append(SheetSpec("说明", ["项目", "内容"], notes))
    return write_workbook(sheets)
