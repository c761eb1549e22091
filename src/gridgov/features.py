"""Discovery of the feature packages, so that adding a feature needs no edit elsewhere.

A feature is a subpackage of gridgov. Its `models` module (if any) registers tables on
Base.metadata; its `api` module and any `*_api` module expose a FastAPI `router`.
"""

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType

import gridgov


def feature_packages() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(gridgov.__path__) if info.ispkg)


def _modules(feature: str) -> list[str]:
    package = importlib.import_module(f"gridgov.{feature}")
    return sorted(info.name for info in pkgutil.iter_modules(package.__path__) if not info.ispkg)


def import_all_models() -> None:
    for feature in feature_packages():
        if "models" in _modules(feature):
            importlib.import_module(f"gridgov.{feature}.models")


def api_modules() -> Iterator[ModuleType]:
    for feature in feature_packages():
        for name in _modules(feature):
            if name == "api" or name.endswith("_api"):
                module = importlib.import_module(f"gridgov.{feature}.{name}")
                if hasattr(module, "router"):
                    yield module
