"""The one place where touchlens errors become HTTP answers (4xx with a reason).

- ConfigError (bad parameter)           → 400
- SchemaError / MappingError (bad data) → 422
- QueueFull (collector busy)            → 503 with ``Retry-After: 1``
- StoreError (backend failed)           → 503
Unexpected exceptions are bugs: 500, logged with their traceback, no detail sent.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from touchlens.api.writer import QueueFull
from touchlens.errors import ConfigError, SchemaError, StoreError, TouchlensError


def status_of(error: Exception) -> int:
    if isinstance(error, ConfigError):
        return 400
    if isinstance(error, SchemaError):
        return 422
    if isinstance(error, QueueFull | StoreError):
        return 503
    return 500


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    async def touchlens_error(request: Request, exc: Exception) -> JSONResponse:
        headers = {"Retry-After": "1"} if isinstance(exc, QueueFull) else None
        return JSONResponse({"detail": str(exc)}, status_code=status_of(exc), headers=headers)

    app.add_exception_handler(TouchlensError, touchlens_error)
    app.add_exception_handler(QueueFull, touchlens_error)
