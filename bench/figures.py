"""One benchmark figure and how it prints."""

from typing import NamedTuple


class Figure(NamedTuple):
    name: str
    value: float
    unit: str
    target: str  # e.g. "< 1 s", ">= 1000 cases/s"
    ok: bool

    def line(self) -> str:
        mark = "ok  " if self.ok else "MISS"
        return f"{mark} {self.name:<40} {self.value:>12.3f} {self.unit:<10} (target {self.target})"
