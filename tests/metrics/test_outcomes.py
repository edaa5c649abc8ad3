"""Journey outcomes without paths equal those columns of Workspace.journeys(), row for row."""

from __future__ import annotations

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.charts import daily_outcomes
from touchlens.charts.data import journey_outcomes, kpis
from touchlens.metrics.outcomes import OUTCOME_COLUMNS
from touchlens.simulate import simulate_retailer


@pytest.mark.parametrize("seed", [3, 4])
def test_outcomes_equal_the_journey_table(tmp_path, seed):
    world = simulate_retailer(300, seed=seed, days=30)
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.identities, "identities")
        full = ws.journeys()
        lite = journey_outcomes(ws)
        pd.testing.assert_frame_equal(lite, full[list(OUTCOME_COLUMNS)], check_exact=True)
        pd.testing.assert_frame_equal(daily_outcomes(lite), daily_outcomes(full),
                                      check_exact=True)
        k = kpis(ws)
        assert (k["journeys"], k["conversions"]) == (len(full), int(full["converted"].sum()))
        assert k["revenue"] == float(full["revenue"].sum())


def test_outcomes_of_an_empty_workspace(tmp_path):
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        assert journey_outcomes(ws).empty
        assert kpis(ws)["journeys"] == 0
