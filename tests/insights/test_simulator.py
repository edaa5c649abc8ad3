"""On the simulated retailer, the insights find the pain points the simulator plants.

The simulator (touchlens.simulate) records late parcels (``"late": true`` on the courier's
``delivered`` event), failed payments at checkout and app crashes, and makes late parcels
drive negative surveys. It does not let any of them change later purchases: so the
conversion gaps of late parcels and app crashes must be compatible with zero, while late
parcels must stand out as a moment of truth for the later NPS.
"""

from __future__ import annotations

import pytest

from touchlens.insights import service

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from touchlens import Workspace
    from touchlens.simulate import simulate_retailer

    # enough late parcels with a later survey for the NPS gap to clear the FDR (~60 at 12k)
    world = simulate_retailer(12_000, seed=0)
    ws = Workspace.open(tmp_path_factory.mktemp("sim") / "ws.duckdb")
    for kind in ("events", "feedback", "costs", "identities"):
        ws.ingest_arrow(getattr(world, kind), kind)
    try:
        yield ws, service.moments(ws)
    finally:
        ws.close()


def _row(df, tp, signal, outcome):
    sel = (df.touchpoint == tp) & (df.signal == signal) & (df.outcome == outcome)
    assert sel.any(), f"no {tp}/{signal}/{outcome} comparison"
    return df[sel].iloc[0]


def test_planted_failures_are_found(sim):
    _, res = sim
    found = set(zip(res.moments.touchpoint, res.moments.signal, strict=True))
    assert {("checkout", "error:payment_failed"), ("delivery_courier", "error:late"),
            ("app_home", "error:app_crash")} <= found


def test_late_delivery_is_a_moment_of_truth_for_nps_only(sim):
    _, res = sim
    nps = _row(res.moments, "delivery_courier", "error:late", "nps")
    assert nps.moment_of_truth and nps.gap_high < 0
    conv = _row(res.moments, "delivery_courier", "error:late", "conversion")
    assert conv.gap_low <= 0 <= conv.gap_high  # the simulator's truth: no effect on buying


def test_app_crash_has_no_detectable_effect(sim):
    _, res = sim
    conv = _row(res.moments, "app_home", "error:app_crash", "conversion")
    assert conv.gap_low <= 0 <= conv.gap_high
    assert not conv.moment_of_truth


def test_journey_map_and_fix_first_name_them(sim):
    ws, res = sim
    jm = service.journey_map(ws, result=res)
    pains = set(zip(jm.pain_points.touchpoint, jm.pain_points.source, strict=True))
    assert ("delivery_courier", "error:late") in pains
    assert ("checkout", "error:payment_failed") in pains
    assert list(jm.stages.stage) == ["awareness", "consideration", "purchase", "retention",
                                     "advocacy"]
    assert jm.stages.set_index("stage").loc["retention", "csat_n"] > 0
    recs = service.recommendations(ws)
    assert recs["rank"].tolist() == list(range(1, len(recs) + 1))
    assert (recs.action == "fix late at delivery_courier").any()
    money = recs[recs.money_per_month.notna()]
    assert (money.score.diff().dropna() <= 1e-9).all()  # ranked by money × confidence


def test_the_demo_payment_figures_quoted_in_the_docs(tmp_path):
    """docs/insights.md quotes the demo's (20,000 customers, seed 0, 90 days) payment
    failure gap at checkout: about −43 points, 32 % against 77 %, and late parcels' NPS gap,
    about −70 points. A change to the simulator or to the stratified gap that moves them must
    update the docs too."""
    from touchlens import Workspace
    from touchlens.simulate import simulate_retailer

    world = simulate_retailer(20_000, seed=0, days=90)
    with Workspace.open(tmp_path / "demo.duckdb") as ws:
        for kind in ("events", "feedback", "costs", "identities"):
            ws.ingest_arrow(getattr(world, kind), kind)
        moments = service.moments(ws).moments
    row = _row(moments, "checkout", "error:payment_failed", "conversion")
    assert round(100 * row.gap) == -43
    assert round(100 * row.mean_bad) == 32 and round(100 * row.mean_good) == 77
    assert row.moment_of_truth
    late = _row(moments, "delivery_courier", "error:late", "nps")
    assert round(late.gap, -1) == -70 and late.moment_of_truth
