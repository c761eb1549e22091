"""One module per page group; each exposes `router` (included by gridgov.web.api)."""
