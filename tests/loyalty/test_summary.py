"""Customer summary and calibration/holdout split: hand-computed cases and the CDNOW sample."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from touchlens.errors import ConfigError
from touchlens.loyalty import (
    calibration_holdout,
    customer_summary,
    load_cdnow_summary,
    purchases,
)

# a: Jan 1 two orders (50 + 30, one transaction of 80), Jan 8 order o3 in two events (20 + 5),
#    Jan 22 order o4 without revenue, and a page view that is not a purchase;
# b: one purchase on Jan 15; c: Jan 29 and Feb 5.
ROWS = [
    ("a", "2024-01-01 10:00", 50.0, "o1"),
    ("a", "2024-01-01 15:00", 30.0, "o2"),
    ("a", "2024-01-08 09:00", 20.0, "o3"),
    ("a", "2024-01-08 09:00", 5.0, "o3"),
    ("a", "2024-01-22 12:00", None, "o4"),
    ("a", "2024-01-23 12:00", None, None, "page_view"),
    ("b", "2024-01-15 18:00", 100.0, "o5"),
    ("c", "2024-01-29 08:00", 40.0, "o6"),
    ("c", "2024-02-05 23:59", 60.0, "o7"),
]


def _frame(expr: ibis.Table) -> pd.DataFrame:
    return expr.to_pandas().sort_values("customer_id").set_index("customer_id")


def test_purchases_are_orders(events_of) -> None:
    p = _frame(purchases(events_of(ROWS)))
    assert list(p.index) == ["a"] * 4 + ["b", "c", "c"]
    assert p.loc["a"].set_index("order_id")["revenue"].to_dict() == {
        "o1": 50.0, "o2": 30.0, "o3": 25.0, "o4": 0.0}


def test_summary_in_weeks_by_hand(events_of) -> None:
    s = _frame(customer_summary(purchases(events_of(ROWS)), unit="week"))
    # end = Feb 5 (latest purchase day)
    assert s.loc["a"].to_dict() == pytest.approx(
        {"frequency": 2, "recency": 3.0, "T": 5.0, "monetary_value": 12.5})
    assert s.loc["b"].to_dict() == pytest.approx(
        {"frequency": 0, "recency": 0.0, "T": 3.0, "monetary_value": 0.0})
    assert s.loc["c"].to_dict() == pytest.approx(
        {"frequency": 1, "recency": 1.0, "T": 1.0, "monetary_value": 60.0})


@pytest.mark.parametrize(("unit", "days"), [("day", 1.0), ("week", 7.0), ("month", 30.4375)])
def test_units_scale_recency_and_T(events_of, unit, days) -> None:
    s = _frame(customer_summary(purchases(events_of(ROWS)), unit=unit))
    assert s.loc["a", "recency"] == pytest.approx(21 / days)
    assert s.loc["a", "T"] == pytest.approx(35 / days)


def test_observation_end_cuts_later_purchases(events_of) -> None:
    s = _frame(customer_summary(purchases(events_of(ROWS)), unit="day",
                                observation_end="2024-01-20"))
    assert list(s.index) == ["a", "b"]
    assert s.loc["a"].to_dict() == pytest.approx(
        {"frequency": 1, "recency": 7.0, "T": 19.0, "monetary_value": 25.0})
    assert s.loc["b", "T"] == 5.0


def test_calibration_holdout_by_hand(events_of) -> None:
    ch = _frame(calibration_holdout(purchases(events_of(ROWS)), calibration_end="2024-01-10",
                                    observation_end="2024-02-05", unit="day"))
    assert list(ch.index) == ["a"]  # b and c first bought after the calibration period
    assert ch.loc["a"].to_dict() == pytest.approx({
        "frequency_cal": 1, "recency_cal": 7.0, "T_cal": 9.0, "monetary_value_cal": 25.0,
        "frequency_holdout": 1, "monetary_value_holdout": 0.0, "duration_holdout": 26.0})


def test_unknown_unit_and_bad_dates_are_config_errors(events_of) -> None:
    p = purchases(events_of(ROWS))
    with pytest.raises(ConfigError, match="unit must be one of"):
        customer_summary(p, unit="fortnight")
    with pytest.raises(ConfigError, match="not a date"):
        customer_summary(p, observation_end="yesterday-ish")


def test_cdnow_transactions_give_the_published_summary(cdnow_events) -> None:
    p = purchases(ibis.memtable(cdnow_events))
    mine = _frame(customer_summary(p, unit="week", observation_end="1997-09-30"))
    ref = load_cdnow_summary().assign(customer_id=lambda d: d["customer_id"].astype(str))
    ref = ref.set_index("customer_id").loc[mine.index]
    assert len(mine) == 2357
    assert (mine["frequency"] == ref["frequency"]).all()
    # the shipped summary is rounded to 2 decimals
    for col in ("recency", "T", "monetary_value"):
        assert np.abs(mine[col] - ref[col]).max() <= 0.0051, col


def test_cdnow_holdout_counts_match_a_direct_count(cdnow_events) -> None:
    p = purchases(ibis.memtable(cdnow_events))
    ch = _frame(calibration_holdout(p, calibration_end="1997-09-30", unit="week"))
    assert (ch["duration_holdout"] == 39.0).all()
    later = cdnow_events[cdnow_events["occurred_at"] > "1997-09-30 23:59:59+00:00"]
    direct = later.groupby("customer_id")["occurred_at"].apply(lambda s: s.dt.date.nunique())
    got = ch["frequency_holdout"]
    assert got[got > 0].sort_index().to_dict() == direct.sort_index().to_dict()
