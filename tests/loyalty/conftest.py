"""Loyalty fixtures: purchases as events, the CDNOW sample as an events table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import ibis
import pandas as pd
import pyarrow as pa
import pytest

from touchlens.loyalty import load_cdnow_transactions
from touchlens.store.schema import EVENTS


def purchase_events(rows: Sequence[tuple[Any, ...]]) -> pa.Table:
    """Events from (customer_id, "YYYY-MM-DD[ HH:MM]", revenue[, order_id[, event_type,
    channel, touchpoint]]) tuples; event_ids e000, e001, … in row order."""
    out = []
    for i, row in enumerate(rows):
        customer, when, revenue, *rest = row
        order = rest[0] if len(rest) > 0 else None
        event_type = rest[1] if len(rest) > 1 else "purchase"
        channel = rest[2] if len(rest) > 2 else "web"
        touchpoint = rest[3] if len(rest) > 3 else "checkout_page"
        ts = datetime.fromisoformat(when).replace(tzinfo=UTC)
        out.append({"event_id": f"e{i:03d}", "occurred_at": ts, "customer_id": customer,
                    "anonymous_id": None, "channel": channel, "touchpoint": touchpoint,
                    "event_type": event_type, "order_id": order, "revenue": revenue,
                    "currency": "EUR" if revenue is not None else None, "cost": None,
                    "campaign": None, "device": None, "attributes": None})
    return pa.Table.from_pylist(out, schema=EVENTS)


@pytest.fixture
def events_of() -> Callable[[Sequence[tuple[Any, ...]]], Any]:
    """``events_of(rows)`` → an in-memory Ibis events table (DuckDB) of :func:`purchase_events`."""
    return lambda rows: ibis.memtable(purchase_events(rows))


@pytest.fixture(scope="session")
def cdnow_events() -> pd.DataFrame:
    """The 6,919 CDNOW purchases as events (one event per purchase, midnight UTC)."""
    t = load_cdnow_transactions()
    return pd.DataFrame({
        "event_id": [f"e{i}" for i in range(len(t))],
        "customer_id": t["customer_id"].astype(str),
        "occurred_at": t["date"].dt.tz_localize("UTC"),
        "event_type": "purchase",
        "order_id": pd.Series([None] * len(t), dtype="string"),
        "revenue": t["revenue"].astype(float),
    })
