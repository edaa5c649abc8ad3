"""The stratified difference: oracle on raw data, textbook limits, interval coverage, BH."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.insights import bh_qvalues, mh_difference
from touchlens.insights.stratified import stratified_table


def _agg(strata):
    """strata: list of (ys_bad, ys_good) → the six count arrays."""
    cols = [[], [], [], [], [], []]
    for bad, good in strata:
        for k, ys in ((0, bad), (3, good)):
            cols[k].append(len(ys))
            cols[k + 1].append(sum(ys))
            cols[k + 2].append(sum(y * y for y in ys))
    return [np.array(c, float) for c in cols]


def _oracle_binary(strata):
    """MH risk difference and Sato variance, written out per stratum from raw 0/1 lists."""
    num = den = 0.0
    rows = []
    for bad, good in strata:
        n1, n0 = len(bad), len(good)
        if not n1 or not n0:
            continue
        a, c, n = sum(bad), sum(good), n1 + n0
        num += (a * n0 - c * n1) / n
        den += n1 * n0 / n
        rows.append((n1, n0, a, c, n))
    rd = num / den
    p = sum((n1 * n1 * c - n0 * n0 * a + n1 * n0 * (n0 - n1) / 2) / (n * n)
            for n1, n0, a, c, n in rows)
    q = sum((a * (n0 - c) + c * (n1 - a)) / (2 * n) for n1, n0, a, c, n in rows)
    return rd, (rd * p + q) / (den * den)


BIN = st.lists(st.integers(0, 1), min_size=0, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(BIN, BIN), min_size=1, max_size=6))
def test_binary_equals_oracle(strata):
    res = mh_difference(*_agg(strata), binary=True)
    if not any(b and g for b, g in strata):
        assert math.isnan(res["gap"])
        return
    rd, var = _oracle_binary(strata)
    assert res["gap"] == pytest.approx(rd, abs=1e-12)
    assert res["se"] == pytest.approx(math.sqrt(max(var, 0)), abs=1e-9)
    all_bad = [y for b, _ in strata for y in b]
    all_good = [y for _, g in strata for y in g]
    if all_bad and all_good:
        crude = sum(all_bad) / len(all_bad) - sum(all_good) / len(all_good)
        assert res["crude_gap"] == pytest.approx(crude)


def test_one_large_stratum_is_the_wald_difference():
    bad, good = [1] * 30 + [0] * 70, [1] * 90 + [0] * 110
    res = mh_difference(*_agg([(bad, good)]))
    assert res["gap"] == pytest.approx(0.3 - 0.45)
    assert res["se"] == pytest.approx(math.sqrt(0.3 * 0.7 / 100 + 0.45 * 0.55 / 200))


def test_adjustment_removes_confounding():
    # stratum A: bad 0.5 vs good 0.7 (few bad); stratum B: bad 0.1 vs good 0.3 (many bad)
    strata = [([1] * 5 + [0] * 5, [1] * 70 + [0] * 30),
              ([1] * 10 + [0] * 90, [1] * 3 + [0] * 7)]
    res = mh_difference(*_agg(strata))
    assert res["gap"] == pytest.approx(-0.2)
    assert res["crude_gap"] == pytest.approx(15 / 110 - 73 / 110)


def test_interval_coverage_binary_and_continuous():
    rng = np.random.default_rng(7)
    hits_b = hits_c = 0
    runs = 400
    for _ in range(runs):
        strata_b, strata_c = [], []
        for base, n1, n0 in ((0.2, 40, 200), (0.5, 80, 120), (0.7, 15, 60)):
            strata_b.append((list(rng.random(n1) < base - 0.1), list(rng.random(n0) < base)))
            strata_c.append((list(rng.normal(base - 1.0, 2.0, n1)),
                             list(rng.normal(base, 2.0, n0))))
        b = mh_difference(*_agg([([int(x) for x in s], [int(x) for x in t])
                                 for s, t in strata_b]))
        c = mh_difference(*_agg(strata_c), binary=False)
        hits_b += b["gap_low"] <= -0.1 <= b["gap_high"]
        hits_c += c["gap_low"] <= -1.0 <= c["gap_high"]
    assert 0.92 <= hits_b / runs <= 0.98
    assert 0.92 <= hits_c / runs <= 0.98


def test_stratified_table_groups_and_detects_binary():
    counts = pd.DataFrame({
        "key": ["x"] * 4 + ["y"] * 2, "stratum": ["a", "a", "b", "b", "a", "a"],
        "bad": [True, False, True, False, True, False],
        "n": [10, 10, 20, 20, 5, 5], "s": [2, 5, 4, 10, 100, 300],
        "ss": [2, 5, 4, 10, 10000, 30000]})
    out = stratified_table(counts, ["key"]).set_index("key")
    assert out.loc["x", "gap"] == pytest.approx(-0.3)
    assert out.loc["y", "gap"] == pytest.approx(-40.0)
    assert out.loc["x", "n_strata"] == 2


def test_bh_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = pd.Series([0.01, 0.04, 0.03, 0.5, np.nan, 0.002])
    ok = p.notna()
    expected = multitest.multipletests(p[ok], method="fdr_bh")[1]
    got = bh_qvalues(p)
    assert np.allclose(got[ok], expected)
    assert math.isnan(got.iloc[4])
