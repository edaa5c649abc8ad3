"""Results while events stream in: the collector's appends publish a new data version at
most every ``max_lag_s`` seconds (:class:`touchlens.api.cache.ResultCache`), other writes
at once; the dashboard's prefetch remembers one version per scope."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from touchlens.api import earlier
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


# ---------------------------------------------------------------- earlier results, refreshed


class Jobs:
    """``start`` for get_or_refresh that keeps the jobs to run them when the test says."""

    def __init__(self) -> None:
        self.queued: list = []

    def __call__(self, job) -> None:
        self.queued.append(job)

    def run(self) -> None:
        jobs, self.queued = self.queued, []
        for job in jobs:
            job()


def _refreshing(cache: ResultCache, jobs: Jobs):
    calls: list[int] = []

    def value():
        def compute() -> int:
            calls.append(1)
            return len(calls)
        return cache.get_or_refresh(("k",), compute, jobs)

    return value


def test_after_appends_the_earlier_result_comes_at_once_and_is_refreshed_once() -> None:
    cache, jobs = ResultCache(8), Jobs()
    value = _refreshing(cache, jobs)
    assert value() == (1, None)  # nothing earlier: computed now
    assert not jobs.queued
    cache.appended()  # a new version, by appends only
    assert value() == (1, 0)  # version 0's result, marked so, at once
    assert value() == (1, 0) and len(jobs.queued) == 1  # one refresh, however many ask
    jobs.run()
    assert value() == (2, None)  # the current one
    assert not jobs.queued


def test_a_refresh_outrun_by_more_appends_keeps_its_result_as_the_newest_earlier_one() -> None:
    cache, jobs = ResultCache(8), Jobs()
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        if len(calls) == 2:
            cache.appended()  # events committed while the refresh computes
        return len(calls)

    def value():
        return cache.get_or_refresh(("k",), compute, jobs)

    assert value() == (1, None)
    cache.appended()  # version 1
    assert value() == (1, 0)
    jobs.run()  # computes at version 1 while version 2 is published
    assert value() == (2, 1)  # its result replaces version 0's as the earlier one
    jobs.run()
    assert value() == (3, None)


def test_any_other_write_drops_the_earlier_results() -> None:
    """An erasure, an ingest: never answered with what was computed before it."""
    cache, jobs = ResultCache(8), Jobs()
    value = _refreshing(cache, jobs)
    value()
    cache.appended()
    cache.bump()
    assert value() == (2, None) and not jobs.queued
    cache.appended()
    assert value() == (2, 2)
    cache.bump()  # while a refresh is queued: its result is not kept as earlier either
    jobs.run()
    cache.bump()
    assert value() == (4, None)


def test_a_failed_refresh_is_tried_again_by_the_next_request() -> None:
    cache, jobs = ResultCache(8), Jobs()
    fail = [False]

    def compute() -> int:
        if fail[0]:
            raise RuntimeError("boom")
        return 7

    assert cache.get_or_refresh(("k",), compute, jobs) == (7, None)
    cache.appended()
    fail[0] = True
    assert cache.get_or_refresh(("k",), compute, jobs) == (7, 0)
    with pytest.raises(RuntimeError):
        jobs.run()
    fail[0] = False
    assert cache.get_or_refresh(("k",), compute, jobs) == (7, 0)
    jobs.run()
    assert cache.get_or_refresh(("k",), compute, jobs) == (7, None)


def test_a_cache_keeping_nothing_has_no_earlier_results() -> None:
    cache, jobs = ResultCache(0), Jobs()
    value = _refreshing(cache, jobs)
    assert value() == (1, None)
    cache.appended()
    assert value() == (2, None) and not jobs.queued


ACCEPT = {earlier.ACCEPT_HEADER: "1"}


def _chart(served, accept: bool = True):
    headers = {**served.read, **ACCEPT} if accept else served.read
    return served.client.get("/v1/charts/scorecard", params={"metric": "reach"},
                             headers=headers)


def _scorecard(served, accept: bool):
    headers = {**served.read, **ACCEPT} if accept else served.read
    r = served.client.get("/v1/scorecard", headers=headers)
    assert r.status_code == 200, r.text
    return r


def _until_current(get, served, seconds: float = 60):
    """``get(served, True)`` again until the answer is current (the refresh is done)."""
    r = get(served, True)
    deadline = time.monotonic() + seconds
    while earlier.STALE_HEADER in r.headers and time.monotonic() < deadline:
        time.sleep(0.2)
        r = get(served, True)
    assert earlier.STALE_HEADER not in r.headers
    return r


def test_asking_for_earlier_results_gets_them_at_once_while_they_are_refreshed(
        template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    for served in open_served(db, max_lag_s=0):
        first, table = _chart(served), _scorecard(served, accept=True)
        assert earlier.STALE_HEADER not in {**first.headers, **table.headers}
        assert "lag_probe" not in first.text + table.text
        _post(served, 1)
        chart, rows = _chart(served), _scorecard(served, accept=True)
        # nothing computed the chart since: its earlier drawing, marked with its version
        shown, current = (int(chart.headers[h]) for h in (earlier.STALE_HEADER,
                                                          earlier.VERSION_HEADER))
        assert shown < current == served.client.app.state.touchlens.cache.version
        assert chart.text == first.text
        for r, before in ((chart, first), (rows, table)):
            if earlier.STALE_HEADER in r.headers:  # unless the refresh already finished
                assert r.text == before.text and int(r.headers[earlier.STALE_HEADER]) >= 0
        assert "lag_probe" in _until_current(_chart, served).text  # drawn anew
        assert "lag_probe" in _until_current(_scorecard, served).text


def test_without_asking_every_answer_is_current(template_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    for served in open_served(db, max_lag_s=0):
        _chart(served, accept=False)
        _scorecard(served, accept=False)
        _post(served, 1)
        chart, rows = _chart(served, accept=False), _scorecard(served, accept=False)
        assert earlier.STALE_HEADER not in {**chart.headers, **rows.headers}
        assert "lag_probe" in chart.text and "lag_probe" in rows.text


def test_after_an_erasure_nothing_earlier_is_shown(template_db: Path, tmp_path: Path) -> None:
    """An erasure is not an append: what was computed before it is never answered."""
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    for served in open_served(db, max_lag_s=0):
        _post(served, 1)
        assert "lag_probe" in _until_current(_chart, served).text
        state = served.client.app.state.touchlens
        with state.workspace() as ws:
            ws.erase(customer="lag-customer-1")
        r = _chart(served)
        assert earlier.STALE_HEADER not in r.headers
        assert "lag_probe" not in r.text


def test_derived_data_read_after_a_publication_holds_that_version() -> None:
    clock = Clock()
    cache = ResultCache(8, max_lag_s=10, clock=clock)
    assert not cache.holds_published(None)  # never built
    cache.appended()  # published at once (quiet before)
    assert not cache.holds_published(clock.now - 1)  # read before it
    assert cache.holds_published(clock.now)
    read_at = cache.now()
    clock.now += 3
    cache.appended()  # pending: the published version is still the one read
    assert cache.holds_published(read_at)
    clock.now += 7  # due: the next version holds the pending appends
    assert not cache.holds_published(read_at)
    read_at = cache.now()
    clock.now += 1
    cache.bump()  # any other write publishes at once
    assert not cache.holds_published(read_at)
