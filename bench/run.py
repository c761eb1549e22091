"""`make bench`: runs every bench/bench_*.py and prints each figure beside its target.

Each module exposes `main() -> list[Figure]`. Exit code 1 if any figure misses its target.
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from figures import Figure  # noqa: E402


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main() -> int:
    selected = set(sys.argv[1:])
    figures: list[Figure] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if selected and path.stem.removeprefix("bench_") not in selected:
            continue
        print(f"# {path.stem}", flush=True)
        for figure in _load(path).main():
            figure = Figure(*figure)
            print(figure.line(), flush=True)
            figures.append(figure)
    missed = [f for f in figures if not f.ok]
    print(f"\n{len(figures) - len(missed)} of {len(figures)} figures within target")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
