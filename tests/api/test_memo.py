"""The server's memo (results per data version, :mod:`touchlens.api.cache`): shared by the
requests, dropped by every write — collector batches, an ingest, an erasure — and
computed once when requests ask for it at the same time."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from touchlens.api.cache import ResultCache
from touchlens.api.security import create_key
from touchlens.store.schema import EVENTS


def _event(event_id: str, customer: str, touchpoint: str = "newsletter") -> dict:
    return {"event_id": event_id, "occurred_at": "2026-02-10T10:00:00Z",
            "customer_id": customer, "channel": "email", "touchpoint": touchpoint,
            "event_type": "open"}


def _collector(served) -> None:
    r = served.client.post("/v1/events", json=[_event("memo-1", "memo-customer")],
                           headers=served.write)
    assert r.status_code == 200 and r.json()["accepted"] == 1


def _ingest(served) -> None:
    row = {**_event("memo-2", "memo-other"), "occurred_at": datetime(2026, 2, 10, tzinfo=UTC)}
    with served.client.app.state.touchlens.workspace() as ws:
        table = pa.Table.from_pylist([row], schema=EVENTS)
        assert int(ws.ingest_arrow(table, "events")["stored"].iloc[0]) == 1


def _a_customer(served) -> str:
    with served.client.app.state.touchlens.workspace() as ws:
        ev = ws.store.table("events")
        who = ws.store.execute(ev.filter(ev.customer_id.notnull()).select("customer_id")
                               .order_by("customer_id").limit(1))
    return str(who["customer_id"].iloc[0])


def _erase_route(served) -> None:
    with served.client.app.state.touchlens.workspace() as ws:
        key, _ = create_key(ws, "admin", "memo test")
    r = served.client.post("/v1/erase", json={"customer": _a_customer(served)},
                           headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["total_rows"] > 0


def _erase_in_process(served) -> None:
    who = _a_customer(served)
    with served.client.app.state.touchlens.workspace() as ws:
        assert ws.erase(customer=who).total_rows > 0


@pytest.mark.parametrize("write", [_collector, _ingest, _erase_route, _erase_in_process],
                         ids=["collector", "ingest", "erase-route", "erase-in-process"])
def test_any_write_drops_the_memo(served, write: Callable) -> None:
    state = served.client.app.state.touchlens
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    with state.workspace() as ws:
        assert ws.memo("probe", (), compute) == 1
    with state.workspace() as other:  # another request: the same memo
        assert other.memo("probe", (), compute) == 1
    write(served)
    with state.workspace() as ws:
        assert ws.memo("probe", (), compute) == 2


def test_the_journey_map_route_sees_new_events(served) -> None:
    """End to end: the map (memoised with the moments behind it) after collected events."""

    def reach() -> int:
        r = served.client.get("/v1/journey-map", headers=served.read)
        assert r.status_code == 200
        rows = {row["touchpoint"]: row for row in r.json()["data"]}
        return int(rows.get("memo_probe", {}).get("reach") or 0)

    assert reach() == 0
    r = served.client.post("/v1/events", headers=served.write, json=[
        _event(f"memo-p{i}", f"memo-c{i}", touchpoint="memo_probe") for i in range(3)])
    assert r.json()["accepted"] == 3
    assert reach() == 3


def test_concurrent_identical_computations_run_once() -> None:
    cache = ResultCache(8)
    started, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        started.set()
        release.wait(10)
        return "value"

    results: list[str] = []
    first = threading.Thread(target=lambda: results.append(cache.get_or_compute(("k",), slow)))
    first.start()
    assert started.wait(10)
    others = [threading.Thread(target=lambda: results.append(
        cache.get_or_compute(("k",), slow))) for _ in range(3)]
    for t in others:
        t.start()
    release.set()
    for t in [first, *others]:
        t.join(10)
    assert results == ["value"] * 4 and len(calls) == 1


def test_a_result_computed_across_a_write_is_not_kept() -> None:
    cache = ResultCache(8)

    def during_a_write() -> str:
        cache.bump()  # a write committed while this was being computed
        return "stale"

    assert cache.get_or_compute(("k",), during_a_write) == "stale"
    assert cache.get_or_compute(("k",), lambda: "fresh") == "fresh"


def test_the_catalogue_is_computed_once_per_version_and_copied(served, monkeypatch) -> None:
    """Every request and analysis of a data version shares one catalogue (the filters, the
    journey map and the recommendations all need it); a caller changing its copy changes
    nobody else's, and collected events with a new touchpoint are in the next version's."""
    from touchlens.workspace import Workspace

    state = served.client.app.state.touchlens
    calls: list[int] = []
    original = Workspace.touchpoints

    def counted(ws):
        calls.append(1)
        return original(ws)

    monkeypatch.setattr(Workspace, "touchpoints", counted)
    with state.workspace() as ws:
        first = ws.touchpoints()
        first["touchpoint"] = "changed by a caller"
    with state.workspace() as other:
        again = other.touchpoints()
    assert len(calls) == 1 and "changed by a caller" not in set(again["touchpoint"])
    assert "memo_catalogue" not in set(again["touchpoint"])
    batch = [_event("memo-cat", "memo-cat-customer", touchpoint="memo_catalogue")]
    r = served.client.post("/v1/events", json=batch, headers=served.write)
    assert r.json()["accepted"] == 1
    with state.workspace() as ws:
        assert "memo_catalogue" in set(ws.touchpoints()["touchpoint"])
    assert len(calls) == 2
