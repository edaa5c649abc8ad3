"""Memoised insights (a served workspace keeps intermediate results per data version) give
the same tables as a plain workspace computing everything, first time and from the memo."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.api.served import ServedWorkspace
from touchlens.insights import service

# DuckDB sums floats in parallel: two runs of the same query may differ in the last bits
SAME = {"check_exact": False, "rtol": 1e-12, "atol": 0.0}


@pytest.fixture(scope="module")
def sim_db(tmp_path_factory) -> Path:
    from touchlens.simulate import simulate_retailer

    world = simulate_retailer(600, seed=5, days=60)
    path = tmp_path_factory.mktemp("memo") / "ws.duckdb"
    with Workspace.open(path) as ws:
        for kind in ("events", "feedback", "costs", "identities"):
            ws.ingest_arrow(getattr(world, kind), kind)
    return path


@pytest.fixture(scope="module")
def sim(sim_db: Path) -> Iterator[Workspace]:
    with Workspace.open(sim_db) as ws:
        yield ws


def _served(ws: Workspace) -> ServedWorkspace:
    return ServedWorkspace(ws.store, threading.RLock(), ws.settings)


def test_recommendations_are_the_same_with_and_without_the_memo(sim) -> None:
    plain = sim.recommendations()
    assert not plain.empty
    served = _served(sim)
    try:
        first = served.recommendations()  # computed, the parts memoised
        again = served.recommendations()  # every part from the memo
        pd.testing.assert_frame_equal(first, plain, **SAME)
        pd.testing.assert_frame_equal(again, plain, **SAME)
        for quoted in (None, "last"):  # another model is another memo entry
            pd.testing.assert_frame_equal(served.recommendations(attribution_model=quoted),
                                          sim.recommendations(attribution_model=quoted),
                                          **SAME)
    finally:
        served.close()


def test_journey_map_moments_and_consistency_from_the_memo(sim) -> None:
    served = _served(sim)
    try:
        served.recommendations()  # fills the memo the other analyses read
        jm, plain = served.journey_map(), sim.journey_map()
        for part in ("stages", "touchpoints", "pain_points", "gaps", "moments"):
            pd.testing.assert_frame_equal(getattr(jm, part), getattr(plain, part), **SAME)
        assert jm.n_customers == plain.n_customers
        pd.testing.assert_frame_equal(served.moments_of_truth(), sim.moments_of_truth(),
                                      **SAME)
        pd.testing.assert_frame_equal(served.consistency(), sim.consistency(), **SAME)
        # arguments that change the result bypass (or key) the memo
        pd.testing.assert_frame_equal(served.moments_of_truth(repeat_days=30.0),
                                      sim.moments_of_truth(repeat_days=30.0), **SAME)
        pd.testing.assert_frame_equal(
            service.journey_map(served, burst=2, burst_hours=6.0).gaps,
            service.journey_map(sim, burst=2, burst_hours=6.0).gaps, **SAME)
    finally:
        served.close()


def test_a_write_through_the_workspace_drops_its_memo(tmp_path: Path) -> None:
    """The memo is keyed on the data version, which any committed write bumps."""
    from touchlens.simulate import simulate_retailer

    world = simulate_retailer(150, seed=2, days=30)
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        served = _served(ws)
        try:
            before = served.journey_map().n_customers
            assert served.journey_map().n_customers == before  # from the memo
            new = ws.store.execute(ws.store.table("events").limit(1))
            new = new.assign(event_id="memo-new-1", customer_id="memo-new-customer",
                             anonymous_id=None)
            served.ingest_arrow(new, "events")
            assert served.journey_map().n_customers == before + 1
        finally:
            served.close()


def test_a_plain_workspace_runs_the_moments_once_for_the_recommendations(sim, monkeypatch
                                                                         ) -> None:
    """Without a memo the recommendations reuse the moments their journey map computed
    (they were run twice: ~0.4 s on the demo, seconds at 10M events)."""
    runs = []
    real = service.analyse

    def counted(*args, **kwargs):
        runs.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "analyse", counted)
    assert not sim.recommendations().empty
    assert len(runs) == 1
