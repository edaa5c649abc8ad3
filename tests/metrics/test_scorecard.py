"""Scorecard numbers by hand on the tiny world, on every backend."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from touchlens.store.schema import COSTS, FEEDBACK


def test_scorecard_hand_computed(make_workspace, tiny_events):
    ws = make_workspace()
    ws.ingest_arrow(tiny_events, "events")
    fb = [{"response_id": f"r{i}", "occurred_at": datetime(2024, 3, 9, tzinfo=UTC),
           "customer_id": "c3", "touchpoint": "store_cashier", "nps": n, "csat": c}
          for i, (n, c) in enumerate([(10, 5), (9, 4), (3, 2), (7, 5)])]
    ws.ingest_arrow(pa.Table.from_pylist(fb, schema=FEEDBACK), "feedback")
    sc = ws.scorecard().set_index("touchpoint")

    s = sc.loc["search_ad"]
    assert (s.reach, s.touches, s.impressions, s.clicks) == (2, 3, 1, 2)
    assert (s.journeys, s.converting_journeys, s.conversion_rate) == (2, 2, 1.0)
    assert s.cost == pytest.approx(2.5)  # event-level costs, no costs table rows
    assert s.influenced_revenue == pytest.approx(120.0)

    n = sc.loc["newsletter"]
    assert (n.reach, n.journeys, n.converting_journeys) == (2, 2, 1)
    assert n.conversion_rate == pytest.approx(0.5)
    assert n.open_rate == pytest.approx(1.0)  # c2 delivered and opened; c1's open not delivered

    st = sc.loc["store_cashier"]
    assert st.nps == pytest.approx(100 * (2 - 1) / 4) and st.nps_n == 4
    assert st.csat == pytest.approx(75.0) and st.csat_n == 4
    assert math.isnan(sc.loc["social_post", "csat"])
    assert sc.loc["social_post", "engagement_rate"] == pytest.approx(1.0)


def test_costs_table_replaces_event_costs(make_workspace, tiny_events):
    ws = make_workspace()
    ws.ingest_arrow(tiny_events, "events")
    costs = pa.Table.from_pylist(
        [{"date": datetime(2024, 3, d).date(), "touchpoint": "search_ad", "spend": 10.0,
          "currency": "EUR"} for d in (1, 2, 3)], schema=COSTS)
    ws.ingest_arrow(costs, "costs")
    sc = ws.scorecard().set_index("touchpoint")
    assert sc.loc["search_ad", "cost"] == pytest.approx(30.0)
    assert sc.loc["search_ad", "cost_per_converting_journey"] == pytest.approx(15.0)
    assert sc.loc["display_banner", "cost"] == pytest.approx(0.5)


def test_catalogue_marks_unknown_touchpoints(make_workspace, tiny_events):
    ws = make_workspace()
    ws.ingest_arrow(tiny_events, "events")
    cat = ws.touchpoints().set_index("touchpoint")
    assert len(cat) >= 30
    assert {"builtin"} <= set(cat.source)
    seen = set(tiny_events["touchpoint"].to_pylist())
    assert seen <= set(cat.index), "a touchpoint seen in events is never dropped"
    auto = cat[cat.source == "auto"]
    assert not auto.reviewed.any() and auto.stage.notna().all()
    assert cat.loc["newsletter", "n_events"] == 4
