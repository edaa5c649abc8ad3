"""KPI grid: counts per touchpoint × period, dense zeros, same-weekday baselines, backends."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from touchlens.monitoring.kpis import kpi_frame, kpi_table
from touchlens.store.schema import EVENTS, FEEDBACK

DAY0 = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def _ev(i: int, day: int, hour: int, customer: str, tp: str, etype: str,
        cost: float | None = None) -> dict[str, Any]:
    return {"event_id": f"e{i}", "occurred_at": DAY0 + timedelta(days=day, hours=hour),
            "customer_id": customer, "anonymous_id": None, "channel": "web", "touchpoint": tp,
            "event_type": etype, "order_id": None, "revenue": 10.0 if etype == "purchase"
            else None, "currency": None, "cost": cost, "campaign": None, "device": None,
            "attributes": None}


def weekly_events() -> pa.Table:
    """Five Mondays (days 0, 7, 14, 21, 28): on Monday w, newsletter gets w + 2 events from
    w + 2 customers, of whom one buys at checkout that day; one Tuesday event at 'ad'."""
    rows, i = [], 0
    for w in range(5):
        day = 7 * w
        for c in range(w + 2):
            rows.append(_ev(i := i + 1, day, 9, f"w{w}c{c}", "newsletter", "open", cost=0.5))
        rows.append(_ev(i := i + 1, day, 10, f"w{w}c0", "checkout", "purchase"))
    rows.append(_ev(i := i + 1, 1, 12, "x", "ad", "impression", cost=2.0))
    return pa.Table.from_pylist(rows, schema=EVENTS)


def feedback_rows() -> pa.Table:
    rows = [{"response_id": f"r{k}", "occurred_at": DAY0 + timedelta(days=28, hours=k),
             "customer_id": "w4c0", "touchpoint": "checkout", "channel": "web",
             "nps": nps, "csat": csat, "ces": None, "text": None, "language": None}
            for k, (nps, csat) in enumerate([(10, 5), (9, 4), (3, 2), (None, 5)])]
    return pa.Table.from_pylist(rows, schema=FEEDBACK)


def _kpis(ws: Any, **kw: Any) -> pd.DataFrame:
    return kpi_frame(ws.store.execute(kpi_table(ws.events(), ws.store.table("feedback"), **kw)))


@pytest.fixture
def kpi_ws(make_workspace: Callable[..., Any]) -> Any:
    ws = make_workspace()
    ws.ingest_arrow(weekly_events(), "events")
    ws.ingest_arrow(feedback_rows(), "feedback")
    return ws


def test_daily_counts_rates_and_same_weekday_baseline(kpi_ws: Any) -> None:
    df = _kpis(kpi_ws, grain="day", baseline_weeks=3)
    nl = df[df.touchpoint == "newsletter"].set_index("period_start")
    last = nl.loc[pd.Timestamp(DAY0 + timedelta(days=28))]
    assert (last.n_events, last.n_customers, last.n_converted) == (6, 6, 1)
    assert last.conversion_rate == pytest.approx(1 / 6)
    assert last.cost == pytest.approx(3.0)
    # baseline: the 3 previous Mondays (weeks 1..3 → 3 + 4 + 5 events)
    assert last.baseline_n == 3 and last.n_events_base == 12
    assert last.volume_expected == pytest.approx(4.0)
    assert last.conversion_rate_expected == pytest.approx(3 / 12)
    first = nl.loc[pd.Timestamp(DAY0)]
    assert first.baseline_n == 0 and pd.isna(first.volume_expected)


def test_grid_is_dense_and_feedback_scores_follow_domain(kpi_ws: Any) -> None:
    df = _kpis(kpi_ws, grain="day")
    periods = df["period_start"].nunique()
    assert periods == 6  # five Mondays and one Tuesday
    assert len(df) == 3 * periods  # newsletter, checkout, ad on every period
    ad = df[df.touchpoint == "ad"].set_index("period_start")
    assert ad.loc[pd.Timestamp(DAY0), "n_events"] == 0  # silent day: a zero, not a gap
    co = df[(df.touchpoint == "checkout") & (df.period_start == pd.Timestamp(DAY0 + timedelta(
        days=28)))].iloc[0]
    assert (co.csat_n, co.csat_top2, co.nps_n) == (4, 3, 3)
    assert co.csat == pytest.approx(75.0)
    assert co.nps == pytest.approx(100 * (2 - 1) / 3)
    assert pd.isna(co.negative_share)


def test_hourly_grain_uses_weekday_and_hour_slots(kpi_ws: Any) -> None:
    df = _kpis(kpi_ws, grain="hour")
    nl = df[(df.touchpoint == "newsletter") & (df.n_events > 0)]
    assert nl["period_start"].dt.hour.eq(9).all() and len(nl) == 5
    last = nl.iloc[-1]
    assert last.baseline_n == 4 and last.n_events_base == 2 + 3 + 4 + 5
    # a 10:00 slot has its own baseline (checkout purchases)
    co = df[(df.touchpoint == "checkout") & (df.period_start.dt.hour == 10)].iloc[-1]
    assert co.n_events_base == 4


def test_voc_sentiment_feeds_negative_share(kpi_ws: Any) -> None:
    ws = kpi_ws
    assert ws.kpis()["text_n"].sum() == 0  # no VoC results yet
    texts = pa.table({"response_id": ["r0", "r1", "r2"],
                      "sentiment": ["positive", "negative", "negative"]})
    ws.store.replace("voc_texts", texts)  # as `touchlens voc analyze` stores them
    df = ws.kpis(grain="day")
    co = df[(df.touchpoint == "checkout") & (df.text_n > 0)].iloc[0]
    assert (co.text_n, co.negative_n) == (3, 2)
    assert co.negative_share == pytest.approx(2 / 3)


def test_workspace_kpis_since_keeps_the_baseline(kpi_ws: Any) -> None:
    since = DAY0 + timedelta(days=28)
    df = kpi_ws.kpis(grain="day", since=since)
    assert df["period_start"].min() == pd.Timestamp(since)
    nl = df[df.touchpoint == "newsletter"].iloc[0]
    assert nl.baseline_n == 4 and nl.volume_expected == pytest.approx(3.5)


@pytest.mark.parametrize("backend", [pytest.param("spark", marks=pytest.mark.spark)],
                         indirect=True)
def test_spark_computes_the_same_kpis(make_workspace: Callable[..., Any], tmp_path: Any) -> None:
    from touchlens import Workspace

    frames = []
    for ws in (Workspace.open(tmp_path / "k.duckdb"), make_workspace()):
        with ws:
            ws.ingest_arrow(weekly_events(), "events")
            ws.ingest_arrow(feedback_rows(), "feedback")
            frames.append(_kpis(ws, grain="day", baseline_weeks=3))
    cols = ["touchpoint", "period_start", "n_events", "n_customers", "n_converted", "cost",
            "csat_n", "nps_n", "baseline_n", "n_events_base", "volume_expected",
            "conversion_rate", "csat", "nps"]
    # DuckDB gives nullable integers (None), Spark floats (NaN): compare the values
    duck, sp = (f[cols].astype({c: "float64" for c in cols[2:]}).reset_index(drop=True)
                for f in frames)
    pd.testing.assert_frame_equal(duck, sp, check_dtype=False)


def test_activity_counts_equal_a_plain_count_of_the_events(tmp_path):
    """The one-pass activity counts equal counting the events directly (pandas reference):
    distinct customers per touchpoint × day, and those of them with a conversion that day."""
    import pandas as pd

    from touchlens import Workspace
    from touchlens.monitoring.kpis import activity_counts
    from touchlens.simulate import simulate_retailer
    from touchlens.store.schema import CONVERSION_EVENT_TYPES

    world = simulate_retailer(300, seed=1, days=30)
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.identities, "identities")
        got = ws.store.execute(activity_counts(ws.events(), "day"))
        ev = ws.store.execute(ws.events().select("touchpoint", "customer_id", "event_type",
                                                 "occurred_at", "cost"))
    ev = ev[ev.touchpoint.notna()].assign(day=lambda d: d.occurred_at.dt.floor("D"))
    buyers = set(zip(*ev[ev.event_type.isin(CONVERSION_EVENT_TYPES)][["customer_id", "day"]]
                     .to_numpy().T, strict=True))
    ev["converted"] = [(c, d) in buyers for c, d in zip(ev.customer_id, ev.day, strict=True)]
    want = ev.groupby(["touchpoint", "day"]).agg(
        n_events=("customer_id", "size"), n_customers=("customer_id", "nunique"),
        n_converted=("customer_id", lambda s: s[ev.loc[s.index, "converted"]].nunique()),
        cost=("cost", "sum")).reset_index()
    got = got.assign(day=pd.to_datetime(got.period_start, utc=True))
    merged = want.merge(got, on=["touchpoint", "day"], suffixes=("", "_got"), how="outer")
    assert len(merged) == len(want) == len(got)
    for col in ("n_events", "n_customers", "n_converted"):
        assert (merged[col] == merged[f"{col}_got"]).all(), col
    assert merged.cost.to_numpy() == pytest.approx(merged.cost_got.to_numpy())
    assert merged.n_converted.sum() > 0
