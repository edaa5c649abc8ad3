"""Counts per customer and touchpoint (:mod:`touchlens.journeys.touchpoints`): the stored
table equals the expression over the journey-tagged events, and summed per touchpoint they
give the counts over the events (pandas here only as the reference)."""

from __future__ import annotations

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.journeys import customer_touchpoints
from touchlens.metrics import touchpoint_activity, touchpoint_journeys
from touchlens.simulate import simulate_retailer
from touchlens.store.schema import ENGAGEMENT_EVENT_TYPES

KEY = ["customer_id", "touchpoint"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    world = simulate_retailer(400, seed=6, days=45)
    ws = Workspace.open(tmp_path_factory.mktemp("ct") / "ws.duckdb")
    for kind in ("events", "identities"):
        ws.ingest_arrow(getattr(world, kind), kind)
    try:
        yield ws
    finally:
        ws.close()


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    """Sorted by key, the counts as floats (NULL = NaN, whatever the frame's dtype)."""
    df = df.sort_values(KEY, ignore_index=True)[sorted(df.columns)]
    counts = [c for c in df.columns if c not in KEY]
    return df.astype({c: "float64" for c in counts}).astype({c: object for c in KEY})


def test_stored_equals_computed(ws):
    tagged = ws.journey_events()
    assert ws.journeys_stored()
    stored = ws.store.execute(ws.customer_touchpoints())
    computed = ws.store.execute(customer_touchpoints(tagged))
    assert len(stored) > 100
    pd.testing.assert_frame_equal(_sorted(stored), _sorted(computed), check_dtype=False)


def test_summed_per_touchpoint_they_are_the_counts_over_the_events(ws):
    ev = ws.store.execute(ws.journey_events())
    got = ws.store.execute(touchpoint_activity(ws.customer_touchpoints())).set_index(
        "touchpoint").sort_index()
    g = ev.groupby("touchpoint")
    et = ev["event_type"]
    want = pd.DataFrame({
        "reach": g["customer_id"].nunique(), "touches": g.size(),
        "impressions": (et == "impression").groupby(ev["touchpoint"]).sum(),
        "clicks": (et == "click").groupby(ev["touchpoint"]).sum(),
        "engagements": et.isin(ENGAGEMENT_EVENT_TYPES).groupby(ev["touchpoint"]).sum(),
        "event_cost": g["cost"].sum(min_count=1)}).sort_index()
    for col in want.columns:
        assert got[col].astype(float).fillna(-1).tolist() == pytest.approx(
            want[col].astype(float).fillna(-1).tolist()), col
    mail = ev[et.isin(["delivered", "open"])].assign(
        campaign=lambda d: d["campaign"].fillna(""))
    units = mail.groupby(["touchpoint", "customer_id", "campaign"])["event_type"].agg(
        lambda s: ("delivered" in set(s), "open" in set(s)))
    delivered = units.map(lambda u: u[0]).groupby(level=0).sum()
    opened = units.map(lambda u: u[0] and u[1]).groupby(level=0).sum()
    assert delivered.sum() > 0 and opened.sum() > 0
    for tp in delivered.index:
        assert int(got.loc[tp, "delivered_units"]) == int(delivered[tp])
        assert int(got.loc[tp, "opened_units"]) == int(opened[tp])
    no_mail = set(got.index) - set(delivered.index)
    assert got.loc[sorted(no_mail), "delivered_units"].isna().all()


def test_summed_per_touchpoint_they_are_the_journey_counts(ws):
    """The scorecard's journeys, converting journeys and influenced revenue: as counted
    from the journeys (pandas) and as the expression over every journey computes them."""
    ev = ws.store.execute(ws.journey_events())
    jt = ws.store.execute(ws.journeys_table()).set_index("journey_id")
    got = ws.store.execute(touchpoint_activity(ws.customer_touchpoints())).set_index(
        "touchpoint")
    pairs = ev[~ev["is_conversion"]][["touchpoint", "journey_id"]].drop_duplicates()
    pairs = pairs.join(jt[["converted", "revenue"]], on="journey_id")
    assert pairs["converted"].any() and not pairs["converted"].all()
    g = pairs.groupby("touchpoint")
    want = pd.DataFrame({"journeys": g.size(),
                         "converting_journeys": g["converted"].sum(),
                         "influenced_revenue": pairs[pairs["converted"]].groupby(
                             "touchpoint")["revenue"].sum()})
    for tp, row in want.iterrows():
        assert int(got.loc[tp, "journeys"]) == row["journeys"]
        assert int(got.loc[tp, "converting_journeys"]) == row["converting_journeys"]
        if row["converting_journeys"]:
            assert float(got.loc[tp, "influenced_revenue"]) == pytest.approx(
                row["influenced_revenue"], rel=1e-12)
    only_conversions = set(got.index) - set(want.index)
    assert (got.loc[sorted(only_conversions), "journeys"] == 0).all()
    direct = ws.store.execute(touchpoint_journeys(ws.journey_events(), ws.journeys_table()))
    direct = direct.set_index("touchpoint").sort_index()
    assert direct["journeys"].tolist() == got.loc[direct.index, "journeys"].tolist()


def test_messages_and_bursts(ws):
    ev = ws.store.execute(ws.journey_events())
    got = ws.store.execute(ws.customer_touchpoints())
    msgs = ev[ev["event_type"].isin(["delivered", "send", "impression"])
              & ev["touchpoint"].notna()]
    want = msgs.groupby(KEY).size()
    have = got.dropna(subset=["messages"]).set_index(KEY)["messages"]
    assert have.astype(int).sort_index().equals(want.sort_index().astype(int))
    assert got["bursts"].fillna(0).sum() > 0
