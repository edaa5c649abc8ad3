"""Request and response bodies of the collector, and their conversion to Arrow.

The request models only check the *shape* of the JSON (known fields, JSON types, an id per
item): a request that fails them gets 422 and nothing is stored. Values are checked by the
same validators as file ingest (:mod:`touchlens.io.validate`): an item with a bad value is
quarantined and answered ``rejected`` with the reason.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal

import pyarrow as pa
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt, StrictStr

from touchlens.store.schema import EVENTS, FEEDBACK

Id = StrictStr
Text = StrictStr | None
MAX_EXACT = 2**53  # the largest integer a double holds exactly


def _fits_a_double(value: float | int) -> float | int:
    if not math.isfinite(value) or abs(value) > MAX_EXACT:
        raise ValueError(f"numbers must be finite and within ±2**53, not {value!r}")
    return value


# JSON numbers must fit a double exactly and be finite (not Infinity/NaN): otherwise 422
SafeInt = Annotated[StrictInt, AfterValidator(_fits_a_double)]
Number = Annotated[StrictFloat | StrictInt, AfterValidator(_fits_a_double)] | None


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EventIn(_Item):
    """One event. ``occurred_at`` is ISO-8601 (an offset or ``Z``; naive = UTC)."""

    event_id: Id = Field(min_length=1, max_length=200,
                         description="Client-chosen unique id: resending it is harmless.")
    occurred_at: Text = Field(None, examples=["2026-03-01T09:30:00Z"])
    customer_id: Text = None
    anonymous_id: Text = None
    channel: Text = Field(None, examples=["email"])
    touchpoint: Text = Field(None, examples=["newsletter"])
    event_type: Text = Field(None, examples=["click"])
    order_id: Text = None
    revenue: Number = None
    currency: Text = None
    cost: Number = None
    campaign: Text = None
    device: Text = None
    attributes: dict[str, Any] | None = Field(None, description="Free-form JSON object.")


class FeedbackIn(_Item):
    """One survey or review response (scores on the DOMAIN.md scales)."""

    response_id: Id = Field(min_length=1, max_length=200)
    occurred_at: Text = Field(None, examples=["2026-03-01T09:30:00Z"])
    customer_id: Text = None
    touchpoint: Text = None
    channel: Text = None
    nps: SafeInt | None = Field(None, description="0-10")
    csat: SafeInt | None = Field(None, description="1-5")
    ces: SafeInt | None = Field(None, description="1-7")
    text: Text = None
    language: Text = None


class ItemResult(BaseModel):
    """What happened to one item, in request order."""

    index: int
    id: str
    status: Literal["accepted", "duplicate", "rejected"]
    field: str | None = None
    reason: str | None = None


class CollectResult(BaseModel):
    """The answer to a collector batch: counts and one result per item.

    received = accepted + duplicates + rejected.
    """

    received: int
    accepted: int
    duplicates: int
    rejected: int
    batch_id: str | None
    items: list[ItemResult]


KIND_MODELS: dict[str, type[_Item]] = {"events": EventIn, "feedback": FeedbackIn}
KEY = {"events": "event_id", "feedback": "response_id"}
_NUMERIC = {"revenue", "cost", "nps", "csat", "ces"}


def to_arrow(kind: str, items: list[dict[str, Any]]) -> pa.Table:
    """Items (model dumps) as an Arrow table with every column of ``kind``: strings as
    strings, numbers as float64 (the validators check ranges and whole numbers)."""
    schema = {"events": EVENTS, "feedback": FEEDBACK}[kind]
    columns = {}
    for name in schema.names:
        values = [item.get(name) for item in items]
        if name == "attributes":
            values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
        kind_type = pa.float64() if name in _NUMERIC else pa.string()
        columns[name] = pa.array(values, type=kind_type)
    return pa.table(columns)
