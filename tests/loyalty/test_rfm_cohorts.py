"""RFM scores and segments, cohort retention, churn: hand-computed, plus the Workspace methods
on both backends (the Spark run is the one small ``spark`` test of this package)."""

from __future__ import annotations

import ibis
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.errors import ConfigError
from touchlens.loyalty import SEGMENTS, churn_rates, cohort_retention, purchases, rfm_table
from touchlens.loyalty.rfm import SEGMENT_RULES

from .conftest import purchase_events

# a: first touch a newsletter open (Dec 30), orders on Jan 1 (50), Jan 8 (25), Jan 22 (0);
# b: first event is its store purchase (Jan 15, 100);
# c: first touch a search ad click (Jan 28), purchases Jan 29 (40) and Feb 5 (60).
ROWS = [
    ("a", "2023-12-30 09:00", None, None, "open", "email", "newsletter"),
    ("a", "2024-01-01 10:00", 50.0, "o1"),
    ("a", "2024-01-08 09:00", 25.0, "o3"),
    ("a", "2024-01-22 12:00", None, "o4"),
    ("a", "2024-01-23 12:00", 30.0, "o4"),  # the same order again: one purchase, revenue 30
    ("b", "2024-01-15 18:00", 100.0, "o5", "purchase", "store", "store_cashier"),
    ("c", "2024-01-28 08:00", None, None, "click", "search", "search_ad"),
    ("c", "2024-01-29 08:00", 40.0, "o6"),
    ("c", "2024-02-05 23:59", 60.0, "o7"),
]


def test_rfm_scores_and_segments_by_hand() -> None:
    events = ibis.memtable(purchase_events(ROWS))
    r = rfm_table(purchases(events)).to_pandas().set_index("customer_id").sort_index()
    # as_of = Feb 5; a: last order Jan 22 (o4's earliest event), 3 orders, 105
    assert r["recency_days"].to_dict() == {"a": 14, "b": 21, "c": 0}
    assert r["frequency"].to_dict() == {"a": 3, "b": 1, "c": 2}
    assert r["monetary"].to_dict() == {"a": 105.0, "b": 100.0, "c": 100.0}
    # n = 3 → percent ranks 0, 0.5, 1 → scores 1, 3, 5; b and c tie on monetary → both 1
    assert r["rfm_score"].to_dict() == {"a": "355", "b": "111", "c": "531"}
    assert r["segment"].to_dict() == {"a": "loyal", "b": "hibernating", "c": "potential"}


def test_segment_rules_cover_the_grid_exactly_once() -> None:
    for rs in range(1, 6):
        for fs in range(1, 6):
            hits = [n for n, rr, ff in SEGMENT_RULES if rs in rr and fs in ff]
            assert len(hits) == 1, (rs, fs, hits)
    assert set(SEGMENTS) == {n for n, _, _ in SEGMENT_RULES}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=1, max_size=40))
def test_quintile_scores_against_pandas_min_rank(freqs: list[int]) -> None:
    rows = []
    for i, f in enumerate(freqs):
        rows += [(f"k{i:02d}", f"2024-03-{d + 1:02d} 10:00", 10.0, f"k{i}-{d}") for d in range(f)]
    r = rfm_table(purchases(ibis.memtable(purchase_events(rows)))).to_pandas()
    r = r.set_index("customer_id").sort_index()
    n = len(r)
    pr = (r["frequency"].rank(method="min") - 1) / max(n - 1, 1)
    oracle = np.minimum(1 + np.floor(5 * pr + 1e-12), 5).astype(int)
    assert (r["f_score"] == oracle).all()
    # ties share a score; more purchases never score lower
    assert (r.groupby("frequency")["f_score"].nunique() == 1).all()
    assert r.sort_values("frequency")["f_score"].is_monotonic_increasing


def test_cohort_retention_and_churn_by_hand() -> None:
    events = ibis.memtable(purchase_events(ROWS))
    p = purchases(events)
    ret = cohort_retention(p).to_pandas()
    assert ret.to_dict("records") == [
        {"cohort": "2024-01-01", "period": 0, "n_customers": 3, "n_active": 3, "retention": 1.0},
        {"cohort": "2024-01-01", "period": 1, "n_customers": 3, "n_active": 1,
         "retention": pytest.approx(1 / 3)},
    ]
    by_channel = cohort_retention(p, by="channel", events=events).to_pandas()
    assert [(r.cohort, r.period, r.n_active) for r in by_channel.itertuples()] == [
        ("email", 0, 1), ("search", 0, 1), ("search", 1, 1), ("store", 0, 1)]
    churn = churn_rates(p).to_pandas()
    assert len(churn) == 1
    row = churn.iloc[0]
    assert str(row["period_start"])[:10] == "2024-02-01"
    assert (row["n_active_start"], row["n_retained"], row["n_churned"]) == (3, 1, 2)
    assert row["churn_rate"] == pytest.approx(2 / 3)
    assert (row["n_active"], row["n_new"]) == (1, 0)


def test_churn_counts_a_period_without_purchases() -> None:
    rows = [("a", "2024-01-05 10:00", 10.0, "o1"), ("b", "2024-01-06 10:00", 10.0, "o2"),
            ("a", "2024-03-05 10:00", 10.0, "o3")]
    churn = churn_rates(purchases(ibis.memtable(purchase_events(rows)))).to_pandas()
    got = [(str(r.period_start)[:10], r.n_active_start, r.n_churned, r.n_active)
           for r in churn.itertuples()]
    assert got == [("2024-02-01", 2, 2, 0)]  # nobody active in Feb: March has no "start"


@pytest.mark.parametrize("period", ["week", "quarter"])
def test_other_periods_run(period) -> None:
    p = purchases(ibis.memtable(purchase_events(ROWS)))
    ret = cohort_retention(p, period=period).to_pandas()
    assert ret.loc[ret["period"] == 0, "retention"].eq(1.0).all()
    churn_rates(p, period=period).to_pandas()


def test_bad_options_are_config_errors() -> None:
    p = purchases(ibis.memtable(purchase_events(ROWS)))
    with pytest.raises(ConfigError, match="period must be one of"):
        cohort_retention(p, period="decade")
    with pytest.raises(ConfigError, match="by must be one of"):
        cohort_retention(p, by="colour")
    with pytest.raises(ConfigError, match="need the events"):
        cohort_retention(p, by="channel")


def test_workspace_loyalty_methods(tmp_path) -> None:
    from touchlens import Workspace

    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(purchase_events(ROWS), "events")
        r = ws.rfm()
        seg = ws.rfm_segments()
        ret = ws.cohorts(by="channel")
        by_month = ws.cohorts()
        churn = ws.churn()
        s = ws.clv_summary(unit="day").set_index("customer_id")
        ch = ws.clv_summary(unit="day", calibration_end="2024-01-10")
    assert list(r["customer_id"]) == ["a", "b", "c"]
    assert list(r["rfm_score"]) == ["355", "111", "531"]
    assert seg["n_customers"].sum() == 3
    assert set(ret["cohort"]) == {"email", "search", "store"}
    assert by_month["n_customers"].tolist() == [3, 3]
    assert churn["churn_rate"].tolist() == pytest.approx([2 / 3])
    assert s.loc["a"].to_dict() == pytest.approx(
        {"frequency": 2, "recency": 21.0, "T": 35.0, "monetary_value": 27.5})
    assert list(ch["customer_id"]) == ["a"]


def test_same_results_on_every_backend(make_workspace) -> None:
    """RFM (percent_rank window), churn (period arithmetic, dates from numbers) and the CLV
    summary (day bins from epoch seconds) give the hand-computed results on DuckDB and Spark."""
    ws = make_workspace()
    ws.ingest_arrow(purchase_events(ROWS), "events")
    assert ws.rfm()["rfm_score"].tolist() == ["355", "111", "531"]
    churn = ws.churn()
    assert str(churn["period_start"].iloc[0])[:10] == "2024-02-01"
    assert churn["n_churned"].tolist() == [2]
    s = ws.clv_summary(unit="week").set_index("customer_id")
    assert s.loc["a", "T"] == pytest.approx(5.0)
    assert s.loc["c", "monetary_value"] == pytest.approx(60.0)
