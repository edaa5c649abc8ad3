"""Erase a person over HTTP: ``POST /v1/erase`` (admin key).

The body names the person by exactly one of ``customer``, ``email`` or ``phone`` (emails and
phones are matched through the workspace's salted hash, as at ingest). The answer is the
erasure receipt (:class:`touchlens.governance.ErasureReceipt`): rows per table, file
outcomes, what still matches (expected: nothing) and the salted ``subject_hash`` — never the
identifier in clear. The erase runs under the server's write lock (the collector waits), is
recorded in the audit log with ``key:<admin key id>`` as the actor, and invalidates cached
results. ``dry_run`` counts without changing anything (and is not audited).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field, model_validator

from touchlens.api.deps import AdminKey, State, actor_of
from touchlens.governance import acting_as

router = APIRouter(prefix="/v1", tags=["governance"])

_Id = Field(None, min_length=1, max_length=320)


class EraseRequest(BaseModel):
    """Who to erase: exactly one identifier."""

    model_config = ConfigDict(extra="forbid")

    customer: str | None = _Id
    email: str | None = _Id
    phone: str | None = _Id
    dry_run: bool = Field(False, description="Count what would go; change nothing.")

    @model_validator(mode="after")
    def _one(self) -> EraseRequest:
        given = [v for v in (self.customer, self.email, self.phone) if v is not None]
        if len(given) != 1 or not given[0].strip():
            raise ValueError("give exactly one of customer, email or phone")
        return self


class EraseReceipt(BaseModel):
    """What the erasure did (or would do, with ``dry_run``); no identifier in clear."""

    receipt_id: str
    erased_at: datetime
    subject_hash: str = Field(description="s: + SHA-256(salt, type, stored id)")
    id_type: str
    actor: str
    n_identifiers: int
    n_customers: int
    rows_deleted: dict[str, int]
    total_rows: int
    files: dict[str, str]
    files_needing_action: dict[str, str]
    remaining: dict[str, int] = Field(description="Rows still matching; expected empty.")
    dry_run: bool


_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not exactly one identifier"},
    401: {"description": "No key, or an invalid or revoked key"},
    403: {"description": "The key is not an admin key"},
    422: {"description": "Not a valid request body"},
}


def _erase(state: State, body: EraseRequest, actor: str) -> EraseReceipt:
    # the build lock first: no rebuild of the identity map or journeys from a snapshot
    # that still holds the person may commit after the erasure
    with state.build_lock, state.lock, acting_as(actor), state.workspace() as ws:
        receipt = ws.erase(customer=body.customer, email=body.email, phone=body.phone,
                           dry_run=body.dry_run)
    if not body.dry_run:
        state.cache.bump()
    data = receipt.as_dict()
    return EraseReceipt(**data, total_rows=receipt.total_rows,
                        files_needing_action=receipt.files_needing_action)


@router.post("/erase", response_model=EraseReceipt, responses=_RESPONSES,
             summary="Erase one person everywhere")
async def post_erase(principal: AdminKey, state: State, body: EraseRequest) -> EraseReceipt:
    """Remove the person from every table and every file touchlens wrote; returns the receipt
    (stored too, without the identifier in clear)."""
    return await run_in_threadpool(_erase, state, body, actor_of(principal))
