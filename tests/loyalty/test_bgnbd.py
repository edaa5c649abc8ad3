"""BG/NBD: the CDNOW golden fit, the likelihood and expectations against the paper's formulas
(evaluated with mpmath at 50 digits), simulate-and-recover, and edge cases."""

from __future__ import annotations

import warnings

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.errors import ConfigError, SchemaError
from touchlens.loyalty import BetaGeoModel, load_cdnow_summary, simulate_bgnbd
from touchlens.loyalty._fit import ConvergenceWarning
from touchlens.loyalty.bgnbd import loglik_terms

PUBLISHED = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}  # FHL 2005, Table/§4
mp.mp.dps = 50


def direct_loglik(r: float, alpha: float, a: float, b: float, x: int, tx: float, T: float
                  ) -> float:
    """FHL (2005) eq. 6 as printed, in 50-digit arithmetic."""
    r, alpha, a, b, tx, T = (mp.mpf(v) for v in (r, alpha, a, b, tx, T))
    common = mp.gamma(r + x) * alpha**r / mp.gamma(r)
    term = mp.beta(a, b + x) / mp.beta(a, b) * common / (alpha + T) ** (r + x)
    if x > 0:
        term += mp.beta(a + 1, b + x - 1) / mp.beta(a, b) * common / (alpha + tx) ** (r + x)
    return float(mp.log(term))


def direct_conditional(r, alpha, a, b, t, x, tx, T) -> float:
    """FHL (2005) eq. 10 as printed (no Pfaff transformation)."""
    r, alpha, a, b, t, tx, T = (mp.mpf(v) for v in (r, alpha, a, b, t, tx, T))
    c = a + b + x - 1
    z = t / (alpha + T + t)
    bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * mp.hyp2f1(r + x, b + x, c, z)
    denom = 1 + (a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x) if x > 0 else 0)
    return float(c / (a - 1) * bracket / denom)


def test_cdnow_parameters_match_the_published_fit() -> None:
    s = load_cdnow_summary()
    model = BetaGeoModel().fit(s)
    assert model.n_customers_ == 2357
    assert model.converged_
    for name, value in PUBLISHED.items():
        assert model.params_[name] == pytest.approx(value, rel=0.01), name
    # FHL report LL = −9582.4 at the optimum
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.1)
    # standard errors are positive and smaller than the estimates here
    for name, se in model.standard_errors_.items():
        assert 0 < se < model.params_[name], name


def test_fitted_log_likelihood_is_the_sum_of_the_per_customer_terms() -> None:
    s = load_cdnow_summary()
    model = BetaGeoModel().fit(s)
    total = model.log_likelihood(s["frequency"], s["recency"], s["T"]).sum()
    assert model.log_likelihood_ == pytest.approx(total, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    r=st.floats(0.05, 5), alpha=st.floats(0.1, 50), a=st.floats(0.1, 5), b=st.floats(0.1, 10),
    x=st.integers(0, 300), T=st.floats(0.5, 200), share=st.floats(0.0, 1.0),
)
def test_loglik_matches_the_papers_formula(r, alpha, a, b, x, T, share) -> None:
    tx = share * T if x > 0 else 0.0
    got = loglik_terms([r, alpha, a, b], [x], [tx], [T])[0]
    want = direct_loglik(r, alpha, a, b, x, tx, T)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(x=st.integers(1_000, 10_000_000), share=st.floats(0.0, 1.0),
       r=st.floats(0.05, 5), a=st.floats(0.1, 5), b=st.floats(0.1, 10))
def test_loglik_and_predictions_stay_finite_for_huge_frequencies(x, share, r, a, b) -> None:
    T = 100.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings either
        ll = loglik_terms([r, 4.0, a, b], [x], [share * T], [T])
        model = BetaGeoModel().set_params(r=r, alpha=4.0, a=a, b=b)
        alive = model.probability_alive([x], [share * T], [T])
        expected = model.conditional_expected_purchases(10.0, [x], [share * T], [T])
    assert np.isfinite(ll).all()
    assert 0.0 <= alive[0] <= 1.0
    assert np.isfinite(expected).all() and expected[0] >= 0


@settings(max_examples=60, deadline=None)
@given(x=st.integers(0, 500), share=st.floats(0.0, 1.0), T=st.floats(0.0, 500),
       r=st.floats(0.01, 10), alpha=st.floats(0.01, 100), a=st.floats(0.01, 10),
       b=st.floats(0.01, 10))
def test_probability_alive_is_a_probability(x, share, T, r, alpha, a, b) -> None:
    model = BetaGeoModel().set_params(r=r, alpha=alpha, a=a, b=b)
    p = model.probability_alive([x], [share * T if x else 0.0], [T])[0]
    assert 0.0 <= p <= 1.0
    if x == 0:
        assert p == 1.0


@pytest.mark.parametrize(("t", "x", "tx", "T"), [
    (39, 2, 30.43, 38.86), (39, 0, 0.0, 38.86), (10, 7, 35.0, 38.0), (52, 25, 10.0, 60.0),
    (1, 1, 0.5, 1.0), (100, 40, 80.0, 81.0),
])
@pytest.mark.parametrize("params", [PUBLISHED, {"r": 1.2, "alpha": 3.0, "a": 2.5, "b": 4.0}])
def test_conditional_expectation_matches_the_papers_formula(params, t, x, tx, T) -> None:
    model = BetaGeoModel().set_params(**params)
    got = model.conditional_expected_purchases(t, [x], [tx], [T])[0]
    want = direct_conditional(*params.values(), t, x, tx, T)
    assert got == pytest.approx(want, rel=1e-8)


def test_expected_purchases_of_a_new_customer_matches_eq_9() -> None:
    p = PUBLISHED
    model = BetaGeoModel().set_params(**p)
    for t in (1.0, 39.0, 78.0):
        r, alpha, a, b = (mp.mpf(v) for v in p.values())
        want = (a + b - 1) / (a - 1) * (
            1 - (alpha / (alpha + t)) ** r * mp.hyp2f1(r, b, a + b - 1, t / (alpha + t)))
        assert model.expected_purchases_new([t])[0] == pytest.approx(float(want), rel=1e-9)


def test_simulate_and_recover_the_parameters() -> None:
    truth = {"r": 0.5, "alpha": 5.0, "a": 0.8, "b": 2.5}
    T = np.random.default_rng(7).uniform(10, 80, size=30_000)
    data = simulate_bgnbd(30_000, T=T, seed=11, **truth)
    assert (data["recency"] <= data["T"]).all()
    assert (data.loc[data["frequency"] == 0, "recency"] == 0).all()
    model = BetaGeoModel().fit(data)
    for name, value in truth.items():
        se = model.standard_errors_[name]
        assert abs(model.params_[name] - value) < 4 * se, (name, model.params_[name], se)


def test_weights_equal_duplicated_rows_and_compression_changes_nothing() -> None:
    s = load_cdnow_summary().head(800)
    w = np.arange(len(s)) % 3 + 1
    weighted = BetaGeoModel().fit(s, weights=w)
    repeated = BetaGeoModel(compress=False).fit(s.loc[s.index.repeat(w)])
    for name in PUBLISHED:
        assert weighted.params_[name] == pytest.approx(repeated.params_[name], rel=1e-6)
    assert weighted.log_likelihood_ == pytest.approx(repeated.log_likelihood_, rel=1e-10)


def test_predict_adds_p_alive_and_expected_purchases() -> None:
    s = load_cdnow_summary()
    out = BetaGeoModel().set_params(**PUBLISHED).predict(s, t=39)
    assert {"p_alive", "expected_purchases"} <= set(out.columns)
    assert len(out) == len(s)
    assert out["p_alive"].between(0, 1).all()


def test_errors_name_the_problem() -> None:
    s = load_cdnow_summary()
    with pytest.raises(SchemaError, match=r"\['T'\]"):
        BetaGeoModel().fit(s.drop(columns="T"))
    with pytest.raises(ConfigError, match="no customer made a repeat purchase"):
        BetaGeoModel().fit(frequency=[0, 0], recency=[0, 0], T=[5, 6])
    with pytest.raises(ConfigError, match="recency must not exceed T"):
        BetaGeoModel().fit(frequency=[1], recency=[7], T=[6])
    with pytest.raises(ConfigError, match="not fitted"):
        BetaGeoModel().probability_alive([1], [1], [2])


def test_no_sign_of_drop_out_is_reported_as_not_converged() -> None:
    # Everyone still buying at a steady pace: the MLE sends a, b to the boundary.
    rng = np.random.default_rng(3)
    x = rng.poisson(5, size=300) + 1
    T = np.full(300, 30.0)
    with pytest.warns(ConvergenceWarning):
        model = BetaGeoModel().fit(frequency=x, recency=T, T=T)
    assert not model.converged_
    assert all(np.isfinite(v) for v in model.params_.values())


def test_same_parameters_as_lifetimes_when_installed() -> None:
    """lifetimes is a benchmark peer (``bench`` extra), not a dependency: compared when present."""
    lifetimes = pytest.importorskip("lifetimes")
    s = load_cdnow_summary()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer = lifetimes.BetaGeoFitter().fit(s["frequency"], s["recency"], s["T"])
        gg_peer = lifetimes.GammaGammaFitter().fit(
            s.loc[s["frequency"] > 0, "frequency"], s.loc[s["frequency"] > 0, "monetary_value"])
    ours = BetaGeoModel().fit(s)
    for name in PUBLISHED:
        assert ours.params_[name] == pytest.approx(peer.params_[name], rel=1e-4)
    se = peer.summary["se(coef)"]
    for name in PUBLISHED:
        assert ours.standard_errors_[name] == pytest.approx(se[name], rel=1e-3)
    from touchlens.loyalty import GammaGammaModel

    gg = GammaGammaModel().fit(s)
    for name in ("p", "q", "v"):
        assert gg.params_[name] == pytest.approx(gg_peer.params_[name], rel=1e-4)


def test_expectations_are_continuous_at_a_equal_one() -> None:
    at_one = BetaGeoModel().set_params(r=0.5, alpha=4.0, a=1.0, b=2.0)
    near = BetaGeoModel().set_params(r=0.5, alpha=4.0, a=1.0 + 1e-4, b=2.0)
    args = (39.0, [0, 3, 1000], [0.0, 20.0, 30.0], [38.0, 38.0, 38.0])
    got = at_one.conditional_expected_purchases(*args)
    assert np.isfinite(got).all()
    assert got == pytest.approx(near.conditional_expected_purchases(*args), rel=1e-3)
    assert at_one.expected_purchases_new([10.0])[0] == pytest.approx(
        near.expected_purchases_new([10.0])[0], rel=1e-3)
