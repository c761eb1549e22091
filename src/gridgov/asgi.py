"""ASGI entry point for process managers: `uvicorn gridgov.asgi:app`."""

from gridgov.app import create_app

app = create_app()
