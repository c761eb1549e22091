"""Group commit for intake: reports that arrive together are written in one transaction.

Each request checks and locates its report on its own (reads only) and hands it to the
process's `ReportWriter`. One writer thread takes whatever has queued up — a single report
when traffic is light, up to `max_batch` under load — writes the batch with one multi-row
INSERT per table and one append to the audit chain, commits, and answers every waiting
request. A request's report is committed together with its audit event before it is answered;
on SQLite the batch takes the database's write lock once instead of once per report.

If a batch is refused as a whole because another process wrote one of its (channel, reference)
pairs first, each report is written again on its own, and the one taken answers with the
existing case.
"""

import threading
from collections.abc import Sequence
from concurrent.futures import Future
from queue import Empty, SimpleQueue

from sqlalchemy.exc import IntegrityError

from gridgov.cases import intake
from gridgov.cases.intake import Placed, Written
from gridgov.config import Settings
from gridgov.db import Database

_Pending = tuple[Placed, Future]


class ReportWriter:
    def __init__(self, database: Database, settings: Settings, *, max_batch: int = 128,
                 idle_seconds: float = 2.0):
        self._database = database
        self._settings = settings
        self._max_batch = max_batch
        self._idle_seconds = idle_seconds
        self._queue: SimpleQueue[_Pending] = SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, report: Placed) -> Written:
        """Write the report (blocking until its batch is committed) and say which case it is."""
        future: Future[Written] = Future()
        with self._lock:
            self._queue.put((report, future))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gridgov-report-writer", daemon=True)
                self._thread.start()
        return future.result()

    def _run(self) -> None:
        # The thread ends after a quiet spell and the next report starts a new one, so an idle
        # process (or a test's short-lived app) keeps no thread.
        while True:
            try:
                first = self._queue.get(timeout=self._idle_seconds)
            except Empty:
                with self._lock:
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch = [first]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except Empty:
                    break
            self._write(batch)

    def _write(self, batch: Sequence[_Pending]) -> None:
        try:
            written = self._commit([report for report, _ in batch])
        except IntegrityError:
            if len(batch) > 1:
                for pending in batch:
                    self._write([pending])
                return
            self._answer_taken(batch[0])
            return
        except Exception as exc:  # every waiting request gets the error, mapped like any other
            for _, future in batch:
                future.set_exception(exc)
            return
        for (_, future), result in zip(batch, written, strict=True):
            future.set_result(result)

    def _commit(self, reports: list[Placed]) -> list[Written]:
        with self._database.write() as db:
            written = intake.write(db, settings=self._settings, reports=reports)
            db.commit()
            return written

    def _answer_taken(self, pending: _Pending) -> None:
        report, future = pending
        with self._database.read() as db:
            case_id = intake.case_ids_by_reference(db, {report.key}).get(report.key)
        if case_id is None:
            future.set_exception(RuntimeError("案件写入被数据库拒绝（唯一约束），且未找到同渠道编号的案件"))
        else:
            future.set_result(Written(case_id, created=False))
