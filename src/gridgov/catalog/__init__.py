"""The catalog of matter types (事项目录) and the duty matrix (职责清单).

A matter type is what a case is about: its domain (监管领域), class, filing and closing
conditions (立案/结案条件), handling time limit (处置时限), urgency and default grade. The
duty matrix says which unit handles a type, possibly by street, component owner or named
area; a type without a matching rule falls to the local street (属地兜底).

- `rules`: pure validation of catalog rows and duty-matrix resolution (no I/O, no database).
- `models`, `service`, `api`, `excel`: versioned types and duty rules in the database, the
  Excel workbook both ways, and the HTTP API.
- `demo_source` / `demo`: the compact tables the demo JSON in `gridgov/data/` is built from,
  and their loader.
"""
