"""`make bench`: runs every bench/bench_*.py and prints each figure beside its target.

Each module exposes `main() -> list[Figure]`. Exit code 1 if any figure misses its target.

Before and after the benches the host's speed is taken (`host.*`): a fixed pure-Python loop
and a round trip to another process. A shared or throttled host runs both slower, by as much
as a factor of two from one hour to the next, so these figures tell whether a run's other
figures were measured on a quick or a slow machine, and whether it changed speed meanwhile.
"""

import importlib.util
import os
import socket
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from figures import Figure  # noqa: E402


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def host_speed(moment: str) -> list[Figure]:
    """The host's speed at this moment: the best of five timings of a fixed loop (ms), and the
    median of five timings of a one-byte round trip to another process over a socket pair (µs),
    which is what every HTTP request and database statement of a bench waits on."""
    loops = []
    for _ in range(5):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i * i % 7
        loops.append(time.perf_counter() - started)
    return [Figure(f"host.reference_loop_{moment}", min(loops) * 1000, "ms", "(no target; host speed)", True),
            Figure(f"host.process_round_trip_{moment}", _round_trip_seconds() * 1e6, "µs",
                   "(no target; host speed)", True)]


def _round_trip_seconds(count: int = 2000) -> float:
    ours, theirs = socket.socketpair()
    echo = os.fork()
    if echo == 0:
        ours.close()
        while byte := theirs.recv(1):
            theirs.send(byte)
        os._exit(0)
    theirs.close()
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(count):
            ours.send(b"x")
            ours.recv(1)
        timings.append((time.perf_counter() - started) / count)
    ours.close()
    os.waitpid(echo, 0)
    return statistics.median(timings)


def main() -> int:
    selected = set(sys.argv[1:])
    for figure in host_speed("before"):
        print(figure.line(), flush=True)
    figures: list[Figure] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if selected and path.stem.removeprefix("bench_") not in selected:
            continue
        print(f"# {path.stem}", flush=True)
        for figure in _load(path).main():
            figure = Figure(*figure)
            print(figure.line(), flush=True)
            figures.append(figure)
    for figure in host_speed("after"):
        print(figure.line(), flush=True)
    missed = [f for f in figures if not f.ok]
    print(f"\n{len(figures) - len(missed)} of {len(figures)} figures within target")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
