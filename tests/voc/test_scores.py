"""Survey scores per period and change tests, against hand counts and scipy."""

from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from touchlens.errors import ConfigError
from touchlens.voc.scores import TESTS, period_changes, score_counts, scores_frame


def _frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["occurred_at", "touchpoint", "nps", "csat", "ces"]).astype(
        {"occurred_at": "datetime64[us, UTC]", "nps": "Int32", "csat": "Int32", "ces": "Int32"})


def _run(df: pd.DataFrame, by: list[str], period: str | None) -> pd.DataFrame:
    counts = score_counts(ibis.memtable(df), by, period).to_pandas()
    return counts


def test_month_scores_hand_computed() -> None:
    df = _frame([("2024-01-03", "a", 10, 5, 7), ("2024-01-30", "a", 0, 4, 1),
                 ("2024-02-01", "a", 9, 2, None), ("2024-02-10", "b", 7, None, 4)])
    out = scores_frame(_run(df, ["touchpoint"], "month"), ["touchpoint"], "month")
    a_jan = out[(out.touchpoint == "a") & (out.period == dt.date(2024, 1, 1))].iloc[0]
    assert a_jan.nps == pytest.approx(0.0)  # 1 promoter, 1 detractor of 2
    assert a_jan.csat == pytest.approx(100.0) and a_jan.csat_n == 2
    assert a_jan.ces == pytest.approx(4.0) and a_jan.ces_small_n
    b_feb = out[(out.touchpoint == "b")].iloc[0]
    assert b_feb.nps == pytest.approx(0.0) and b_feb.csat_n == 0 and np.isnan(b_feb.csat)


@pytest.mark.parametrize(("period", "start"), [("week", dt.date(2024, 1, 29)),
                                               ("quarter", dt.date(2024, 1, 1))])
def test_period_starts(period: str, start: dt.date) -> None:
    df = _frame([("2024-01-31T23:00:00Z", "a", 9, 5, 5)])
    assert scores_frame(_run(df, [], period), [], period).period.iloc[0] == start


def test_unknown_period_or_column_is_config_error() -> None:
    df = _frame([("2024-01-03", "a", 10, 5, 7)])
    with pytest.raises(ConfigError):
        score_counts(ibis.memtable(df), [], "year")
    with pytest.raises(ConfigError):
        score_counts(ibis.memtable(df), ["nope"], None)


def _two_periods(rng: np.random.Generator, n1: int, n2: int) -> tuple[pd.DataFrame, dict]:
    raw = {"m1": {"nps": rng.integers(0, 11, n1), "csat": rng.integers(1, 6, n1),
                  "ces": rng.integers(1, 8, n1)},
           "m2": {"nps": rng.integers(3, 11, n2), "csat": rng.integers(2, 6, n2),
                  "ces": rng.integers(2, 8, n2)}}
    rows = [(f"2024-0{k}-10", "a", int(raw[m]["nps"][i]), int(raw[m]["csat"][i]),
             int(raw[m]["ces"][i])) for k, m in ((1, "m1"), (2, "m2"))
            for i in range(len(raw[m]["nps"]))]
    return _frame(rows), raw


def test_change_tests_against_scipy() -> None:
    df, raw = _two_periods(np.random.default_rng(7), 80, 120)
    ch = period_changes(_run(df, ["touchpoint"], "month"), ["touchpoint"]).set_index("metric")
    assert set(ch.test) == set(TESTS.values())
    # CES: Welch's t-test
    ref = stats.ttest_ind(raw["m2"]["ces"], raw["m1"]["ces"], equal_var=False)
    assert ch.loc["ces", "statistic"] == pytest.approx(ref.statistic)
    assert ch.loc["ces", "p_value"] == pytest.approx(ref.pvalue)
    # CSAT: pooled two-proportion z-test: z² = Pearson χ² of the 2×2 table (no correction)
    top = [(raw[m]["csat"] >= 4).sum() for m in ("m1", "m2")]
    n = [len(raw[m]["csat"]) for m in ("m1", "m2")]
    chi2, p, _, _ = stats.chi2_contingency([[top[0], n[0] - top[0]], [top[1], n[1] - top[1]]],
                                           correction=False)
    assert ch.loc["csat", "statistic"] ** 2 == pytest.approx(chi2)
    assert ch.loc["csat", "p_value"] == pytest.approx(p)
    # NPS: z on the +1/0/−1 scores with population variances
    s = [np.where(raw[m]["nps"] >= 9, 1, np.where(raw[m]["nps"] <= 6, -1, 0)) for m in ("m1",
                                                                                     "m2")]
    z = (s[1].mean() - s[0].mean()) / np.sqrt(s[0].var() / len(s[0]) + s[1].var() / len(s[1]))
    assert ch.loc["nps", "statistic"] == pytest.approx(z)
    assert ch.loc["nps", "p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)))
    assert ch.loc["nps", "delta"] == pytest.approx(100 * (s[1].mean() - s[0].mean()))
    assert not ch.small_n.any()


def test_changes_flag_small_n_and_skip_first_period() -> None:
    df, _ = _two_periods(np.random.default_rng(1), 5, 40)
    ch = period_changes(_run(df, [], "month"), [])
    assert len(ch) == 3 and ch.small_n.all()
    assert (ch.period == dt.date(2024, 2, 1)).all()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10), st.integers(1, 5), st.integers(1, 7)),
                min_size=1, max_size=60))
def test_scores_bounded_and_ci_contains_estimate(answers: list[tuple[int, int, int]]) -> None:
    df = _frame([("2024-01-05", "a", *a) for a in answers])
    row = scores_frame(_run(df, [], None), [], None).iloc[0]
    assert -100 <= row.nps <= 100
    assert row.nps_low - 1e-9 <= row.nps <= row.nps_high + 1e-9
    assert row.csat_low - 1e-9 <= row.csat <= row.csat_high + 1e-9
    if row.ces_n > 1:
        assert row.ces_low - 1e-9 <= row.ces <= row.ces_high + 1e-9
