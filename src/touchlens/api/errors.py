"""The one place where touchlens errors become HTTP answers (4xx with a reason).

- ConfigError (bad parameter)           → 400
- SchemaError / MappingError (bad data) → 422
- QueueFull (collector busy)            → 503 with ``Retry-After: 1``
- StoreError (backend failed)           → 503
- a request that fails validation          → 422 with ``loc``/``msg``/``type`` per problem; the
  offending input is not echoed back (it may be huge, hold personal data, or be a number
  JSON cannot carry, like ``Infinity``)
Unexpected exceptions are bugs: 500, logged with their traceback, no detail sent.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from touchlens.api.writer import QueueFull
from touchlens.errors import ConfigError, SchemaError, StoreError, TouchlensError

# documented on every /v1 route (the OpenAPI spec promises them; schemathesis checks it)
COMMON: dict[int | str, dict[str, Any]] = {
    400: {"description": "A bad parameter (e.g. an unknown period); the reason is in detail"},
    422: {"description": "The request does not match the schema; nothing was changed"},
    503: {"description": "Busy or the store failed; retry shortly"},
}


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

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        problems = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                     "type": str(e.get("type", ""))}
                    for e in exc.errors()]  # type: ignore[attr-defined]
        return JSONResponse({"detail": problems}, status_code=422)

    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(TouchlensError, touchlens_error)
    app.add_exception_handler(QueueFull, touchlens_error)
