"""Collector requests announced to the writer as soon as their headers are in (ASGI).

The writer commits requests sent at the same time together when it knows they are coming
(:class:`touchlens.api.writer.Arrival`): this middleware announces each ``POST`` to a
collector path before its body is read, stores the announcement in the ASGI scope
(:data:`SCOPE_KEY`, passed on by the route to :meth:`Writer.submit`) and ends it when the
request is done, whatever happened (413, 401, 422: nothing submitted).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

SCOPE_KEY = "touchlens.arrival"
COLLECTOR_PATHS = frozenset({"/v1/events", "/v1/feedback"})


class AnnounceArrivals:
    """Wraps the app: announce collector requests to the running app's writer."""

    def __init__(self, app: ASGIApp, paths: frozenset[str] = COLLECTOR_PATHS) -> None:
        self.app = app
        self.paths = paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = getattr(scope.get("app"), "state", None)
        writer = getattr(getattr(state, "touchlens", None), "writer", None)
        if (writer is None or scope["type"] != "http" or scope.get("method") != "POST"
                or scope.get("path") not in self.paths):
            await self.app(scope, receive, send)
            return
        arrival = writer.announce()
        scope[SCOPE_KEY] = arrival
        try:
            await self.app(scope, receive, send)
        finally:
            arrival.close()
