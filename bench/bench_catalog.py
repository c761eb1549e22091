"""Catalog speed on a generated 5,000-type catalog, on SQLite with the demo organisation.

Run: .venv/bin/python bench/bench_catalog.py   (or: .venv/bin/python bench/run.py catalog)

- import: parse a 5,000-type, ~5,600-rule workbook and import it (all validation, one
  transaction, one audit event per type and rule) into a fresh database;
- re-import: the same workbook again (everything unchanged, nothing written);
- search_types / resolve_duty: p95 over 500 calls each (fixed seed) through the service, on
  a warm session: type-ahead terms drawn from names, keywords and code prefixes; duty for
  random types in random streets, a fifth of them with a component owner.
"""

import random
import statistics
import tempfile
import time
from pathlib import Path

from figures import Figure

from gridgov import migrate
from gridgov.audit.rules import SYSTEM_ACTOR
from gridgov.catalog import excel, service
from gridgov.catalog.demo import demo_catalog_input
from gridgov.catalog.rules import TYPE_CODE_PREFIXES
from gridgov.db import Database
from gridgov.demo.dongcheng import DEPARTMENTS, STREETS, UTILITIES
from gridgov.demo.loader import load_demo_organisation
from gridgov.excel import SheetSpec, write_workbook

TYPES = 5_000
CALLS = 500
SEED = 20260301
_PREFIX_OF = {value: prefix for prefix, value in TYPE_CODE_PREFIXES.items()}
_LIMITS = (("4", "工作小时", "一般"), ("1", "工作日", "一般"), ("3", "工作日", "一般"),
           ("2", "自然小时", "紧急"), ("30", "自然分钟", "紧急"))
_PROBLEMS = ("缺失", "破损", "占道", "污损", "堆放", "噪声", "违规", "隐患", "倾斜", "积水",
             "渗漏", "无照", "乱贴", "失效", "堵塞", "脱落", "私接", "遗撒", "晃动", "异味")


def _workbook(rng: random.Random) -> tuple[bytes, list[str], list[str]]:
    """The generated catalog as a workbook; and its type codes and names."""
    data = demo_catalog_input()
    classes = [row.data for row in data.classes]
    minors = [c for c in classes if c["major_code"]]
    major_names = {(c["domain"], c["category"], c["code"]): c["name"]
                   for c in classes if not c["major_code"]}
    field_unit_bodies = [b.code for b in DEPARTMENTS if b.field_units_per_street]
    bodies = [b.code for b in (*DEPARTMENTS, *UTILITIES)]
    owners = [b.code for b in UTILITIES]
    type_rows, rule_rows, codes, names = [], [], [], []
    for index in range(TYPES):
        minor = minors[index % len(minors)]
        seq = index // len(minors) + 1
        prefix = _PREFIX_OF[(minor["domain"], minor["category"])]
        code = f"{prefix}{minor['code']}{seq:02d}"
        problem = _PROBLEMS[seq % len(_PROBLEMS)]
        name = f"{minor['name']}{problem}{seq}"
        value, unit, urgency = _LIMITS[index % len(_LIMITS)]
        major = major_names[(minor["domain"], minor["category"], minor["major_code"])]
        keywords = "、".join((minor["name"], problem, f"{major}{problem}", f"KW{index:05d}"))
        type_rows.append((code, name, minor["domain"], minor["category"], minor["major_code"],
                          minor["code"], keywords, f"发现{name}", f"{name}已处置完毕", int(value),
                          unit, urgency, rng.choice(("L1", "L2", "L2", "L2", "L3"))))
        codes.append(code)
        names.append(name)
        per_street = rng.random() < 0.25
        unit_code = rng.choice(field_unit_bodies) if per_street else rng.choice(bodies)
        rule_rows.append((f"R{len(rule_rows) + 1:05d}", code, None, None, None, unit_code,
                          "是" if per_street else "否", None, "是"))
        if rng.random() < 0.12:
            owner = rng.choice(owners)
            rule_rows.append((f"R{len(rule_rows) + 1:05d}", code, None, owner, None, owner,
                              "否", "权属单位自行维护", "是"))
    content = write_workbook([
        SheetSpec(excel.TYPES_SHEET, tuple(excel.TYPE_COLUMNS.values()), type_rows),
        SheetSpec(excel.RULES_SHEET, tuple(excel.RULE_COLUMNS.values()), rule_rows),
        SheetSpec(excel.CLASSES_SHEET, tuple(excel.CLASS_COLUMNS.values()),
                  [(c["domain"], c["category"], c["code"], c["name"], c["major_code"],
                    c["source"]) for c in classes]),
    ])
    return content, codes, names


def _p95_ms(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1] * 1000


def main() -> list[Figure]:
    rng = random.Random(SEED)
    content, codes, names = _workbook(rng)
    with tempfile.TemporaryDirectory() as directory:
        database = Database(f"sqlite:///{Path(directory) / 'bench.sqlite3'}")
        try:
            migrate.upgrade(database.engine)
            with database.write() as db:
                load_demo_organisation(db)
            began = time.perf_counter()
            with database.write() as db:
                report = service.import_catalog(db, actor=SYSTEM_ACTOR,
                                                data=excel.parse_catalog(content))
            import_seconds = time.perf_counter() - began
            assert report.types_created == TYPES, report
            began = time.perf_counter()
            with database.write() as db:
                again = service.import_catalog(db, actor=SYSTEM_ACTOR,
                                               data=excel.parse_catalog(content))
            reimport_seconds = time.perf_counter() - began
            assert again.types_unchanged == TYPES, again

            terms = [rng.choice(names)[:rng.randint(2, 4)] for _ in range(CALLS // 2)]
            terms += [rng.choice(codes)[:rng.randint(3, 7)].lower() for _ in range(CALLS // 4)]
            terms += [rng.choice(_PROBLEMS) for _ in range(CALLS - len(terms))]
            streets = [street.code for street in STREETS]
            owners = [body.code for body in UTILITIES]
            with database.read() as db:
                service.search_types(db, text="井盖")  # warm the session and caches
                search = []
                for term in terms:
                    t0 = time.perf_counter()
                    service.search_types(db, text=term)
                    search.append(time.perf_counter() - t0)
                resolve = []
                for _ in range(CALLS):
                    owner = rng.choice(owners) if rng.random() < 0.2 else None
                    t0 = time.perf_counter()
                    service.resolve_duty(db, type_code=rng.choice(codes),
                                         street_code=rng.choice(streets), owner_code=owner)
                    resolve.append(time.perf_counter() - t0)
        finally:
            database.dispose()
    search_p95, resolve_p95 = _p95_ms(search), _p95_ms(resolve)
    return [
        Figure("catalog.import_5000_types", import_seconds, "s", "< 30 s", import_seconds < 30),
        Figure("catalog.reimport_5000_unchanged", reimport_seconds, "s", "< 30 s",
               reimport_seconds < 30),
        Figure("catalog.search_types_p95", search_p95, "ms", "< 20 ms", search_p95 < 20),
        Figure("catalog.resolve_duty_p95", resolve_p95, "ms", "< 20 ms", resolve_p95 < 20),
    ]


if __name__ == "__main__":
    for figure in main():
        print(figure.line())
