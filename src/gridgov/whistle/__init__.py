"""Street whistles, departments report (街道吹哨、部门报到).

A street whistles on an L3 case waiting to be whistled (or directly, for key work and
emergencies), choosing one of the configured situations (情形和标准) and the departments it
summons. The whistle is filed (备案) with the district at once; the district sends the
summons (派发); each department reports in (报到), does its part and uploads its result; the
street reports the outcome, replies to the reporter and rates every department; the district
verifies and closes the whistle — and its case, in the same transaction.

Every step is a transition of one explicit table (`rules.TRANSITIONS`), written with a
whistle event and an audit event (吹哨全留痕), and every step has its own clock. Each summons
is scored on its report-in time (报到响应度) and by the street's four ratings (一哨一考);
`assessment.whistle_scores` gives the district's combined judgement to other features.

Modules: `rules` (pure: table, formula, ratings), `models`, `schemas`, `situations` (the
scenario list, API and Excel), `service` (the flow), `assessment` (figures, drill-down,
scores), `api`, `demo` (the 45 demo situations).
"""
