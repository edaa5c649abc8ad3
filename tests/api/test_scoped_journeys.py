"""Journeys of filtered views (:mod:`touchlens.api.scoped_journeys`): a period's stored per
filter and data version, a channel's or segment's read from the whole workspace's cache —
both equal, row for row, to the journeys (and counts per customer and touchpoint) the
library computes from the view's own events."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pandas as pd
import pytest

from touchlens import journeys as J
from touchlens.api.scope import Scope
from touchlens.api.scoped_journeys import PATTERN, ScopedJourneys
from touchlens.api.security import create_key
from touchlens.charts import data as D

FEB = Scope(start=datetime(2026, 2, 1, tzinfo=UTC), end=datetime(2026, 2, 15, tzinfo=UTC))
ORDER = ["customer_id", "started_at", "journey_id"]


def _computed(ws) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The view's journey-tagged events and journeys as the library computes them from its
    own events (no stored table), sorted."""
    tagged = J.journey_events(ws._resolved_events(), ws.settings.lookback_days)
    events = ws.store.execute(tagged.order_by("event_id"))
    journeys = ws.store.execute(J.journeys(tagged).order_by(ORDER))
    return events, journeys


def _same(ws) -> None:
    events, journeys = _computed(ws)
    assert len(journeys) > 0
    got_events = ws.store.execute(ws.journey_events().order_by("event_id"))
    pd.testing.assert_frame_equal(got_events[list(events.columns)], events, check_exact=True)
    got = ws.store.execute(ws.journeys_table().order_by(ORDER))
    pd.testing.assert_frame_equal(got[list(journeys.columns)], journeys, check_exact=True)
    key = ["customer_id", "touchpoint"]
    counts = ws.store.execute(J.customer_touchpoints(
        J.journey_events(ws._resolved_events(), ws.settings.lookback_days)).order_by(key))
    got = ws.store.execute(ws.customer_touchpoints().order_by(key))[list(counts.columns)]
    numbers = {c: "float64" for c in counts.columns if c not in key}  # NULL = NaN in both
    pd.testing.assert_frame_equal(got.astype(numbers), counts.astype(numbers))


def _stored(served) -> list[str]:
    with served.client.app.state.touchlens.workspace() as ws:
        return ws.store.tables_like(PATTERN)


@pytest.fixture
def state(served):
    state = served.client.app.state.touchlens
    state.scoped.min_rows = 0  # the test workspace's periods are small: store them anyway
    return state


def test_a_period_is_stored_once_and_equals_its_computed_journeys(served, state) -> None:
    with state.workspace(FEB) as ws:
        assert ws.journeys_stored()
        _same(ws)
        scorecard = ws.scorecard()
    assert len(_stored(served)) == 2  # its events and its journeys
    with state.workspace(FEB) as other:  # another request: the same tables, not rebuilt
        names = other.store.tables_like(PATTERN)
        pd.testing.assert_frame_equal(other.scorecard(), scorecard)
        assert other.store.tables_like(PATTERN) == names


def test_a_customer_filter_reads_the_whole_cache(served, state) -> None:
    for scope in (Scope(channel="email"), Scope(channel="paid_search")):
        with state.workspace(scope) as ws:
            assert ws.journeys_stored()
            _same(ws)
    assert _stored(served) == []  # nothing stored for them


def test_a_segment_filter_reads_the_whole_cache(served, state) -> None:
    r = served.client.get("/v1/segments", headers=served.read)
    segment = next(s["segment"] for s in r.json()["data"] if s["n_customers"] > 0)
    from touchlens.api.scope import narrow_to_segment

    with state.workspace() as probe:
        scope = narrow_to_segment(Scope(), segment, D.segment_members(probe))
    with state.workspace(scope) as ws:
        _same(ws)


def test_small_periods_are_computed_by_each_query(served) -> None:
    state = served.client.app.state.touchlens  # min_rows as shipped: far above this period
    with state.workspace(FEB) as ws:
        assert not ws.journeys_stored()
        _same(ws)
    assert _stored(served) == []


def test_new_events_rebuild_the_period_once(served, state, monkeypatch) -> None:
    builds: list[int] = []
    real = J.journey_events

    def counted(*args, **kwargs):
        builds.append(1)
        return real(*args, **kwargs)

    with state.workspace(FEB) as ws:
        ws.journey_events()
    from touchlens.api import served as served_module

    monkeypatch.setattr(served_module.J, "journey_events", counted)
    threads = []
    for _ in range(4):  # concurrent requests of the same view share one build
        def read() -> None:
            with state.workspace(FEB) as ws:
                ws.store.execute(ws.journey_events().count().as_table())
        threads.append(threading.Thread(target=read))
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert builds == []  # the data has not changed: the stored tables are read
    r = served.client.post("/v1/events", headers=served.write, json=[{
        "event_id": "scoped-new", "occurred_at": "2026-02-03T10:00:00Z",
        "customer_id": "scoped-customer", "channel": "email", "touchpoint": "newsletter",
        "event_type": "open"}])
    assert r.json()["accepted"] == 1
    with state.workspace(FEB) as ws:
        tagged = ws.journey_events()
        found = ws.store.execute(tagged.filter(tagged.event_id == "scoped-new"))
    assert len(found) == 1 and builds == [1]


def test_least_recently_used_filters_go_beyond_the_limits(served, state) -> None:
    state.scoped = ScopedJourneys(limit=2, min_rows=0)
    days = [Scope(start=datetime(2026, 2, d, tzinfo=UTC), end=datetime(2026, 2, d + 7,
                                                                       tzinfo=UTC))
            for d in (1, 2, 3)]
    for scope in days:
        with state.workspace(scope) as ws:
            ws.journey_events()
    names = {ScopedJourneys.names(s.key(), 30.0).events for s in days}
    assert {n for n in _stored(served) if "events" in n} == names - {
        ScopedJourneys.names(days[0].key(), 30.0).events}


def test_a_filter_in_use_is_not_evicted(served, state) -> None:
    """A workspace reading its filter's tables keeps them while other filters are built
    beyond the limit; once it is closed the next build may drop them."""
    state.scoped = ScopedJourneys(limit=1, min_rows=0)
    first, *others = [Scope(start=datetime(2026, 2, d, tzinfo=UTC),
                            end=datetime(2026, 2, d + 7, tzinfo=UTC)) for d in (1, 2, 3)]
    held = ScopedJourneys.names(first.key(), 30.0)
    with state.workspace(first) as ws:
        tagged = ws.journey_events()
        for scope in others:
            with state.workspace(scope) as other:
                other.journey_events()
        assert held.events in _stored(served)
        assert ws.store.execute(tagged.count().as_table()).iloc[0, 0] > 0  # still readable
        _same(ws)
    with state.workspace(Scope(start=datetime(2026, 2, 5, tzinfo=UTC),
                               end=datetime(2026, 2, 12, tzinfo=UTC))) as ws:
        ws.journey_events()  # a new build: what nobody holds now goes
    assert held.events not in _stored(served)


def test_no_more_rows_than_the_workspace_has_events(served, state) -> None:
    halves = [Scope(start=datetime(2026, 1, 1, tzinfo=UTC), end=datetime(2026, 2, 10,
                                                                         tzinfo=UTC)),
              Scope(start=datetime(2026, 1, 20, tzinfo=UTC))]
    for scope in halves:  # each holds well over half of the events: both cannot stay
        with state.workspace(scope) as ws:
            ws.journey_events()
    stored = [n for n in _stored(served) if "events" in n]
    assert stored == [ScopedJourneys.names(halves[1].key(), 30.0).events]


def test_dropped_when_the_server_starts_and_stops(served, state) -> None:
    with state.workspace(FEB) as ws:
        ws.journey_events()
    assert _stored(served)
    served.client.__exit__(None, None, None)  # the app's shutdown
    from touchlens import Workspace

    with Workspace.open(served.db) as ws:
        assert ws.store.tables_like(PATTERN) == []
        ws.store.replace("_scoped_journey_events_left_over", ws.store.table("events"))
    from tests.api.conftest import open_served

    for again in open_served(served.db):
        assert _stored(again) == []


def test_an_erasure_leaves_nothing_of_the_person_in_them(served, state) -> None:
    def rows_of(ws, who: str) -> dict[str, int]:
        out = {}
        for name in ws.store.tables_like(PATTERN):
            t = ws.store.table(name)
            mine = t.customer_id == who
            if "source_customer_id" in t.columns:
                mine |= t.source_customer_id == who
            out[name] = len(ws.store.execute(t.filter(mine)))
        return out

    with state.workspace(FEB) as ws:
        tagged = ws.journey_events()
        ws.journeys_table()
        who = str(ws.store.execute(tagged.filter(tagged.source_customer_id.notnull())
                                   .select("source_customer_id").limit(1))
                  ["source_customer_id"].iloc[0])
        before = rows_of(ws, who)
    assert len(before) == 2 and all(before.values())  # in both tables
    with state.workspace() as ws:
        key, _ = create_key(ws, "admin", "scoped test")
    r = served.client.post("/v1/erase", json={"customer": who},
                           headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200 and r.json()["remaining"] == {}
    with state.workspace() as ws:
        assert not any(rows_of(ws, who).values())


def test_a_customer_filter_reads_per_customer_rollups_of_the_whole(served, state) -> None:
    """A channel view's per-customer rollups are the whole workspace's stored rows of its
    customers: equal to the rollup of the view's own events; a summed rollup is computed."""
    import ibis.expr.operations as ops

    from touchlens.journeys import rollups  # the app's analytics registered them

    per_customer = [r for r in rollups.REGISTRY.values() if r.per_customer]
    assert len(per_customer) >= 5
    with state.workspace(Scope(channel="email")) as ws:
        tagged = J.journey_events(ws._resolved_events(), ws.settings.lookback_days)
        for rollup in rollups.REGISTRY.values():
            context = None if rollup.context_of is None else rollup.context_of(ws)
            got = ws.rollup(rollup)
            read = {node.name for node in got.op().find(ops.DatabaseTable)}
            reads_stored = rollup.table in read
            assert reads_stored == rollup.per_customer, rollup.name
            keys = list(rollup.keys)
            want = ws.store.execute(rollup.of(tagged, context).order_by(keys))
            have = ws.store.execute(got.order_by(keys))[list(want.columns)]
            assert len(want) > 0, rollup.name
            pd.testing.assert_frame_equal(have, want, check_dtype=False, obj=rollup.name)


def test_the_catalogue_is_never_read_under_the_build_lock(served, state, monkeypatch) -> None:
    """A rollup's context (the catalogue's stages) is looked up before the build lock is
    taken: the catalogue's own usage counts are a rollup, so a catalogue computed by one
    request waits for the lock, and a request holding the lock must not wait for it."""
    from touchlens.api.served import ServedWorkspace
    from touchlens.journeys import rollups

    real = ServedWorkspace.touchpoints
    looked_up: list[bool] = []

    def touchpoints(self):
        looked_up.append(state.build_lock._is_owned())
        return real(self)

    monkeypatch.setattr(ServedWorkspace, "touchpoints", touchpoints)
    for scope in (Scope(), Scope(channel="email"), FEB):
        with state.workspace(scope) as ws:
            for rollup in rollups.REGISTRY.values():
                ws.store.execute(ws.rollup(rollup).limit(1))
            ws.funnel()
    assert looked_up and not any(looked_up)
