"""Working-calendar speed: 100,000 deadlines and elapsed times over the official calendar.

Run: .venv/bin/python bench/bench_calendar.py
Deadline and elapsed figures are the best of three runs over the same 100,000 random inputs
(fixed seed, starts in 2024–2025, limits from 10 working minutes to 15 working days); the build
figure is one cold construction of the official calendar (2004–2026).
"""

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from figures import Figure

from gridgov.calendar.rules import LimitUnit, TimeLimit, WorkingCalendar

COUNT = 100_000
REPEATS = 3
SEED = 20240929


def _inputs() -> tuple[list[datetime], list[TimeLimit]]:
    rng = random.Random(SEED)
    first = datetime(2024, 1, 1, tzinfo=UTC)
    span_seconds = int(timedelta(days=2 * 365).total_seconds())
    starts = [first + timedelta(seconds=rng.randrange(span_seconds)) for _ in range(COUNT)]
    choices = [
        TimeLimit(10, LimitUnit.WORKING_MINUTES),
        TimeLimit(1, LimitUnit.WORKING_HOURS),
        TimeLimit(2, LimitUnit.WORKING_HOURS),
        TimeLimit(4, LimitUnit.WORKING_HOURS),
        TimeLimit(1, LimitUnit.WORKING_DAYS),
        TimeLimit(3, LimitUnit.WORKING_DAYS),
        TimeLimit(15, LimitUnit.WORKING_DAYS),
        TimeLimit("0.5", LimitUnit.WORKING_DAYS),
    ]
    limits = [rng.choice(choices) for _ in range(COUNT)]
    return starts, limits


def _best_of(run: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        began = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - began)
    return best


def main() -> list[Figure]:
    began = time.perf_counter()
    calendar = WorkingCalendar.official()
    build_seconds = time.perf_counter() - began

    starts, limits = _inputs()
    deadline = calendar.deadline
    deadlines: list[datetime] = []

    def compute_deadlines() -> None:
        deadlines[:] = [deadline(start, limit) for start, limit in zip(starts, limits, strict=True)]

    deadline_seconds = _best_of(compute_deadlines)

    elapsed = calendar.elapsed
    unit = LimitUnit.WORKING_HOURS
    elapsed_seconds = _best_of(
        lambda: [elapsed(start, due, unit) for start, due in zip(starts, deadlines, strict=True)]
    )

    return [
        Figure("calendar.build_official", build_seconds, "s", "< 0.1 s", build_seconds < 0.1),
        Figure("calendar.deadline_100k", deadline_seconds, "s", "< 1 s", deadline_seconds < 1.0),
        Figure("calendar.elapsed_100k", elapsed_seconds, "s", "< 1 s", elapsed_seconds < 1.0),
    ]


if __name__ == "__main__":
    for figure in main():
        missed = "" if figure.ok else "  MISSED"
        print(f"{figure.name}  {figure.value:.3f} {figure.unit}  (target {figure.target}){missed}")
