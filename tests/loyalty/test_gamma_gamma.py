"""Gamma-Gamma: CDNOW golden fit, the density against numerical integration over ν,
simulate-and-recover, expected spend."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from touchlens.errors import ConfigError
from touchlens.loyalty import (
    GammaGammaModel,
    frequency_spend_correlation,
    load_cdnow_summary,
    simulate_gamma_gamma,
)
from touchlens.loyalty.gamma_gamma import loglik_terms

PUBLISHED = {"p": 6.25, "q": 3.74, "v": 15.44}  # Fader & Hardie (2013), CDNOW


def integrated_density(p: float, q: float, v: float, x: int, m: float) -> float:
    """f(m̄ | x) = ∫ Gamma(m̄; shape px, rate νx) · Gamma(ν; shape q, rate γ) dν."""

    def integrand(nu: float) -> float:
        return (stats.gamma.pdf(m, p * x, scale=1 / (nu * x))
                * stats.gamma.pdf(nu, q, scale=1 / v))

    # integrate where the integrand lives: the bulk of ν's posterior Gamma(px+q, γ + x m̄)
    # (only the limits use it; the value comes from the two densities above)
    lo, hi = stats.gamma.ppf([1e-14, 1 - 1e-14], p * x + q, scale=1 / (v + x * m))
    value, _ = integrate.quad(integrand, lo, hi, limit=500, epsabs=0, epsrel=1e-11)
    return value


def test_cdnow_parameters_match_the_published_fit() -> None:
    s = load_cdnow_summary()
    model = GammaGammaModel().fit(s)
    assert model.n_customers_ == 946  # customers with a repeat purchase
    assert model.converged_
    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, rel=0.01), name
    assert model.population_mean_spend() == pytest.approx(
        model.params_["p"] * model.params_["v"] / (model.params_["q"] - 1))


@settings(max_examples=40, deadline=None)
@given(p=st.floats(0.5, 10), q=st.floats(1.5, 10), v=st.floats(1, 100), x=st.integers(1, 30),
       m=st.floats(1, 200))
def test_density_matches_numerical_integration(p, q, v, x, m) -> None:
    want = integrated_density(p, q, v, x, m)
    if want < 1e-250:
        return  # below what quad resolves
    got = loglik_terms([p, q, v], [x], [m])[0]
    assert got == pytest.approx(math.log(want), rel=1e-6, abs=1e-6)


def test_huge_frequencies_stay_finite() -> None:
    ll = loglik_terms([6.25, 3.74, 15.44], [10**7, 10**5], [20.0, 35.0])
    assert np.isfinite(ll).all()


def test_simulate_and_recover_the_parameters() -> None:
    truth = {"p": 6.0, "q": 4.0, "v": 15.0}
    x = np.random.default_rng(2).poisson(3, size=20_000)
    data = simulate_gamma_gamma(x, seed=5, **truth)
    model = GammaGammaModel().fit(data)
    for name, value in truth.items():
        assert abs(model.params_[name] - value) < 4 * model.standard_errors_[name], name


def test_expected_spend_shrinks_the_mean_towards_the_population() -> None:
    model = GammaGammaModel().set_params(**PUBLISHED)
    pop = model.population_mean_spend()
    x = np.array([0, 1, 5, 50])
    m = np.array([0.0, 100.0, 100.0, 100.0])
    spend = model.expected_spend(x, m)
    assert spend[0] == pytest.approx(pop)
    # a weighted average of the population mean and m̄, with weight on m̄ growing with x
    p, q = PUBLISHED["p"], PUBLISHED["q"]
    w = p * x / (p * x + q - 1)
    assert spend == pytest.approx((1 - w) * pop + w * np.where(x > 0, m, 0))
    assert np.all(np.diff(spend[1:]) > 0) and spend[-1] < 100


def test_fit_uses_repeat_buyers_only_and_checks_its_input() -> None:
    s = load_cdnow_summary()
    assert abs(frequency_spend_correlation(s["frequency"], s["monetary_value"])) < 0.2
    with pytest.raises(ConfigError, match="at least two customers"):
        GammaGammaModel().fit(frequency=[0, 0, 1], monetary_value=[0, 0, 5])
    with pytest.raises(ConfigError, match="non-negative"):
        GammaGammaModel().fit(frequency=[1, 2], monetary_value=[-5, 3])
