"""Every page router of `gridgov.web.pages`, discovered so that a new page needs no edit here."""

import importlib
import pkgutil

from fastapi import APIRouter

from gridgov.web import pages

router = APIRouter(include_in_schema=False)
for _info in sorted(pkgutil.iter_modules(pages.__path__), key=lambda info: info.name):
    _module = importlib.import_module(f"{pages.__name__}.{_info.name}")
    router.include_router(_module.router)
