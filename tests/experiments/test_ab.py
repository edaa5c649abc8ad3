"""Fixed-horizon tests against scipy/statsmodels (1e-9) and their properties (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from touchlens.errors import ConfigError
from touchlens.experiments import (
    fisher_exact,
    mean_lift,
    relative_lift,
    srm_test,
    two_proportion_ztest,
    welch_ttest,
)

sm_prop = pytest.importorskip("statsmodels.stats.proportion")

ALTS = ["two-sided", "larger", "smaller"]
SM_ALTS = {"two-sided": "two-sided", "larger": "larger", "smaller": "smaller"}
CASES = [(120, 2400, 150, 2400), (10, 100, 20, 100), (0, 50, 3, 60), (499, 1000, 501, 1000),
         (3, 7, 1, 9), (5000, 100_000, 5300, 100_000)]


@st.composite
def arms(draw: st.DrawFn, max_n: int = 5000) -> tuple[int, int, int, int]:
    n_a = draw(st.integers(1, max_n))
    n_b = draw(st.integers(1, max_n))
    return draw(st.integers(0, n_a)), n_a, draw(st.integers(0, n_b)), n_b


# ---------------------------------------------------------------- z-test


@pytest.mark.parametrize("alt", ALTS)
@pytest.mark.parametrize("case", CASES)
def test_ztest_equals_statsmodels(case: tuple[int, int, int, int], alt: str) -> None:
    xa, na, xb, nb = case
    z_sm, p_sm = sm_prop.proportions_ztest([xb, xa], [nb, na], alternative=SM_ALTS[alt])
    r = two_proportion_ztest(xa, na, xb, nb, alternative=alt)
    assert r.z == pytest.approx(z_sm, rel=1e-9, abs=1e-12)
    assert r.p_value == pytest.approx(p_sm, rel=1e-9, abs=1e-15)


def test_ztest_ci_equals_statsmodels_wald_interval() -> None:
    low, high = sm_prop.confint_proportions_2indep(150, 2400, 120, 2400, method="wald")
    r = two_proportion_ztest(120, 2400, 150, 2400)
    assert (r.diff_low, r.diff_high) == pytest.approx((low, high), rel=1e-9)


@given(arms())
@settings(max_examples=200, deadline=None)
def test_ztest_is_antisymmetric_and_ci_covers_estimate(a: tuple[int, int, int, int]) -> None:
    xa, na, xb, nb = a
    ab = two_proportion_ztest(xa, na, xb, nb)
    ba = two_proportion_ztest(xb, nb, xa, na)
    if math.isnan(ab.z):
        assert math.isnan(ba.z)
        return
    assert ab.z == pytest.approx(-ba.z, abs=1e-12)
    assert ab.p_value == pytest.approx(ba.p_value, abs=1e-15)
    assert 0.0 <= ab.p_value <= 1.0
    assert ab.diff_low <= ab.diff <= ab.diff_high
    one = two_proportion_ztest(xa, na, xb, nb, alternative="larger").p_value
    other = two_proportion_ztest(xa, na, xb, nb, alternative="smaller").p_value
    assert one + other == pytest.approx(1.0, abs=1e-12)


def test_counts_are_validated() -> None:
    with pytest.raises(ConfigError, match="successes <= trials"):
        two_proportion_ztest(5, 4, 1, 10)
    with pytest.raises(ConfigError, match="whole numbers"):
        two_proportion_ztest(1.5, 4, 1, 10)
    with pytest.raises(ConfigError, match="alternative"):
        two_proportion_ztest(1, 4, 1, 10, alternative="bigger")


# ---------------------------------------------------------------- Fisher


@pytest.mark.parametrize("alt", ALTS)
@pytest.mark.parametrize("case", CASES)
def test_fisher_equals_scipy(case: tuple[int, int, int, int], alt: str) -> None:
    xa, na, xb, nb = case
    table = [[xb, nb - xb], [xa, na - xa]]
    expected = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}[alt]
    odds, p = stats.fisher_exact(table, alternative=expected)
    r = fisher_exact(xa, na, xb, nb, alternative=alt)
    assert r.p_value == pytest.approx(p, rel=1e-9, abs=1e-15)
    if np.isfinite(odds):
        assert r.odds_ratio == pytest.approx(odds, rel=1e-12)


@given(arms(max_n=60), st.sampled_from(ALTS))
@settings(max_examples=300, deadline=None)
def test_fisher_equals_scipy_on_small_tables(a: tuple[int, int, int, int], alt: str) -> None:
    xa, na, xb, nb = a
    expected = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}[alt]
    _, p = stats.fisher_exact([[xb, nb - xb], [xa, na - xa]], alternative=expected)
    assert fisher_exact(xa, na, xb, nb, alternative=alt).p_value == pytest.approx(
        p, rel=1e-9, abs=1e-15)


# ---------------------------------------------------------------- Welch


@pytest.mark.parametrize("alt", ["two-sided", "larger", "smaller"])
def test_welch_equals_scipy_on_raw_samples(alt: str) -> None:
    rng = np.random.default_rng(7)
    a = rng.gamma(2.0, 30.0, 300)
    b = rng.gamma(2.2, 30.0, 250)
    expected = {"two-sided": "two-sided", "larger": "greater", "smaller": "less"}[alt]
    ref = stats.ttest_ind(b, a, equal_var=False, alternative=expected)
    r = welch_ttest(a.mean(), a.std(ddof=1), len(a), b.mean(), b.std(ddof=1), len(b),
                    alternative=alt)
    assert r.t == pytest.approx(ref.statistic, rel=1e-9)
    assert r.df == pytest.approx(ref.df, rel=1e-9)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    if alt == "two-sided":
        ci = ref.confidence_interval(0.95)
        assert (r.diff_low, r.diff_high) == pytest.approx((ci.low, ci.high), rel=1e-9)


@given(st.floats(-100, 100), st.floats(0.1, 50), st.integers(2, 10_000),
       st.floats(-100, 100), st.floats(0.1, 50), st.integers(2, 10_000))
@settings(max_examples=200, deadline=None)
def test_welch_equals_scipy_from_stats(ma: float, sa: float, na: int, mb: float, sb: float,
                                       nb: int) -> None:
    ref = stats.ttest_ind_from_stats(mb, sb, nb, ma, sa, na, equal_var=False)
    r = welch_ttest(ma, sa, na, mb, sb, nb)
    assert r.t == pytest.approx(ref.statistic, rel=1e-9, abs=1e-12)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-15)
    assert r.diff_low <= r.diff <= r.diff_high


# ---------------------------------------------------------------- lift


def test_lift_known_answer_delta_method_on_log_ratio() -> None:
    r = relative_lift(100, 1000, 130, 1000)
    se = math.sqrt(0.9 / 100 + 0.87 / 130)
    z = stats.norm.isf(0.025)
    assert r.lift == pytest.approx(0.3)
    assert r.lift_low == pytest.approx(1.3 * math.exp(-z * se) - 1, rel=1e-12)
    assert r.lift_high == pytest.approx(1.3 * math.exp(z * se) - 1, rel=1e-12)


@given(arms())
@settings(max_examples=200, deadline=None)
def test_lift_ci_covers_estimate(a: tuple[int, int, int, int]) -> None:
    xa, na, xb, nb = a
    r = relative_lift(xa, na, xb, nb)
    if xa > 0 and xb > 0:
        assert -1.0 < r.lift_low <= r.lift <= r.lift_high
    elif xa == 0:
        assert math.isnan(r.lift)


def test_mean_lift_ci_covers_and_handles_zero_means() -> None:
    r = mean_lift(50.0, 80.0, 1000, 55.0, 85.0, 1000)
    assert r.lift_low < r.lift < r.lift_high
    assert r.lift == pytest.approx(0.1)
    assert math.isnan(mean_lift(0.0, 1.0, 10, 5.0, 1.0, 10).lift)


# ---------------------------------------------------------------- SRM


@pytest.mark.parametrize(("counts", "weights"), [([5000, 5100], None), ([5000, 5400], None),
                                                 ([300, 700], [0.3, 0.7]),
                                                 ([100, 120, 90], [1, 1, 1])])
def test_srm_equals_scipy_chisquare(counts: list[int], weights: list[float] | None) -> None:
    total = sum(counts)
    w = np.ones(len(counts)) if weights is None else np.asarray(weights, float)
    ref = stats.chisquare(counts, f_exp=total * w / w.sum())
    r = srm_test(counts, weights)
    assert r.chi2 == pytest.approx(ref.statistic, rel=1e-9)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-9)


def test_srm_flags_a_broken_split_only() -> None:
    assert not srm_test([5000, 5100]).mismatch
    assert srm_test([5000, 5400]).mismatch
    with pytest.raises(ConfigError):
        srm_test([10])
