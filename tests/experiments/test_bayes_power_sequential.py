"""Bayesian P(B > A), sample size/power and the always-valid sequential test."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.errors import ConfigError
from touchlens.experiments import (
    beta_binomial,
    msprt,
    power_proportions,
    sample_size_means,
    sample_size_proportions,
    sequential_test,
)
from touchlens.experiments.bayes import expected_loss, prob_greater_exact, prob_greater_numeric
from touchlens.experiments.sequential import mixture_tau, optimal_ratio

# ---------------------------------------------------------------- Bayes


@pytest.mark.parametrize("params", [
    (11, 91, 21, 81),  # all whole
    (50.5, 950, 60.5, 940),  # only the b's whole: the sum runs on 1 − p
    (3.5, 500.5, 7, 400.5),  # only a_B whole
    (3, 500.5, 7.5, 400.5),  # only a_A whole: the complement
    (1001, 99001, 1101, 98901),  # large counts
])
def test_closed_form_equals_quadrature(params: tuple[float, float, float, float]) -> None:
    assert prob_greater_exact(*params) == pytest.approx(prob_greater_numeric(*params),
                                                        abs=1e-9)


def test_no_whole_parameter_falls_back_to_quadrature() -> None:
    assert prob_greater_exact(1.5, 2.5, 3.5, 4.5) is None
    r = beta_binomial(3, 10, 5, 10, prior=(0.5, 0.5))
    assert r.method == "Beta-Binomial, quadrature"
    assert r.prob_b_beats_a == pytest.approx(prob_greater_numeric(3.5, 7.5, 5.5, 5.5))


def test_closed_form_agrees_with_monte_carlo() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.beta(101, 901, 400_000), rng.beta(121, 881, 400_000)
    r = beta_binomial(100, 1000, 120, 1000)
    assert r.prob_b_beats_a == pytest.approx((b > a).mean(), abs=3e-3)
    assert expected_loss(101, 901, 121, 881) == pytest.approx(np.maximum(a - b, 0).mean(),
                                                              rel=0.03)


@given(st.integers(0, 300), st.integers(1, 300), st.integers(0, 300), st.integers(1, 300))
@settings(max_examples=150, deadline=None)
def test_probabilities_are_complementary_and_symmetric(xa: int, da: int, xb: int, db: int
                                                       ) -> None:
    na, nb = xa + da, xb + db
    ab = beta_binomial(xa, na, xb, nb).prob_b_beats_a
    ba = beta_binomial(xb, nb, xa, na).prob_b_beats_a
    assert 0.0 <= ab <= 1.0
    assert ab + ba == pytest.approx(1.0, abs=1e-9)
    assert beta_binomial(xa, na, xa, na).prob_b_beats_a == pytest.approx(0.5, abs=1e-9)


def test_credible_intervals_cover_posterior_means() -> None:
    r = beta_binomial(30, 400, 45, 410)
    assert r.low_a < r.mean_a < r.high_a and r.low_b < r.mean_b < r.high_b
    assert r.mean_a == pytest.approx(31 / 402)


# ---------------------------------------------------------------- sample size and power


def test_sample_size_known_answer() -> None:
    # 5 % baseline, +10 % relative, α = 0.05 two-sided, 80 % power: the figure of the common
    # online calculators (Evan Miller's gives 31,234 per variation)
    s = sample_size_proportions(0.05, 0.1)
    assert s.n_per_arm == 31_234 and s.n_total == 62_468
    assert s.rate_b == pytest.approx(0.055)


@given(st.floats(0.01, 0.6), st.floats(0.05, 0.5), st.sampled_from([0.01, 0.05, 0.1]),
       st.sampled_from([0.8, 0.9]), st.sampled_from(["pooled", "arcsine"]))
@settings(max_examples=100, deadline=None)
def test_sample_size_is_the_smallest_with_enough_power(base: float, mde: float, alpha: float,
                                                       power: float, method: str) -> None:
    s = sample_size_proportions(base, mde, alpha=alpha, power=power, method=method)
    assert power_proportions(base, mde, s.n_per_arm, alpha=alpha, method=method) >= power
    if s.n_per_arm > 1:
        # one unit fewer may only pass by the other tail's (tiny) share
        below = power_proportions(base, mde, s.n_per_arm - 1, alpha=alpha, method=method)
        assert below < power + 1e-4


def test_arcsine_power_equals_statsmodels() -> None:
    sm_power = pytest.importorskip("statsmodels.stats.power")
    sm_prop = pytest.importorskip("statsmodels.stats.proportion")
    h = sm_prop.proportion_effectsize(0.055, 0.05)
    for n, ratio in [(30_000, 1.0), (10_000, 2.0), (500, 0.5)]:
        ref = sm_power.NormalIndPower().power(h, n, 0.05, ratio=ratio)
        ours = power_proportions(0.05, 0.1, n, method="arcsine", ratio=ratio)
        assert ours == pytest.approx(ref, rel=1e-9)
    n_ref = sm_power.NormalIndPower().solve_power(h, None, 0.05, 0.8)
    assert sample_size_proportions(0.05, 0.1, method="arcsine").n_exact == pytest.approx(
        n_ref, rel=1e-4)  # statsmodels solves with both tails, numerically


def test_means_sample_size_formula() -> None:
    s = sample_size_means(sd=40.0, mde=5.0)
    z = 1.959963984540054 + 0.8416212335729143
    assert s.n_exact == pytest.approx(2 * (z * 40 / 5) ** 2, rel=1e-9)


def test_sample_size_rejects_impossible_designs() -> None:
    with pytest.raises(ConfigError, match="outside"):
        sample_size_proportions(0.95, 0.1)
    with pytest.raises(ConfigError, match="power"):
        sample_size_proportions(0.05, 0.1, power=1.0)


# ---------------------------------------------------------------- sequential (mSPRT)


def test_optimal_ratio_solves_its_equation() -> None:
    r = optimal_ratio(0.05)
    assert r - math.log1p(r) == pytest.approx(-2 * math.log(0.05))
    assert r == pytest.approx(8.21, abs=0.01)


def test_single_look_matches_the_mixture_formula() -> None:
    xa, na, xb, nb, tau = 100, 1000, 130, 1000, 0.02
    out = msprt(xa, na, xb, nb, tau=tau)
    pooled = (xa + xb) / (na + nb)
    v = pooled * (1 - pooled) * (1 / na + 1 / nb)
    diff = xb / nb - xa / na
    lr = math.sqrt(v / (v + tau**2)) * math.exp(tau**2 * diff**2 / (2 * v * (v + tau**2)))
    assert out["likelihood_ratio"] == pytest.approx(lr, rel=1e-12)
    assert out["p_value"] == pytest.approx(min(1.0, 1 / lr), rel=1e-12)


def _aa_streams(rng: np.random.Generator, reps: int, looks: int, step: int, p: float,
                lift: float = 0.0) -> list[pd.DataFrame]:
    xa = rng.binomial(step, p, (reps, looks)).cumsum(axis=1)
    xb = rng.binomial(step, p * (1 + lift), (reps, looks)).cumsum(axis=1)
    n = np.arange(1, looks + 1) * step
    return [pd.DataFrame({"x_a": xa[i], "n_a": n, "x_b": xb[i], "n_b": n}) for i in range(reps)]


def test_type_one_error_is_bounded_under_continuous_monitoring() -> None:
    # 400 A/A tests, 60 looks each: rejecting at ANY look must stay near α = 5 % (a naive
    # z-test checked at every look rejects far more often)
    rng = np.random.default_rng(20240601)
    streams = _aa_streams(rng, reps=400, looks=60, step=150, p=0.08)
    rejected = [sequential_test(s, horizon_per_arm=5000)["reject"].any() for s in streams]
    rate = float(np.mean(rejected))
    assert rate <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / 400)
    naive = np.mean([(_naive_p(s) < 0.05).any() for s in streams])
    assert naive > 2 * rate and naive > 0.15


def _naive_p(s: pd.DataFrame) -> np.ndarray:
    """The fixed-horizon pooled z-test's two-sided p at every look (checked in test_ab)."""
    from scipy import stats

    pooled = (s.x_a + s.x_b) / (s.n_a + s.n_b)
    se = np.sqrt(pooled * (1 - pooled) * (1 / s.n_a + 1 / s.n_b))
    z = (s.x_b / s.n_b - s.x_a / s.n_a) / se.where(se > 0)
    return np.nan_to_num(2 * stats.norm.sf(np.abs(z)), nan=1.0)


def test_confidence_sequence_covers_zero_under_the_null_and_a_real_effect_is_found() -> None:
    rng = np.random.default_rng(3)
    for s in _aa_streams(rng, reps=50, looks=40, step=200, p=0.1):
        out = sequential_test(s, horizon_per_arm=4000)
        assert (out["p_value"].diff().dropna() <= 0).all()  # running minimum
        assert (out["cs_low"].diff().dropna() >= 0).all()  # running intersection
    found = [sequential_test(s, horizon_per_arm=4000)["reject"].iloc[-1]
             for s in _aa_streams(rng, reps=50, looks=40, step=200, p=0.1, lift=0.3)]
    assert np.mean(found) > 0.8


def test_tau_defaults_and_validation() -> None:
    assert mixture_tau(0.1, 1000) == pytest.approx(math.sqrt(optimal_ratio(0.05) * 0.09 * 2
                                                             / 1000))
    looks = pd.DataFrame({"x_a": [0, 5], "n_a": [10, 100], "x_b": [0, 7], "n_b": [10, 100]})
    assert sequential_test(looks)["tau"].iloc[0] > 0
    with pytest.raises(ConfigError, match="cumulative"):
        sequential_test(looks.iloc[::-1].reset_index(drop=True))
    with pytest.raises(ConfigError, match="columns"):
        sequential_test(looks.drop(columns="x_a"))
