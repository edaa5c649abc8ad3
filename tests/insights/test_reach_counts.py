"""The one-query reach counts of the journey map, from the counts per customer and
touchpoint (stored, or computed from the events), equal the per-level reference counts over
the events."""

from __future__ import annotations

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.insights import journey_map as JM
from touchlens.journeys import customer_touchpoints
from touchlens.simulate import simulate_retailer


@pytest.fixture(scope="module", params=[1, 2])
def sim_ws(request, tmp_path_factory):
    world = simulate_retailer(300, seed=request.param, days=30)
    ws = Workspace.open(tmp_path_factory.mktemp("reach") / "ws.duckdb")
    ws.ingest_arrow(world.events, "events")
    ws.ingest_arrow(world.identities, "identities")
    try:
        yield ws
    finally:
        ws.close()


def _sorted(df: pd.DataFrame, key: str) -> pd.DataFrame:
    df = df.astype({key: object}).sort_values(key, na_position="last")
    return df.reset_index(drop=True)[[key, "reach", "touches"]]


@pytest.mark.parametrize("stored", [True, False], ids=["stored", "computed"])
def test_reach_counts_equal_reach_by_and_the_customer_total(sim_ws, stored):
    tagged = sim_ws.journey_events()
    assert sim_ws.journeys_stored()
    per_customer = sim_ws.customer_touchpoints() if stored else customer_touchpoints(tagged)
    catalogue = sim_ws.touchpoints()
    ex = sim_ws.store.execute
    tp, stage, total = JM.split_reach(ex(JM.reach_counts(per_customer, catalogue)))
    for level, got in (("touchpoint", tp), ("stage", stage)):
        want = ex(JM.reach_by(tagged, catalogue, level))
        pd.testing.assert_frame_equal(_sorted(got, level), _sorted(want, level),
                                      check_dtype=False)
    assert total == int(ex(tagged.customer_id.nunique().as_table()).iloc[0, 0])


def test_split_reach_of_nothing():
    empty = pd.DataFrame({"level": [], "key": [], "reach": [], "touches": []})
    tp, stage, total = JM.split_reach(empty)
    assert total == 0 and tp.empty and stage.empty
    assert list(tp.columns) == ["touchpoint", "reach", "touches"]
