"""`gridgov serve --workers N`: processes with a socket each, supervised."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from gridgov import migrate
from gridgov.db import Database

GRIDGOV = str(Path(sys.executable).with_name("gridgov"))
WAIT_SECONDS = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment(tmp_path: Path) -> dict[str, str]:
    database = Database(f"sqlite:///{tmp_path / 'gridgov.sqlite3'}")
    migrate.upgrade(database.engine)
    database.dispose()
    env = {key: value for key, value in os.environ.items() if not key.startswith("GRIDGOV_")}
    return env | {"GRIDGOV_DATA_DIR": str(tmp_path), "GRIDGOV_LOG_LEVEL": "WARNING"}


def _answering_processes(port: int, connections: int) -> set[int]:
    """The server processes that answer `connections` connections opened at once."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
                   for _ in range(connections)]
        for sock in sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        return {json.loads(_read_all(sock).partition(b"\r\n\r\n")[2])["process"] for sock in sockets}


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def _until(condition, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        try:
            if result := condition():
                return result
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")


@pytest.fixture
def served(tmp_path) -> Iterator[tuple[subprocess.Popen, int]]:
    port = _free_port()
    supervisor = subprocess.Popen([GRIDGOV, "serve", "--port", str(port), "--workers", "2"],
                                  env=_environment(tmp_path), stderr=subprocess.DEVNULL)
    try:
        _until(lambda: len(_answering_processes(port, 16)) == 2, "both server processes answer")
        yield supervisor, port
    finally:
        supervisor.terminate()
        supervisor.wait(timeout=WAIT_SECONDS)


def test_new_connections_are_shared_among_the_server_processes(served):
    _, port = served
    # Sixteen connections opened together all land on one of two processes with chance 2^-15.
    assert len(_answering_processes(port, 16)) == 2


def test_a_server_process_that_dies_is_replaced(served):
    supervisor, port = served
    first = _answering_processes(port, 16)
    os.kill(min(first), signal.SIGKILL)
    replaced = _until(lambda: (now := _answering_processes(port, 16)) - first and len(now) == 2 and now,
                      "a new process answers beside the survivor")
    assert max(first) in replaced and supervisor.poll() is None


def test_the_supervisor_stops_its_processes_on_sigterm(served):
    supervisor, port = served
    processes = _answering_processes(port, 16)
    supervisor.send_signal(signal.SIGTERM)
    assert supervisor.wait(timeout=WAIT_SECONDS) == 0
    for pid in processes:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_server_processes_stop_by_themselves_when_their_supervisor_is_killed(served):
    supervisor, port = served
    processes = _answering_processes(port, 16)
    supervisor.kill()
    supervisor.wait()

    def gone(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    _until(lambda: all(gone(pid) for pid in processes), "the orphaned processes stop")


def test_serve_on_a_port_another_program_holds_exits_2_with_the_reason(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = subprocess.run([GRIDGOV, "serve", "--port", str(port), "--workers", "2"],
                                env=_environment(tmp_path), capture_output=True, text=True, timeout=WAIT_SECONDS)
    assert result.returncode == 2
    assert "无法监听" in result.stderr
