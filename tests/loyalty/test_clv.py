"""CLV (discounted expected purchases × expected spend × margin) and the CDNOW
calibration/holdout check (FHL 2005, Fig. 4)."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.errors import ConfigError
from touchlens.loyalty import (
    BetaGeoModel,
    CLVModel,
    GammaGammaModel,
    calibration_holdout,
    calibration_holdout_frequencies,
    customer_lifetime_value,
    load_cdnow_summary,
    purchases,
)

BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def _models() -> tuple[BetaGeoModel, GammaGammaModel]:
    return BetaGeoModel().set_params(**BG), GammaGammaModel().set_params(**GG)


def test_clv_is_the_discounted_sum_by_hand() -> None:
    bg, gg = _models()
    one = pd.DataFrame({"frequency": [2], "recency": [30.43], "T": [38.86],
                        "monetary_value": [22.35]})
    out = customer_lifetime_value(bg, gg, one, periods=3, period_length=4.0, margin=0.3,
                                  discount_rate=0.1)
    e = [bg.conditional_expected_purchases(4.0 * k, [2], [30.43], [38.86])[0]
         for k in range(4)]
    spend = gg.expected_spend([2], [22.35])[0]
    want = 0.3 * spend * sum((e[k] - e[k - 1]) / 1.1**k for k in (1, 2, 3))
    assert out["clv"].iloc[0] == pytest.approx(want, rel=1e-12)
    assert out["expected_purchases"].iloc[0] == pytest.approx(e[3])
    assert out["expected_spend"].iloc[0] == pytest.approx(spend)
    # without discounting CLV = margin × expected purchases × expected spend
    flat = customer_lifetime_value(bg, gg, one, periods=3, period_length=4.0, margin=0.3,
                                   discount_rate=0.0)
    assert flat["clv"].iloc[0] == pytest.approx(0.3 * spend * e[3], rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(x=st.integers(1, 30), share=st.floats(0.05, 1.0), T=st.floats(5, 60),
       m=st.floats(1, 500), extra=st.integers(1, 10))
def test_clv_is_monotone_in_expected_purchases(x, share, T, m, extra) -> None:
    """More repeat purchases at the same recency/T/spend → more expected purchases → more CLV."""
    bg, gg = _models()
    tx = share * T
    frame = pd.DataFrame({"frequency": [x, x + extra], "recency": [tx, tx], "T": [T, T],
                          "monetary_value": [m, m]})
    out = customer_lifetime_value(bg, gg, frame)
    assert (out["p_alive"].between(0, 1)).all()
    # with spend held fixed, CLV ∝ discounted purchases, which grow with expected purchases
    per_spend = out["clv"] / out["expected_spend"]
    if out["expected_purchases"].iloc[1] > out["expected_purchases"].iloc[0]:
        assert per_spend.iloc[1] >= per_spend.iloc[0]
    assert (out["clv"] >= 0).all()


def test_clv_model_fits_predicts_and_round_trips() -> None:
    s = load_cdnow_summary()
    model = CLVModel(unit="week").fit(s)
    d = model.to_dict()
    assert set(d) == {"unit", "bgnbd", "gamma_gamma"}
    assert {"r", "alpha", "a", "b", "standard_errors", "log_likelihood", "n"} <= set(d["bgnbd"])
    again = CLVModel.from_dict(d)
    a = model.predict(s)
    b = again.predict(s)
    assert np.allclose(a["clv"], b["clv"], rtol=1e-12)
    assert (a["clv"] >= 0).all() and a["clv"].sum() > 0
    with pytest.raises(ConfigError, match="gamma_gamma"):
        CLVModel.from_dict({"bgnbd": BG})


def test_clv_input_checks() -> None:
    bg, gg = _models()
    s = load_cdnow_summary().head(5)
    with pytest.raises(ConfigError, match="periods"):
        customer_lifetime_value(bg, gg, s, periods=0)
    with pytest.raises(ConfigError, match="discount_rate"):
        customer_lifetime_value(bg, gg, s, discount_rate=-0.1)


# Actual mean holdout repeat purchases per calibration frequency: a property of the data,
# counted independently in test_calibration_holdout_actuals_are_direct_counts.
CDNOW_ACTUAL = [0.2367, 0.6970, 1.3925, 1.5600, 2.5323, 2.9474, 3.8621, 6.3594]
CDNOW_SIZES = [1411, 439, 214, 100, 62, 38, 29, 64]


@pytest.fixture(scope="module")
def cdnow_calhold(cdnow_events) -> pd.DataFrame:
    p = purchases(ibis.memtable(cdnow_events))
    return calibration_holdout(p, calibration_end="1997-09-30", unit="week").to_pandas()


def test_calibration_holdout_plot_data(cdnow_calhold) -> None:
    fitted = BetaGeoModel().fit(cdnow_calhold.rename(
        columns={"frequency_cal": "frequency", "recency_cal": "recency", "T_cal": "T"}))
    published = BetaGeoModel().set_params(**BG)
    plot = calibration_holdout_frequencies(fitted, cdnow_calhold)
    ref = calibration_holdout_frequencies(published, cdnow_calhold)
    assert plot["frequency_cal"].tolist() == list(range(8))
    assert plot["n_customers"].tolist() == CDNOW_SIZES
    assert plot["actual"].to_numpy() == pytest.approx(CDNOW_ACTUAL, abs=1e-4)
    # the fitted model's expectations equal those under the published parameters (to rounding)
    assert plot["expected"].to_numpy() == pytest.approx(ref["expected"].to_numpy(), rel=2e-3)
    # and track the actuals as in FHL's Figure 4: under-prediction at x = 1, 2, close elsewhere
    gap = plot["expected"] - plot["actual"]
    assert gap.abs().max() < 0.4
    assert abs(gap.iloc[0]) < 0.02 and abs(gap.iloc[3]) < 0.05 and abs(gap.iloc[7]) < 0.25


def test_calibration_holdout_actuals_are_direct_counts(cdnow_events, cdnow_calhold) -> None:
    ev = cdnow_events.assign(day=cdnow_events["occurred_at"].dt.date)
    cal_end = pd.Timestamp("1997-09-30").date()
    cal = ev[ev["day"] <= cal_end].groupby("customer_id")["day"].nunique() - 1
    hold = ev[ev["day"] > cal_end].groupby("customer_id")["day"].nunique()
    frame = pd.DataFrame({"x": cal.clip(upper=7), "h": hold.reindex(cal.index).fillna(0)})
    actual = frame.groupby("x")["h"].mean()
    assert actual.to_numpy() == pytest.approx(CDNOW_ACTUAL, abs=1e-4)
