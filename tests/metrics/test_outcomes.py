"""Journey outcomes without paths equal those columns of Workspace.journeys(), row for row;
the overview's per-day and total numbers aggregated by the engine equal the same sums
over Workspace.journeys() (pandas, here only as the reference)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.api.scope import Scope
from touchlens.api.served import ServedWorkspace
from touchlens.charts.data import daily, kpis, outcomes_table
from touchlens.metrics import journey_outcomes
from touchlens.metrics.outcomes import OUTCOME_COLUMNS
from touchlens.simulate import simulate_retailer


def _reference_daily(journeys: pd.DataFrame) -> pd.DataFrame:
    day = pd.to_datetime(journeys["ended_at"], utc=True).dt.floor("D")
    grouped = journeys.assign(day=day).groupby("day", sort=True).agg(
        n_journeys=("journey_id", "size"), n_conversions=("converted", "sum"),
        revenue=("revenue", "sum"))
    return grouped.reset_index()


def _same_daily(got: pd.DataFrame, journeys: pd.DataFrame) -> None:
    want = _reference_daily(journeys)
    assert list(got.columns) == ["day", "n_journeys", "n_conversions", "revenue"]
    assert got["day"].tolist() == want["day"].tolist()
    assert str(got["day"].dt.tz) == "UTC"
    assert got["n_journeys"].tolist() == want["n_journeys"].tolist()
    assert got["n_conversions"].tolist() == want["n_conversions"].astype(int).tolist()
    assert got["revenue"].to_numpy() == pytest.approx(want["revenue"].to_numpy(), rel=1e-12)


@pytest.mark.parametrize("seed", [3, 4])
def test_outcomes_equal_the_journey_table(tmp_path, seed):
    world = simulate_retailer(300, seed=seed, days=30)
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.identities, "identities")
        full = ws.journeys()
        lite = ws.store.execute(journey_outcomes(ws.journey_events()))
        pd.testing.assert_frame_equal(lite, full[list(OUTCOME_COLUMNS)], check_exact=True)
        assert ws.journeys_stored()  # the stored journeys' outcomes: the same rows
        stored = ws.store.execute(outcomes_table(ws).order_by(
            ["customer_id", "started_at", "journey_id"]))
        pd.testing.assert_frame_equal(stored, lite, check_exact=True)
        _same_daily(daily(ws), full)
        k = kpis(ws)
        assert (k["journeys"], k["conversions"]) == (len(full), int(full["converted"].sum()))
        assert k["revenue"] == pytest.approx(float(full["revenue"].sum()), rel=1e-12)


def test_a_period_is_computed_from_its_own_events(tmp_path):
    """A scoped (period) workspace keeps no stored journeys: its outcomes are computed from
    its events, and the daily numbers are those of its own journeys."""
    world = simulate_retailer(300, seed=5, days=30)
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        scope = Scope(start=datetime(2026, 1, 10, tzinfo=UTC),
                      end=datetime(2026, 1, 20, tzinfo=UTC))
        with ServedWorkspace(ws.store, threading.RLock(), ws.settings, scope) as part:
            assert not part.journeys_stored()
            journeys = part.journeys()
            assert 0 < len(journeys) < len(ws.journeys())
            _same_daily(daily(part), journeys)
            assert kpis(part)["journeys"] == len(journeys)


def test_outcomes_of_an_empty_workspace(tmp_path):
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        assert daily(ws).empty
        k = kpis(ws)
        assert (k["journeys"], k["conversions"], k["revenue"]) == (0, 0, 0.0)
        assert k["conversion_rate"] is None
