"""Results while events stream in: the collector's appends publish a new data version at
most every ``max_lag_s`` seconds (:class:`touchlens.api.cache.ResultCache`), other writes
at once; the dashboard's prefetch remembers one version per scope."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from touchlens.api.cache import ResultCache
from touchlens.api.routers import charts
from touchlens.api.scope import Scope

from .conftest import open_served


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _counter(cache: ResultCache):
    calls: list[int] = []

    def value() -> int:
        def compute() -> int:
            calls.append(1)
            return len(calls)
        return cache.get_or_compute(("k",), compute)

    return value


def test_appends_are_published_at_most_every_max_lag_seconds() -> None:
    clock = Clock()
    cache = ResultCache(8, max_lag_s=10, clock=clock)
    value = _counter(cache)
    assert value() == 1
    cache.appended()  # the first append after a quiet spell: visible at once
    assert cache.version == 1 and value() == 2
    for step in range(1, 10):  # a commit every second: the result is reused
        clock.now = 100 + step
        cache.appended()
        assert value() == 2 and cache.version == 1
    clock.now = 110.0  # ten seconds after the last published version
    assert value() == 3 and cache.version == 2
    clock.now = 125.0  # quiet: nothing pending, nothing to publish
    assert value() == 3 and cache.version == 2


def test_other_writes_are_visible_at_once_and_take_the_pending_appends_along() -> None:
    clock = Clock()
    cache = ResultCache(8, max_lag_s=10, clock=clock)
    value = _counter(cache)
    cache.appended()
    assert value() == 1
    clock.now += 1
    cache.appended()
    assert value() == 1  # lagging
    cache.bump()  # e.g. an erasure: never served stale
    assert value() == 2
    clock.now += 1
    assert value() == 2  # the pending append went out with the bump


def test_no_lag_publishes_every_append() -> None:
    cache = ResultCache(8)  # max_lag_s = 0
    value = _counter(cache)
    assert value() == 1
    for expected in (2, 3, 4):
        cache.appended()
        assert value() == expected


def _event(i: int) -> dict:
    return {"event_id": f"lag-{i}", "occurred_at": "2026-02-10T10:00:00Z",
            "customer_id": f"lag-customer-{i}", "channel": "email", "touchpoint": "lag_probe",
            "event_type": "open"}


def _reach(served) -> int:
    r = served.client.get("/v1/scorecard", headers=served.read)
    assert r.status_code == 200, r.text
    rows = {row["touchpoint"]: row for row in r.json()["data"]}
    return int(rows.get("lag_probe", {}).get("reach") or 0)


def _post(served, i: int) -> None:
    r = served.client.post("/v1/events", json=[_event(i)], headers=served.write)
    assert r.status_code == 200 and r.json()["accepted"] == 1


def test_the_served_results_lag_streamed_events_by_at_most_max_lag(template_db: Path,
                                                                   tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    for served in open_served(db, max_lag_s=1.5):
        assert _reach(served) == 0
        _post(served, 1)
        published = time.monotonic()
        assert _reach(served) == 1  # the first batch after a quiet spell: at once
        _post(served, 2)
        if time.monotonic() - published < 1.0:  # a slow machine may have waited past it
            assert _reach(served) == 1  # within the lag: the cached result
        time.sleep(max(0.0, 1.6 - (time.monotonic() - published)))
        assert _reach(served) == 2


def test_max_lag_zero_shows_every_batch(template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    for served in open_served(db, max_lag_s=0):
        for i in (1, 2, 3):
            _post(served, i)
            assert _reach(served) == i


def test_prefetch_keeps_one_version_per_scope_and_one_run_at_a_time(served) -> None:
    state = served.client.app.state.touchlens
    key = Scope().key()
    for _ in range(3):
        charts.prefetch(state, Scope())
        state.cache.bump()
    assert len(state.prefetched) == 1
    deadline = time.monotonic() + 120
    while key in state.prefetching and time.monotonic() < deadline:  # let the last run end
        time.sleep(0.05)
    assert key not in state.prefetching
    assert charts.prefetch(state, Scope())  # a new version, nothing running: starts
    assert not charts.prefetch(state, Scope())  # same version
    state.cache.bump()
    if key in state.prefetching:
        assert not charts.prefetch(state, Scope())  # a run is still going: not a second one


def test_freshness_reports_the_version_the_results_show(template_db: Path,
                                                        tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    for served in open_served(db, max_lag_s=3600):
        assert served.client.get("/v1/freshness").status_code == 401
        assert served.client.get("/v1/freshness", headers=served.write).status_code == 403
        first = served.client.get("/v1/freshness", headers=served.read).json()
        assert set(first) == {"version", "as_of", "pending", "max_lag_s"}
        assert first["max_lag_s"] == 3600 and first["pending"] is False
        _post(served, 1)  # the first batch after a quiet spell: a new version at once
        second = served.client.get("/v1/freshness", headers=served.read).json()
        assert second["version"] == first["version"] + 1
        assert second["as_of"] >= first["as_of"]
        _post(served, 2)  # within the lag: waits for the next version
        third = served.client.get("/v1/freshness", headers=served.read).json()
        assert third["version"] == second["version"] and third["pending"] is True


def test_closing_the_app_waits_for_its_background_computations(template_db: Path,
                                                               tmp_path: Path) -> None:
    """Closing the workspace under a running prefetch query crashed the process (a
    segfault in CI): the app now lets the prefetch finish its step first."""
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    for served in open_served(db):
        state = served.client.app.state.touchlens
        assert charts.prefetch(state, Scope())
        running = list(state._background)
        assert running
    assert state.stopping
    assert not any(t.is_alive() for t in running)
