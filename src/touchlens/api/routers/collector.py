"""The collector: ``POST /v1/events`` and ``POST /v1/feedback`` (write key).

A batch is a JSON array of at most ``max_batch_items`` items (default 1,000) and
``max_body_bytes`` (default 4 MiB); larger → 413, malformed JSON, unknown fields or wrong
JSON types → 422; in both cases nothing is stored. Otherwise every item is answered in
order: ``accepted``, ``duplicate`` (its id is already stored: resending is harmless) or
``rejected`` with the field and reason (the item is in the quarantine, as a bad file row
would be).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, HTTPException, Request

from touchlens.api.arrivals import SCOPE_KEY
from touchlens.api.deps import Principal, State, WriteKey, actor_of
from touchlens.api.schemas import CollectResult, EventIn, FeedbackIn

router = APIRouter(prefix="/v1", tags=["collector"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "No key, or an invalid or revoked key"},
    403: {"description": "A read key was used where a write key is needed"},
    413: {"description": "Too many items or too many bytes: split the batch"},
    422: {"description": "Not a JSON array of valid items; nothing was stored"},
    503: {"description": "The writer's queue is full; retry after a second"},
}


async def _collect(request: Request, state: State, kind: str, items: list,
                   principal: Principal) -> CollectResult:
    limit = state.settings.max_batch_items
    if len(items) > limit:
        raise HTTPException(413,
                            f"batch of {len(items)} items; the limit is {limit}")
    if not items:
        return CollectResult(received=0, accepted=0, duplicates=0, rejected=0, batch_id=None,
                             items=[])
    future = state.writer.submit(kind, [item.model_dump() for item in items],
                                 actor_of(principal), request.scope.get(SCOPE_KEY))
    return await asyncio.wrap_future(future)


@router.post("/events", response_model=CollectResult, responses=_RESPONSES,
             summary="Collect a batch of events")
async def post_events(request: Request, key: WriteKey, state: State, items: list[EventIn]
                      ) -> CollectResult:
    """Store events; idempotent on ``event_id``. Audited as ``ingest`` by ``key:<id>``."""
    return await _collect(request, state, "events", items, key)


@router.post("/feedback", response_model=CollectResult, responses=_RESPONSES,
             summary="Collect a batch of survey/review responses")
async def post_feedback(request: Request, key: WriteKey, state: State,
                        items: list[FeedbackIn]) -> CollectResult:
    """Store feedback; idempotent on ``response_id``. Audited as ``ingest`` by ``key:<id>``."""
    return await _collect(request, state, "feedback", items, key)
