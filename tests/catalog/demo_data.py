"""Reads the packaged demo catalog and duty matrix the way the application will."""

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads(resources.files("gridgov").joinpath("data", name).read_text("utf-8"))


def demo_catalog() -> dict[str, Any]:
    return _load("catalog_demo.json")


def demo_duty_matrix() -> dict[str, Any]:
    return _load("duty_matrix_demo.json")


def demo_types_by_name() -> dict[str, dict[str, Any]]:
    return {row["name"]: row for row in demo_catalog()["types"]}
