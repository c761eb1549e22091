"""Group commit for intake: reports that arrive together are taken, written and answered together.

A request to `POST /api/v1/cases` only parses its body and reads its credential; it hands both
to the process's `ReportWriter` and awaits the answer, holding no thread and no session. One
writer thread gathers a batch (`_gather`) — a single report when traffic is light, up to
`max_batch` under load — and does for the whole batch what each request would otherwise do
alone, each step once per batch instead of once per report:

1. read: resolve each distinct credential and check it may report; look up the reports' (channel,
   reference) pairs; check and locate the new ones (`intake.place_each`);
2. write: one transaction, one multi-row INSERT per table, one append to the audit chain;
3. read: the answers — the new cases as written, the known ones as stored, likely duplicates.

Each report keeps its own outcome: a bad token, a refused role or a point outside the district
answers that request with its problem and the rest of the batch goes on. A report is committed
together with its audit event before it is answered; on SQLite the batch takes the database's
write lock once instead of once per report.

If a batch is refused as a whole because another process wrote one of its (channel, reference)
pairs first, each report is written again on its own, and the one taken answers with the
existing case.
"""

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from queue import Empty, SimpleQueue

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from gridgov import clock
from gridgov.auth.deps import Authorization, Credential, authorize, resolve
from gridgov.auth.policy import Action, Role
from gridgov.calendar import service as calendar_service
from gridgov.calendar.rules import WorkingCalendar
from gridgov.cases import intake, views
from gridgov.cases.intake import Placed, Report, Written
from gridgov.cases.models import Case
from gridgov.cases.schemas import ReportAccepted, ReportIn
from gridgov.config import Settings
from gridgov.db import Database, HeldSessions
from gridgov.errors import DomainError


@dataclass(frozen=True)
class Submission:
    """One intake request as it reached the server: its credential (unchecked) and its report."""

    credential: Credential
    data: ReportIn
    request_id: str | None = None


_Pending = tuple[Submission, Future]
Sessions = Database | HeldSessions


class ReportWriter:
    def __init__(self, database: Database, settings: Settings, *, max_batch: int = 128,
                 linger_seconds: float = 0.002, gather_seconds: float = 0.010, idle_seconds: float = 2.0):
        self._database = database
        self._settings = settings
        self._max_batch = max_batch
        self._linger_seconds = linger_seconds
        self._gather_seconds = gather_seconds
        self._idle_seconds = idle_seconds
        self._queue: SimpleQueue[_Pending] = SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, submission: Submission) -> Future[ReportAccepted]:
        """Queue the report; the future gives its answer once its batch is committed, or the
        problem that refused it."""
        future: Future[ReportAccepted] = Future()
        with self._lock:
            self._queue.put((submission, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gridgov-report-writer", daemon=True)
                self._thread.start()
        return future

    def _run(self) -> None:
        # The thread ends after a quiet spell and the next report starts a new one, so an idle
        # process (or a test's short-lived app) keeps no thread and no connection.
        with HeldSessions(self._database) as sessions:
            while True:
                try:
                    first = self._queue.get(timeout=self._idle_seconds)
                except Empty:
                    with self._lock:
                        if self._queue.empty():
                            self._thread = None
                            return
                    continue
                self._serve(self._gather(first), sessions)

    def _gather(self, first: _Pending) -> list[_Pending]:
        """The batch that starts with `first`: what has queued up, and what follows while reports
        keep arriving — each within `linger_seconds` of the last, up to `gather_seconds` in all.
        A lone report waits one linger; a stream of them is taken in batches several times larger
        than what happens to be queued, and a batch's fixed cost (a session, a dozen statements,
        a commit) is shared by more reports."""
        batch = [first]
        deadline = time.monotonic() + self._gather_seconds
        while len(batch) < self._max_batch:
            wait = min(self._linger_seconds, deadline - time.monotonic())
            try:
                batch.append(self._queue.get(timeout=wait) if wait > 0 else self._queue.get_nowait())
            except Empty:
                break
        return batch

    def _serve(self, batch: Sequence[_Pending], sessions: Sessions) -> None:
        """Answer every request of the batch, reading and writing through `sessions` (the writer
        thread's held connections)."""
        try:
            outcomes = self._outcomes([submission for submission, _ in batch], sessions)
        except Exception as exc:  # every waiting request gets the error, mapped like any other
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, DomainError):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _outcomes(self, submissions: Sequence[Submission], sessions: Sessions) -> list[ReportAccepted | DomainError]:
        with sessions.read() as db:
            calendar = calendar_service.working_calendar(db, settings=self._settings)
            admitted = _admit(db, self._settings, submissions)
            placed = _place(db, submissions, admitted)
        written = self._write(placed, calendar, sessions)
        # The units a new case names are its street and community, known from its place.
        codes = {unit_id: code for p in placed if isinstance(p, Placed) for unit_id, code in (
            (p.street_id, p.place.street_code), (p.community_id, p.place.community_code))}
        with sessions.read() as db:
            return _answers(db, calendar, codes, admitted, written)

    def _write(self, placed: list[Placed | Written | DomainError], calendar: WorkingCalendar,
               sessions: Sessions) -> list[Written | DomainError]:
        """Write the placed reports; what is already an answer or a refusal passes through."""
        new = [p for p in placed if isinstance(p, Placed)]
        try:
            written = iter(self._commit(new, calendar, sessions))
        except IntegrityError:
            if len(new) <= 1:
                written = iter([_taken(p, sessions) for p in new])
            else:
                written = iter([self._write([p], calendar, sessions)[0] for p in new])
        return [next(written) if isinstance(p, Placed) else p for p in placed]

    def _commit(self, reports: list[Placed], calendar: WorkingCalendar, sessions: Sessions) -> list[Written]:
        if not reports:
            return []
        with sessions.write() as db:
            # _place has just looked the references up; one written since by another process is
            # refused by the unique index, and the reports are then written one by one.
            written = intake.write(db, settings=self._settings, reports=reports, calendar=calendar, looked_up=True)
            db.commit()
            return written


def _taken(report: Placed, sessions: Sessions) -> Written:
    with sessions.read() as db:
        case_id = intake.case_ids_by_reference(db, {report.key}).get(report.key)
    if case_id is None:
        raise RuntimeError("案件写入被数据库拒绝（唯一约束），且未找到同渠道编号的案件")
    return Written(case_id, created=False)


def _admit(db: Session, settings: Settings, submissions: Sequence[Submission]) -> list[Authorization | DomainError]:
    """Each submission's authorization to report, each distinct credential resolved once."""
    callers: dict[Credential, Authorization | DomainError] = {}
    for submission in submissions:
        if submission.credential not in callers:
            try:
                caller = resolve(db, settings=settings, credential=submission.credential)
                callers[submission.credential] = authorize(caller.principal, Action.CASE_REPORT)
            except DomainError as refusal:
                callers[submission.credential] = refusal
    return [callers[submission.credential] for submission in submissions]


def _place(db: Session, submissions: Sequence[Submission],
           admitted: Sequence[Authorization | DomainError]) -> list[Placed | Written | DomainError]:
    """Each admitted report placed, or the case its (channel, reference) already made: a retry of a
    known report is answered with its case, not placed again (nor refused if the map changed)."""
    keys = {(s.data.channel, s.data.channel_ref) for s, a in zip(submissions, admitted, strict=True)
            if s.data.channel_ref and not isinstance(a, DomainError)}
    known = intake.case_ids_by_reference(db, keys) if keys else {}
    outcomes: list[Placed | Written | DomainError | None] = []
    reports: list[Report] = []
    for submission, authorization in zip(submissions, admitted, strict=True):
        case_id = known.get((submission.data.channel, submission.data.channel_ref))
        if isinstance(authorization, DomainError) or case_id is not None:
            outcomes.append(authorization if case_id is None else Written(case_id, created=False))
            continue
        principal = authorization.principal
        reporter = principal.user_id if authorization.role is Role.PUBLIC else None
        reports.append(Report(authorization.actor, submission.data, reporter, submission.request_id))
        outcomes.append(None)
    placed = iter(intake.place_each(db, reports) if reports else [])
    return [next(placed) if outcome is None else outcome for outcome in outcomes]


def _answers(db: Session, calendar: WorkingCalendar, unit_codes: dict[int, str],
             admitted: Sequence[Authorization | DomainError],
             written: Sequence[Written | DomainError]) -> list[ReportAccepted | DomainError]:
    """Each written report as its sender sees it: a new case as written (no read back) with its
    likely duplicates, a known case as stored."""
    stored_ids = {w.case_id for w in written if isinstance(w, Written) and w.rows is None}
    stored = {case.id: case for case in db.scalars(select(Case).where(Case.id.in_(stored_ids)).options(
        selectinload(Case.reporters), selectinload(Case.clocks), selectinload(Case.assignments)))} \
        if stored_ids else {}
    answered = [(w, w.snapshot() or stored[w.case_id], a.principal)
                for w, a in zip(written, admitted, strict=True) if isinstance(w, Written)]
    cases = views.cases_out(db, [(case, principal) for _, case, principal in answered],
                            now=clock.utcnow(), calendar=calendar, unit_codes=unit_codes)
    new = [case for w, case, _ in answered if w.created]
    duplicates = iter(views.duplicates_each(db, new))
    answers = iter([ReportAccepted(case=out, created=w.created, likely_duplicates=next(duplicates) if w.created else [])
                    for (w, _, _), out in zip(answered, cases, strict=True)])
    return [next(answers) if isinstance(w, Written) else w for w in written]
