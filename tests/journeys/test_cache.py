"""The DuckDB journey cache: built once, rebuilt after new data, a lookback change or an
erasure, never serving stale or erased rows."""

from __future__ import annotations

import pandas as pd

from touchlens import Workspace
from touchlens.store.erase import base_tables


def _events(ids: list[str], customers: list[str], days: list[str],
            types: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"event_id": ids, "occurred_at": days, "customer_id": customers,
                         "channel": "web", "event_type": types,
                         "revenue": [100.0 if t == "purchase" else None for t in types]})


def test_cache_follows_new_data_and_lookback(tmp_path):
    path = tmp_path / "w.duckdb"
    with Workspace.open(path) as ws:
        ws.ingest_arrow(_events(["e1", "e2"], ["a", "a"], ["2026-01-01", "2026-01-02"],
                                ["visit", "purchase"]), "events")
        first = ws.journeys()
        assert len(first) == 1 and first.converted.all()
        assert "journey_events_cache" in base_tables(ws.store)
        ws.ingest_arrow(_events(["e3"], ["b"], ["2026-01-03"], ["visit"]), "events")
        assert sorted(ws.journeys().customer_id) == ["a", "b"]  # not the cached one-journey
    # a touch 40 days before the purchase: inside a 60-day lookback, outside a 30-day one
    with Workspace.open(path, lookback_days=60) as ws:
        ws.ingest_arrow(_events(["e4", "e5"], ["c", "c"], ["2026-01-01", "2026-02-10"],
                                ["visit", "purchase"]), "events")
        assert ws.journeys().query("customer_id == 'c'").converted.tolist() == [True]
    with Workspace.open(path, lookback_days=30) as ws:
        assert ws.journeys().query("customer_id == 'c'").converted.tolist() == [False, True]


def test_erasure_removes_the_person_from_the_cache(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest_arrow(_events(["e1", "e2", "e3"], ["kowalski-7", "kowalski-7", "other"],
                                ["2026-01-01"] * 3, ["visit", "purchase", "visit"]), "events")
        assert len(ws.journeys()) == 2  # the cache now holds both people
        receipt = ws.erase(customer="kowalski-7")
        assert receipt.remaining == {}
        cache = ws.store.execute(ws.store.table("journey_events_cache"))
        assert "kowalski-7" not in set(cache.customer_id)
        assert ws.journeys().customer_id.tolist() == ["other"]


def test_stored_journeys_equal_the_computed_ones(tmp_path):
    """The one-row-per-journey cache holds exactly what the expression computes, follows new
    data, and an erased person leaves it too."""
    from touchlens import journeys as J

    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest_arrow(_events(["e1", "e2", "e3", "e4"], ["a", "a", "a", "b"],
                                ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-01"],
                                ["visit", "purchase", "visit", "visit"]), "events")
        order = ["customer_id", "started_at", "journey_id"]
        stored = ws.store.execute(ws.journeys_table().order_by(order))
        computed = ws.store.execute(J.journeys(ws.journey_events()).order_by(order))
        assert "journeys_cache" in base_tables(ws.store)
        pd.testing.assert_frame_equal(stored, computed)
        assert ws.top_paths().n_journeys.sum() == 3
        ws.ingest_arrow(_events(["e5"], ["c"], ["2026-01-04"], ["visit"]), "events")
        assert ws.top_paths().n_journeys.sum() == 4
        ws.erase(customer="a")
        cache = ws.store.execute(ws.store.table("journeys_cache"))
        assert "a" not in set(cache.customer_id)
        assert sorted(ws.journeys().customer_id) == ["b", "c"]


def test_a_cache_of_the_previous_format_is_rebuilt(tmp_path):
    """A workspace whose journey cache predates the journeys table gets both rebuilt."""
    path = tmp_path / "w.duckdb"
    with Workspace.open(path) as ws:
        ws.ingest_arrow(_events(["e1", "e2"], ["a", "a"], ["2026-01-01", "2026-01-02"],
                                ["visit", "purchase"]), "events")
        ws.journeys()
        ws.store.con.con.execute("DROP TABLE journeys_cache")
        ws.store.set_meta("journey_cache_key", "lookback=30.0")  # how format 1 wrote it
    with Workspace.open(path) as ws:
        assert ws.journeys().converted.tolist() == [True]
        assert "journeys_cache" in base_tables(ws.store)
