"""Answers with earlier results, for clients that ask for them (the dashboard does).

While events stream into the collector, the data version moves on every ``max_lag_s``
seconds, and on a large workspace recomputing a page's results takes longer than that
(seconds to minutes at 10M events: the journeys are rebuilt first). A request carrying
:data:`ACCEPT_HEADER` is then answered at once with the results of the latest version they
were computed for — provided only the collector's appends were committed since (never
after an erasure or any other write: :meth:`touchlens.api.cache.ResultCache.get_or_refresh`)
— while the current ones are computed in the background, one at a time; the response
carries :data:`STALE_HEADER` with the oldest data version it shows and
:data:`VERSION_HEADER` with the current one, so the client knows to ask again (until what it
is shown is at least as new as the version current when it first asked, say: not chasing
every later append). Requests without the header (scripts reading the API) always get results of the
current version, computed if need be.

:class:`EarlierResults` (an ASGI middleware) marks the requests; :func:`accepted` tells the
cache look-up, :func:`shown` records an earlier version used, :func:`exactly` runs a
computation with earlier results refused (a result computed for the current version must
not be built from older ones).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")
ACCEPT_HEADER = "X-Touchlens-Accept-Stale"
STALE_HEADER = "X-Touchlens-Stale"
VERSION_HEADER = "X-Touchlens-Version"
_ACCEPT = ACCEPT_HEADER.lower().encode()
_STALE = STALE_HEADER.lower().encode()
_VERSION = VERSION_HEADER.lower().encode()


class _Shown:
    """The earliest data version a response shows (None: all current) and the current
    version when it was looked up."""

    __slots__ = ("current", "version")

    def __init__(self) -> None:
        self.version: int | None = None
        self.current = 0


# set per request by the middleware; the same object is seen from the threads that run
# synchronous routes (they run in a copy of the request's context)
_REQUEST: ContextVar[_Shown | None] = ContextVar("touchlens_earlier", default=None)


def accepted() -> bool:
    """Whether the request being answered accepts earlier results."""
    return _REQUEST.get() is not None


def shown(version: int, current: int) -> None:
    """An earlier result, of data ``version``, goes into the answer (the ``current``
    version being newer)."""
    box = _REQUEST.get()
    if box is not None and (box.version is None or version < box.version):
        box.version = version
    if box is not None:
        box.current = max(box.current, current)


def exactly(compute: Callable[[], T]) -> Callable[[], T]:
    """``compute`` run with earlier results refused (on this thread)."""

    def run() -> T:
        token = _REQUEST.set(None)
        try:
            return compute()
        finally:
            _REQUEST.reset(token)

    return run


class EarlierResults:
    """ASGI middleware: marks requests carrying :data:`ACCEPT_HEADER` and adds
    :data:`STALE_HEADER` to their response when an earlier result went into it."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not any(
                name == _ACCEPT for name, _ in scope.get("headers", ())):
            await self.app(scope, receive, send)
            return
        box = _Shown()
        token = _REQUEST.set(box)

        async def marked(message: dict) -> None:
            if message["type"] == "http.response.start" and box.version is not None:
                headers = [*message.get("headers", ()), (_STALE, str(box.version).encode()),
                           (_VERSION, str(box.current).encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, marked)
        finally:
            _REQUEST.reset(token)
