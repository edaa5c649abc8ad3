"""Builders for hand-made event and feedback tables, and a DuckDB workspace holding them."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

from touchlens import Workspace
from touchlens.store.schema import EVENTS, FEEDBACK

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(hours: float) -> datetime:
    """T0 + hours."""
    return T0 + timedelta(hours=hours)


def events(rows: Sequence[tuple], *, prefix: str = "e") -> pa.Table:
    """Rows (customer, hours, touchpoint, event_type[, channel[, revenue[, attributes]]])."""
    out = []
    for i, row in enumerate(rows):
        c, h, tp, et, *rest = row
        channel = rest[0] if len(rest) > 0 and rest[0] else tp.split("_")[0]
        revenue = rest[1] if len(rest) > 1 else (100.0 if et == "purchase" else None)
        attrs = rest[2] if len(rest) > 2 else None
        out.append({"event_id": f"{prefix}{i:05d}", "occurred_at": at(h), "customer_id": c,
                    "channel": channel, "touchpoint": tp, "event_type": et,
                    "revenue": revenue, "currency": "PLN" if revenue is not None else None,
                    "attributes": attrs})
    return pa.Table.from_pylist(out, schema=EVENTS)


def feedback(rows: Sequence[tuple]) -> pa.Table:
    """Rows (customer, hours, touchpoint, channel, nps, csat, ces)."""
    out = [{"response_id": f"r{i:05d}", "occurred_at": at(h), "customer_id": c,
            "touchpoint": tp, "channel": ch, "nps": nps, "csat": csat, "ces": ces}
           for i, (c, h, tp, ch, nps, csat, ces) in enumerate(rows)]
    return pa.Table.from_pylist(out, schema=FEEDBACK)


@pytest.fixture
def workspace(tmp_path: Any) -> Iterator[Callable[..., Workspace]]:
    """``workspace(events_table, feedback_table=None)`` → a DuckDB workspace holding them."""
    opened: list[Workspace] = []

    def make(ev: pa.Table, fb: pa.Table | None = None, name: str = "ws") -> Workspace:
        ws = Workspace.open(tmp_path / f"{name}.duckdb")
        ws.ingest_arrow(ev, "events")
        if fb is not None:
            ws.ingest_arrow(fb, "feedback")
        opened.append(ws)
        return ws

    yield make
    for ws in opened:
        ws.close()
