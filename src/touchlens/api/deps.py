"""Typed dependencies of the routes: the app state, the caller's key or session, the scope.

The dependencies are ``async``: FastAPI runs a plain ``def`` dependency on its thread pool,
one hop per dependency and request, which the collector's hot path cannot afford. Whatever
may block — the key query when a key is not in :class:`~touchlens.api.cache.VerifiedKeys`,
the latest-event and segment look-ups of a scope — goes to the thread pool only then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from fastapi import Depends, HTTPException, Query, Request, status
from starlette.concurrency import run_in_threadpool

from touchlens.api.scope import Scope, make_scope, narrow_to_segment
from touchlens.api.security import KeyInfo, verify_key
from touchlens.api.security.sessions import COOKIE
from touchlens.api.state import AppState


def state_of(request: Request) -> AppState:
    """The running app's :class:`AppState` (for sync code; routes use ``State``)."""
    return request.app.state.touchlens


async def get_state(request: Request) -> AppState:
    return state_of(request)


State = Annotated[AppState, Depends(get_state)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the scope they hold and the key behind it (None: one-time token)."""

    scope: str
    key_id: str | None


def _presented_key(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.headers.get("x-api-key") or None


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail,
                         headers={"WWW-Authenticate": "Bearer"})


def check_key(state: AppState, token: str) -> KeyInfo | None:
    """``token``'s key info from the workspace (a query; blocking), remembered in
    ``state.keys`` unless the keys changed meanwhile."""
    generation = state.keys.generation()
    with state.workspace() as ws:
        info = verify_key(ws, token)
    if info is not None:
        state.keys.put(token, info, generation)
    return info


def _principal(request: Request, state: AppState, info: KeyInfo | None,
               token: str | None) -> Principal | None:
    if token:
        if info is None:
            raise _unauthorized("invalid or revoked API key")
        return Principal(info.scope, info.key_id)
    session = state.sessions.get(request.cookies.get(COOKIE))
    if session is not None:
        return Principal(session.scope, session.key_id)
    return None


def authenticate(request: Request, state: AppState) -> Principal | None:
    """The caller from an API key (``Authorization: Bearer`` or ``X-API-Key``) or the
    dashboard's session cookie; None when neither is presented. A wrong key raises 401.
    Blocking (may query the keys): for sync code; routes use :func:`authenticate_async`."""
    token = _presented_key(request)
    info = (state.keys.get(token) or check_key(state, token)) if token else None
    return _principal(request, state, info, token)


async def authenticate_async(request: Request, state: AppState) -> Principal | None:
    """:func:`authenticate` without leaving the event loop when the key was verified
    recently (the collector's case); the key query runs on the thread pool otherwise."""
    token = _presented_key(request)
    info = None
    if token:
        info = state.keys.get(token) or await run_in_threadpool(check_key, state, token)
    return _principal(request, state, info, token)


def require(scope: str):
    """A dependency that admits callers holding ``scope`` (401 without credentials or with
    a bad key, 403 with a valid key of the other scope)."""

    async def dependency(request: Request, state: State) -> Principal:
        principal = await authenticate_async(request, state)
        if principal is None:
            raise _unauthorized(f"a {scope} key is required (Authorization: Bearer <key>)")
        if principal.scope != scope:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"this key has scope {principal.scope!r}; {scope!r} is needed")
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency


ReadKey = Annotated[Principal, Depends(require("read"))]
WriteKey = Annotated[Principal, Depends(require("write"))]
AdminKey = Annotated[Principal, Depends(require("admin"))]


def actor_of(principal: Principal) -> str:
    """The audit log's name for the caller: ``key:<id>`` (``session`` for the one-time
    dashboard token)."""
    return f"key:{principal.key_id}" if principal.key_id else "session"


async def get_scope(
    state: State,
    period: Annotated[str | None, Query(
        description="all, last<N>d (up to the latest event), YYYY, YYYYQn or YYYY-MM",
        max_length=16)] = None,
    start: Annotated[date | None, Query(description="First day (UTC), inclusive.")] = None,
    end: Annotated[date | None, Query(description="Last day (UTC), inclusive.")] = None,
    channel: Annotated[str | None, Query(max_length=100,
                                         description="Only this channel's customers.")] = None,
    segment: Annotated[str | None, Query(max_length=40, description=(
        "Only this RFM segment's customers (see /v1/segments; prospect = no purchase)."))]
    = None,
) -> Scope:
    latest = (await run_in_threadpool(state.latest_event)
              if period and period.startswith("last") else None)
    scope = make_scope(period=period, start=start, end=end, channel=channel, latest=latest)
    if segment is None or not segment.strip():
        return scope
    return await run_in_threadpool(with_segment, state, scope, segment)


def with_segment(state: AppState, scope: Scope, segment: str | None) -> Scope:
    """``scope`` narrowed to the RFM ``segment``'s customers (400 for an unknown segment)."""
    from touchlens.charts.data import segment_members

    members = state.cached("segment_members", Scope(), (), segment_members)
    return narrow_to_segment(scope, segment, members)


ScopeDep = Annotated[Scope, Depends(get_scope)]
