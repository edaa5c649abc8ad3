"""Moments of truth and revenue at risk recover a planted pain point with a known effect."""

from __future__ import annotations

import numpy as np
import pytest

from touchlens.insights import service

from .conftest import events, feedback

EFFECT = -0.15  # a late parcel lowers the chance of buying again within 30 days by 15 points
VALUE = 100.0


def _world(n: int = 3000, seed: int = 11):
    """Customers buy once, get a parcel (late or not), and may buy again.

    Confounded on purpose: store-acquired customers rebuy more (0.60 vs 0.35) and get late
    parcels less often (10% vs 40%), so the crude gap overstates the effect; within each
    acquisition channel the effect is exactly ``EFFECT``.
    """
    rng = np.random.default_rng(seed)
    rows, fb = [], []
    n_late = 0
    for i in range(n):
        c = f"c{i:05d}"
        store = rng.random() < 0.4
        ch = "store" if store else "web"
        t0 = rng.uniform(0, 30) * 24
        rows.append((c, t0, "store_visit" if store else "homepage",
                     "store_visit" if store else "visit", ch))
        rows.append((c, t0 + 1, "store_cashier" if store else "checkout", "purchase", ch, VALUE))
        late = rng.random() < (0.1 if store else 0.4)
        n_late += late
        attrs = '{"late": true}' if late else '{"late": false}'
        rows.append((c, t0 + 48, "delivery_courier", "delivered", "delivery", None, attrs))
        if rng.random() < (0.60 if store else 0.35) + EFFECT * late:
            rows.append((c, t0 + 48 + rng.uniform(1, 25) * 24, "checkout", "purchase", "web",
                         VALUE))
        # a survey after the parcel: late ones answer as detractors more often
        if rng.random() < 0.5:
            nps = int(rng.integers(0, 7)) if (late and rng.random() < 0.8) else int(
                rng.integers(7, 11))
            fb.append((c, t0 + 60, "post_purchase_survey", "email", nps, None, None))
    rows.append(("zz", 150 * 24, "homepage", "visit", "web"))  # sets the data's horizon
    return events(rows), feedback(fb), n_late


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    from touchlens import Workspace

    ev, fb, n_late = _world()
    ws = Workspace.open(tmp_path_factory.mktemp("moments") / "ws.duckdb")
    ws.ingest_arrow(ev, "events")
    ws.ingest_arrow(fb, "feedback")
    try:
        yield service.moments(ws), n_late
    finally:
        ws.close()


def _row(df, outcome):
    sel = (df.touchpoint == "delivery_courier") & (df.signal == "error:late") & (
        df.outcome == outcome)
    return df[sel].iloc[0]


def test_adjusted_gap_recovers_the_planted_effect(result):
    res, n_late = result
    m = _row(res.moments, "conversion")
    assert m.n_bad + m.n_good == 3000
    assert m.affected_customers == n_late
    assert m.gap_low <= EFFECT <= m.gap_high
    assert m.crude_gap < -0.2  # confounded: the crude gap overstates the effect
    assert m.gap_high < m.crude_gap + 0.2 and m.gap_low > m.crude_gap
    assert m.moment_of_truth
    assert "Mantel-Haenszel" in m.method


def test_repeat_purchase_and_later_nps(result):
    res, _ = result
    rp = _row(res.moments, "repeat_purchase")
    assert rp.gap_low <= EFFECT <= rp.gap_high
    nps = _row(res.moments, "nps")
    assert nps.gap_high < -50  # late parcels: mostly detractors afterwards


def test_revenue_at_risk_interval_holds_the_truth(result):
    res, n_late = result
    r = res.revenue_at_risk
    r = r[(r.touchpoint == "delivery_courier") & (r.signal == "error:late")].iloc[0]
    truth = n_late * -EFFECT * VALUE
    assert r.revenue_at_risk_low <= truth <= r.revenue_at_risk_high
    assert r.mean_value == pytest.approx(VALUE)
    assert r.per_month == pytest.approx(r.revenue_at_risk / r.months)
    assert r.estimate == "observational"
    assert "Observational" in r.assumptions and "confounding" in r.assumptions


def test_no_moment_without_a_bad_group(result):
    res, _ = result
    assert not res.moments[res.moments.n_bad == 0]["moment_of_truth"].any()
