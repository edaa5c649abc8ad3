"""Rebuilds of the derived tables (identity map, journey cache) in a served workspace.

They run under the build lock, not the write lock: the collector goes on storing events
while one runs (at 10M events a rebuild takes ~80 s; the collector used to wait, then
answer 503), events stored meanwhile are stitched by the next build, and an erasure waits
for a running build so that the build cannot put the person back.

Each test holds a build half-way with a patched step (an :class:`threading.Event` pair);
the waits have generous timeouts so that a regression fails instead of hanging.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from touchlens import journeys as J
from touchlens.api.security import create_key
from touchlens.api.served import CursorStore
from touchlens.journeys import incremental
from touchlens.store.erase import resolve, scan
from touchlens.store.schema import JOURNEY_CACHE
from touchlens.workspace import Workspace

from .conftest import Served, open_served

WAIT_S = 30.0


@pytest.fixture
def served_now(template_db: Path, tmp_path: Path) -> Iterator[Served]:
    """``served`` publishing every append at once (``max_lag_s`` = 0): a read right after
    new events sees them."""
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    yield from open_served(db, max_lag_s=0)


class Hold:
    """A step that stops half-way until the test lets it go on."""

    def __init__(self) -> None:
        self.entered, self.go = threading.Event(), threading.Event()

    def pause(self) -> None:
        self.entered.set()
        assert self.go.wait(WAIT_S), "the test never released the build"


def _in_thread(target: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(target())
        except BaseException as exc:  # reported by the test
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


def _build(state) -> Callable[[], int]:
    def run() -> int:
        with state.workspace() as ws:
            return int(ws.store.execute(ws.journey_events().count().name("n").as_table())
                       .iloc[0, 0])
    return run


def _event(event_id: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": "2026-02-20T10:00:00Z", "channel": "web",
            "touchpoint": "product_page", "event_type": "page_view", **fields}


def test_the_collector_stores_events_while_the_identity_map_is_rebuilt(served_now, monkeypatch
                                                                       ) -> None:
    served = served_now
    state = served.client.app.state.touchlens
    hold = Hold()
    real_stitch = J.stitch

    def stitch(*args: Any, **kwargs: Any) -> ir.Table:
        expr = real_stitch(*args, **kwargs)  # the events' snapshot is read here
        hold.pause()
        return expr

    monkeypatch.setattr(J, "stitch", stitch)
    r = served.client.post("/v1/events", json=[_event("b-0", customer_id="C-first")],
                           headers=served.write)
    assert r.status_code == 200 and r.json()["accepted"] == 1  # the map is stale now
    builder, built = _in_thread(_build(state))
    assert hold.entered.wait(WAIT_S)
    # a cookie seen anonymously, then logged in: both stored while the build is held
    items = [_event("b-1", anonymous_id="cookie-late"),
             _event("b-2", anonymous_id="cookie-late", customer_id="C-late",
                    occurred_at="2026-02-20T10:05:00Z")]
    answer = state.writer.submit("events", items)
    try:
        result = answer.result(timeout=WAIT_S / 2)
    finally:
        hold.go.set()
        builder.join(WAIT_S)
    assert result.accepted == 2  # answered while the build held its lock
    assert not builder.is_alive() and isinstance(built[0], int)
    with state.workspace() as ws:
        # stored after the build read the events: they are not taken for stitched
        assert ws.store.get_meta("identity_map_stale") == "1"
        monkeypatch.setattr(J, "stitch", real_stitch)
        je = ws.journey_events()
        rows = ws.store.execute(je.filter(je.event_id.isin(["b-1", "b-2"]))
                                .select("event_id", "customer_id"))
    assert dict(zip(rows.event_id, rows.customer_id, strict=True)) == {
        "b-1": "C-late", "b-2": "C-late"}


def test_the_collector_stores_events_while_the_journeys_are_rebuilt(served_now, monkeypatch
                                                                    ) -> None:
    served = served_now
    state = served.client.app.state.touchlens
    hold = Hold()
    real_replace = CursorStore.replace

    def replace(self: CursorStore, name: str, obj: Any) -> None:
        if name == JOURNEY_CACHE and isinstance(obj, ir.Table):
            obj = obj.to_pyarrow()  # a long statement: read, then write
            hold.pause()
        real_replace(self, name, obj)

    monkeypatch.setattr(CursorStore, "replace", replace)
    served.client.post("/v1/events", json=[_event("j-0", customer_id="C-j")],
                       headers=served.write)
    builder, built = _in_thread(_build(state))
    assert hold.entered.wait(WAIT_S)
    answer = state.writer.submit("events", [_event("j-1", customer_id="C-j",
                                                   occurred_at="2026-02-20T11:00:00Z")])
    try:
        assert answer.result(timeout=WAIT_S / 2).accepted == 1
    finally:
        hold.go.set()
        builder.join(WAIT_S)
    n_before = built[0]
    assert isinstance(n_before, int)
    monkeypatch.setattr(CursorStore, "replace", real_replace)
    # the next read sees the event stored during the build
    assert _build(state)() == n_before + 1


@pytest.mark.parametrize("build", ["full", "incremental"])
def test_an_erasure_waits_for_a_running_build(served, monkeypatch, build) -> None:
    state = served.client.app.state.touchlens
    with state.workspace() as ws:
        key, _ = create_key(ws, "admin", "dpo")
        ws.journey_events()  # everything current
        ev = ws.store.table("events")
        who = str(ws.store.execute(ev.filter(ev.customer_id.notnull()).select("customer_id")
                                   .distinct().order_by("customer_id").limit(1))
                  ["customer_id"].iloc[0])
        ids = resolve(ws.store, [("customer", who)])
        if build == "full":  # not updated in place: rebuilt from scratch
            ws.store.set_meta(incremental.FINGERPRINT_KEY, "")
    hold = Hold()
    step = "replace" if build == "full" else "insert_select"
    real_step = getattr(CursorStore, step)

    def held(self: CursorStore, name: str, obj: Any) -> None:
        if name == JOURNEY_CACHE and isinstance(obj, ir.Table):
            obj = obj.to_pyarrow()  # read before the erasure…
            hold.pause()
            if step == "insert_select":
                obj = ibis.memtable(obj)
        real_step(self, name, obj)  # … written after it, if the erasure did not wait

    monkeypatch.setattr(CursorStore, step, held)
    # a new event of the person makes the journeys stale; the build reads their events
    served.client.post("/v1/events", json=[_event("x-1", customer_id=who)],
                       headers=served.write)
    builder, built = _in_thread(_build(state))
    assert hold.entered.wait(WAIT_S)
    eraser, erased = _in_thread(lambda: served.client.post(
        "/v1/erase", json={"customer": who}, headers={"Authorization": f"Bearer {key}"}))
    eraser.join(1.0)
    assert eraser.is_alive()  # waiting for the build
    hold.go.set()
    builder.join(WAIT_S)
    eraser.join(WAIT_S)
    assert isinstance(built[0], int), built
    assert not eraser.is_alive() and erased[0].status_code == 200, erased
    monkeypatch.setattr(CursorStore, step, real_step)
    with state.workspace() as ws:
        assert scan(ws.store, ids) == {}  # not in the journey cache the build wrote


def test_appends_the_published_version_lacks_trigger_no_rebuild(served, monkeypatch
                                                               ) -> None:
    """With ``max_lag_s`` > 0 (the default, 10 s) results lag the collector's appends by up
    to that long: reads in between use the derived tables built for the published version
    instead of rebuilding them on every read while events stream in."""
    state = served.client.app.state.touchlens
    calls: list[int] = []
    real = Workspace.refresh

    def counted(self: Workspace, *, force: bool = False) -> None:
        calls.append(1)
        real(self, force=force)

    monkeypatch.setattr(Workspace, "refresh", counted)
    assert _build(state)() > 0 and calls == [1]  # first read: built
    served.client.post("/v1/events", json=[_event("l-1", customer_id="C-lag")],
                       headers=served.write)  # after a quiet spell: published at once
    n = _build(state)()
    assert calls == [1, 1]  # the new version: brought up to date
    served.client.post("/v1/events", json=[_event("l-2", customer_id="C-lag")],
                       headers=served.write)  # within max_lag_s of the last version
    assert _build(state)() == n and calls == [1, 1]  # not rebuilt for it
    state.cache.bump()  # the next version (any other write publishes at once)
    assert _build(state)() == n + 1 and calls == [1, 1, 1]


def test_a_plain_workspace_marks_the_map_stale_again_when_a_build_fails(tmp_path,
                                                                        monkeypatch) -> None:
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest_arrow(pa.Table.from_pylist([_event("p-1", customer_id="C1")]), "events")
        assert ws.store.get_meta("identity_map_stale") == "1"

        def broken(*_: Any, **__: Any) -> ir.Table:
            raise RuntimeError("stitching failed")

        monkeypatch.setattr(J, "stitch", broken)
        with pytest.raises(RuntimeError):
            ws.refresh()
        assert ws.store.get_meta("identity_map_stale") == "1"  # the next refresh retries
