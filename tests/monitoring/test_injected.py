"""Injected anomalies with known start times are found on a simulated retailer (default
detector, day grain), with a bounded delay; the clean world raises (almost) nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from touchlens.monitoring import Injection, inject_anomalies, random_injections
from touchlens.monitoring.evaluate import evaluate, injected_kpis
from touchlens.simulate import simulate_retailer

START = datetime(2026, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


INJECTIONS = [
    Injection("volume_drop", "product_page", day(60), 72, 0.7),
    Injection("volume_spike", "homepage", day(66), 48, 2),
    Injection("conversion_drop", "checkout", day(72), 72, 0.8),
    Injection("cost_spike", "display_banner", day(78), 72, 2.0),
    Injection("csat_drop", "delivery_courier", day(84), 144, 1.0),  # ~4 responses a day
]


@pytest.fixture(scope="module")
def world() -> object:
    return simulate_retailer(10_000, seed=21, days=110)


@pytest.mark.slow
def test_injected_anomalies_are_found(world: object) -> None:
    kpis, truth = injected_kpis(world, INJECTIONS, grain="day")
    result, alerts = evaluate(kpis, truth, grain="day", warmup_days=42, tail_days=14)
    found = {r.kind for r in truth.itertuples() if _found(alerts, r)}
    assert found == {i.kind for i in INJECTIONS}, alerts.to_string()
    assert result.recall == 1.0
    # busy touchpoints within three days (seeds 21–26: the 30 % volume and 20 % conversion
    # drops are found after 48–72 h, spikes after 24–48 h); CSAT (~4 responses a day)
    # needs most of its 6 days
    assert max(result.delays_hours[:4]) <= 72 and result.delays_hours[4] <= 144
    first = alerts.sort_values("detected_at").groupby(["touchpoint", "metric"]).first()
    assert first.loc[("product_page", "volume"), "since"] == pd.Timestamp(day(60))

    clean, _ = injected_kpis(world, [], grain="day")
    quiet, _ = evaluate(clean, truth.iloc[:0], grain="day", warmup_days=42, tail_days=14)
    assert quiet.alerts <= 1


def _found(alerts: pd.DataFrame, inj: object) -> bool:
    a = alerts[(alerts.touchpoint == inj.touchpoint) & alerts.metric.isin(inj.metrics)
               & (alerts.direction == inj.direction) & (alerts.detected_at >= inj.start)
               & (alerts.detected_at < inj.end + pd.Timedelta(days=2))]
    return not a.empty


def test_injections_change_exactly_what_they_say(world: object) -> None:
    w = world
    base_ev = w.events.to_pandas()
    inj, _ = inject_anomalies(w, [INJECTIONS[0], INJECTIONS[1], INJECTIONS[3]], seed=1)
    ev = inj.events.to_pandas()

    def count(frame: pd.DataFrame, tp: str, i: Injection) -> int:
        return int(((frame.touchpoint == tp) & (frame.occurred_at >= i.start)
                    & (frame.occurred_at < i.end)).sum())

    drop, spike, cost = INJECTIONS[0], INJECTIONS[1], INJECTIONS[3]
    assert count(ev, "product_page", drop) < 0.45 * count(base_ev, "product_page", drop)
    assert count(ev, "homepage", spike) == 3 * count(base_ev, "homepage", spike)
    outside = ev[(ev.touchpoint == "product_page") & (ev.occurred_at < drop.start)]
    assert len(outside) == int(((base_ev.touchpoint == "product_page")
                                & (base_ev.occurred_at < drop.start)).sum())
    window = (ev.touchpoint == "display_banner") & (ev.occurred_at >= cost.start) \
        & (ev.occurred_at < cost.end)
    base_window = (base_ev.touchpoint == "display_banner") & (base_ev.occurred_at >= cost.start) \
        & (base_ev.occurred_at < cost.end)
    assert ev.loc[window, "cost"].sum() == pytest.approx(3 * base_ev.loc[base_window,
                                                                         "cost"].sum())
    assert ev["event_id"].is_unique


def test_random_injections_respect_eligibility_and_do_not_overlap(world: object) -> None:
    injections = random_injections(world, 10, seed=3)
    assert len(injections) == 10
    for a in injections:
        assert a.start >= day(35)
        for b in injections:
            if a is not b and a.touchpoint == b.touchpoint:
                assert a.end <= b.start or b.end <= a.start
