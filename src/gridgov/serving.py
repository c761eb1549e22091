"""Several server processes on one port, each with its own listening socket (SO_REUSEPORT).

With one socket shared by all processes (uvicorn's `--workers`), whichever process wakes first
accepts every connection waiting — asyncio accepts in a loop — so a burst of keep-alive
connections (a load balancer's pool, an integration gateway, a load test) can land almost
entirely on one process while the others idle. With a socket per process the kernel spreads
new connections over the processes evenly.

The supervisor restarts a process that dies while serving, stops all of them on SIGINT or
SIGTERM (each finishes its requests in flight), and gives up if a process dies before it has
started serving, which would only fail again (port taken, a broken configuration). Processes
whose supervisor was killed outright stop by themselves.
"""

import gc
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from multiprocessing.synchronize import Event

import uvicorn

from gridgov.app import create_app
from gridgov.config import get_settings
from gridgov.observability import configure_logging

log = logging.getLogger("gridgov.serving")

STOP_SECONDS = 30.0  # then a process still running is killed
_spawn = multiprocessing.get_context("spawn")


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) that other processes of ours may bind too (SO_REUSEPORT)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class Server(uvicorn.Server):
    """A server process of gridgov. Once started (the app has preloaded its grid index and
    calendar) it freezes what it holds (`freeze_long_lived`): a full collection would otherwise
    walk those ~240,000 objects, a ~70 ms stall that every request in flight waits out, again
    and again under load."""

    def __init__(self, config: uvicorn.Config, serving: Event | None = None):
        super().__init__(config)
        self._serving = serving

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if not self.started:
            return
        freeze_long_lived()
        if self._serving is not None:
            self._serving.set()


def freeze_long_lived() -> None:
    """Move every object alive now out of the garbage collector's full collections: what a
    process builds at start (grid index, calendar, caches, compiled statements) lives as long as
    the process, and walking it again and again costs ~70 ms a time."""
    gc.collect()
    gc.freeze()


def serve_process(host: str, port: int, serving: Event) -> None:
    """One server process (the target of each spawned process)."""
    settings = get_settings()
    configure_logging(settings.log_level, json_lines=settings.log_json)
    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    sock = listening_socket(host, port)
    Server(uvicorn.Config(create_app(settings), log_config=None), serving).run(sockets=[sock])


def _stop_when_orphaned(supervisor: int) -> None:
    """A supervisor killed outright cannot stop its processes; they stop (gracefully) on their own."""
    while os.getppid() == supervisor:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class Supervisor:
    host: str
    port: int
    processes: int
    _running: list[tuple[BaseProcess, Event]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> int:
        """Serve until told to stop; the exit code: 0 when stopped, 1 when start-up failed."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self._stop.set())
        self._running = [self._start() for _ in range(self.processes)]
        failed = False
        while not self._stop.wait(0.5):
            for index, (process, serving) in enumerate(self._running):
                if process.is_alive():
                    continue
                if not serving.is_set():
                    log.error("server process %s failed to start (exit code %s)", process.pid, process.exitcode)
                    failed = True
                    self._stop.set()
                    break
                log.warning("server process %s ended (exit code %s); starting another",
                            process.pid, process.exitcode)
                self._running[index] = self._start()
        self._stop_all()
        return 1 if failed else 0

    def _start(self) -> tuple[BaseProcess, Event]:
        serving = _spawn.Event()
        process = _spawn.Process(target=serve_process, args=(self.host, self.port, serving), name="gridgov-server")
        process.start()
        return process, serving

    def _stop_all(self) -> None:
        for process, _ in self._running:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_SECONDS
        for process, _ in self._running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                process.kill()
                process.join()
