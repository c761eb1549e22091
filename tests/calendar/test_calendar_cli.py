"""`gridgov calendar`: exit 0 when done, 2 on bad input (message on stderr)."""

import pytest
from typer.testing import CliRunner

from gridgov.cli import app, register_commands
from gridgov.config import get_settings
from tests.calendar.calendar_2027 import OVERRIDES_2027


@pytest.fixture
def run_cli(monkeypatch, database, settings):
    monkeypatch.setenv("GRIDGOV_DATABASE_URL", database.url)
    get_settings.cache_clear()
    register_commands()
    yield lambda *args, **kw: CliRunner().invoke(app, list(args), **kw)
    get_settings.cache_clear()


def flat(text: str) -> str:
    """Output without whitespace: rich wraps long lines at the console width."""
    return "".join(text.split())


def test_days_summarises_a_library_year(run_cli):
    result = run_cli("calendar", "days", "2026")
    assert result.exit_code == 0, result.output
    assert flat("工作日 248 天（其中调休上班 6 天）") in flat(result.output)
    assert flat("2026-02-15 — 2026-02-23  春节（9 天）") in flat(result.output)
    assert flat("2026-02-14 星期六  春节") in flat(result.output)


def test_an_uncovered_year_exits_2(run_cli):
    result = run_cli("calendar", "days", "2027")
    assert result.exit_code == 2 and flat("2027 年") in flat(result.stderr)
    result = run_cli("calendar", "deadline", "2026-12-31T16:00+08:00", "1", "working_days")
    assert result.exit_code == 2 and flat("2027 年") in flat(result.stderr)


def test_entering_and_declaring_2027_then_a_deadline_across_the_festival(run_cli):
    for day, (working, note) in OVERRIDES_2027.items():
        flag = "--working" if working else "--rest"
        result = run_cli("calendar", "set", day.isoformat(), flag, "--note", note)
        assert result.exit_code == 0, result.output
    assert run_cli("calendar", "declare-year", "2027").exit_code == 0
    result = run_cli("calendar", "deadline", "2027-02-05T16:00+08:00", "4", "working_hours")
    assert result.exit_code == 0, result.output
    assert flat("2027-02-15T04:00:00+00:00") in flat(result.output)
    assert flat("2027-02-15T12:00:00+08:00") in flat(result.output)
    assert run_cli("calendar", "unset", "2027-02-20").exit_code == 0
    assert flat("调休上班 0 天") in flat(run_cli("calendar", "days", "2027").output)


@pytest.mark.parametrize("args", [
    ("set", "2027-02-30", "--rest"),
    ("set", "2027-02-08"),  # neither --working nor --rest
    ("unset", "2027-02-08"),  # nothing to remove
    ("declare-year", "2027"),  # no holidays entered yet
    ("declare-year", "2026"),  # the library covers it
    ("deadline", "2026-02-13T16:00", "4", "working_hours"),  # naive
    ("deadline", "--", "2026-02-13T16:00+08:00", "-4", "working_hours"),
    ("deadline", "2026-02-13T16:00+08:00", "four", "working_hours"),
    ("deadline", "2026-02-13T16:00+08:00", "4", "hours"),
])
def test_bad_input_exits_2(run_cli, args):
    result = run_cli("calendar", *args)
    assert result.exit_code == 2, result.output
