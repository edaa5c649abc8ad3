"""Customer lifetime value from BG/NBD + Gamma-Gamma, and the calibration/holdout check.

CLV over H discount periods of length L (in the summary's time unit), margin m, discount rate
d per period:

    CLV = m · E[M | m̄, x] · Σ_{k=1..H} (E[Y(kL) | x, t_x, T] − E[Y((k−1)L) | x, t_x, T]) / (1+d)^k

i.e. expected purchases in each period × expected spend × margin, discounted to today
(the convention of lifetimes' ``customer_lifetime_value``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.loyalty import _fit
from touchlens.loyalty.bgnbd import BetaGeoModel, require_columns, summary_arrays
from touchlens.loyalty.gamma_gamma import GammaGammaModel

CLV_COLUMNS = ("frequency", "recency", "T", "monetary_value")


def discounted_purchases(model: BetaGeoModel, frequency: Any, recency: Any, T: Any, *,
                         periods: int, period_length: float, discount_rate: float
                         ) -> np.ndarray:
    """Σ_k (E[Y(kL)] − E[Y((k−1)L)]) / (1+d)^k per customer (expected purchases, discounted).

    Evaluated once per distinct (x, t_x, T).
    """
    if periods < 1:
        raise ConfigError(f"periods must be at least 1, not {periods}")
    if period_length <= 0:
        raise ConfigError(f"period_length must be positive, not {period_length}")
    if discount_rate < 0:
        raise ConfigError(f"discount_rate must be non-negative, not {discount_rate}")
    x, tx, t = summary_arrays(frequency, recency, T)
    if len(x) == 0:
        return np.zeros(0)
    stacked = np.column_stack([x, tx, t])
    unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
    ux, utx, ut = unique.T
    total = np.zeros(len(unique))
    previous = np.zeros(len(unique))
    for k in range(1, periods + 1):
        current = model.conditional_expected_purchases(k * period_length, ux, utx, ut)
        total += (current - previous) / (1 + discount_rate) ** k
        previous = current
    return total[inverse.ravel()]


def customer_lifetime_value(bgnbd: BetaGeoModel, gamma_gamma: GammaGammaModel,
                            summary: pd.DataFrame, *, periods: int = 12,
                            period_length: float = 365.25 / 12 / 7, margin: float = 1.0,
                            discount_rate: float = 0.01) -> pd.DataFrame:
    """The summary with p_alive, expected_purchases (undiscounted, over the whole horizon),
    expected_spend and clv.

    Defaults: 12 monthly periods for a summary in weeks, 1% discount per month, margin 1.
    """
    require_columns(summary, CLV_COLUMNS)
    if margin < 0:
        raise ConfigError(f"margin must be non-negative, not {margin}")
    x, tx, t, m = (summary[c].to_numpy(dtype=float) for c in CLV_COLUMNS)
    out = summary.copy()
    out["p_alive"] = bgnbd.probability_alive(x, tx, t)
    out["expected_purchases"] = bgnbd.conditional_expected_purchases(
        periods * period_length, x, tx, t)
    out["expected_spend"] = gamma_gamma.expected_spend(x, m)
    flow = discounted_purchases(bgnbd, x, tx, t, periods=periods, period_length=period_length,
                                discount_rate=discount_rate)
    out["clv"] = margin * out["expected_spend"].to_numpy() * flow
    return out


def calibration_holdout_frequencies(model: BetaGeoModel, calhold: pd.DataFrame, *,
                                    max_frequency: int = 7) -> pd.DataFrame:
    """Expected vs actual holdout repeat purchases per calibration frequency (FHL Fig. 4).

    One row per bucket x = 0 … max_frequency (the last holds x ≥ max_frequency):
    frequency_cal, n_customers, actual (mean frequency_holdout), expected (mean
    E[Y(duration_holdout) | x, t_x, T]).
    """
    need = ("frequency_cal", "recency_cal", "T_cal", "frequency_holdout", "duration_holdout")
    require_columns(calhold, need)
    x, tx, t = (calhold[c].to_numpy(dtype=float) for c in need[:3])
    expected = model.conditional_expected_purchases(
        calhold["duration_holdout"].to_numpy(dtype=float), x, tx, t)
    frame = pd.DataFrame({
        "frequency_cal": np.minimum(x, max_frequency).astype(int),
        "actual": calhold["frequency_holdout"].to_numpy(dtype=float),
        "expected": expected,
    })
    out = frame.groupby("frequency_cal", as_index=False).agg(
        n_customers=("actual", "size"), actual=("actual", "mean"), expected=("expected", "mean"))
    return out.reset_index(drop=True)


def months_in_unit(unit_days: float, months: float = 1.0) -> float:
    """Length of ``months`` average months (365.25/12 days) in a unit of ``unit_days`` days."""
    _fit.check_positive(unit_days=unit_days)
    return months * 365.25 / 12 / unit_days


class CLVModel:
    """BG/NBD + Gamma-Gamma together, with the summary's time unit.

    ``fit(summary)`` fits both (Gamma-Gamma on customers with frequency > 0);
    ``predict(summary, ...)`` adds p_alive, expected_purchases, expected_spend and clv.
    """

    def __init__(self, *, unit: str = "week", unit_days: float | None = None) -> None:
        self.unit = unit
        self.unit_days = unit_days

    def _unit_days(self) -> float:
        from touchlens.loyalty.summary import unit_days

        return self.unit_days if self.unit_days is not None else unit_days(self.unit)

    def fit(self, summary: pd.DataFrame) -> CLVModel:
        require_columns(summary, CLV_COLUMNS)
        self.bgnbd_ = BetaGeoModel().fit(summary)
        self.gamma_gamma_ = GammaGammaModel().fit(summary)
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CLVModel:
        """Rebuild from :meth:`to_dict` output (e.g. ``touchlens clv fit --format json``)."""
        try:
            bg, gg = data["bgnbd"], data["gamma_gamma"]
            model = cls(unit=data.get("unit", "week"))
            model.bgnbd_ = BetaGeoModel().set_params(
                r=bg["r"], alpha=bg["alpha"], a=bg["a"], b=bg["b"])
            model.gamma_gamma_ = GammaGammaModel().set_params(p=gg["p"], q=gg["q"], v=gg["v"])
        except (KeyError, TypeError) as exc:
            raise ConfigError("CLV parameters need bgnbd: {r, alpha, a, b} and "
                              f"gamma_gamma: {{p, q, v}} (missing {exc})") from exc
        return model

    def predict(self, summary: pd.DataFrame, *, horizon_months: int = 12, margin: float = 1.0,
                discount_rate: float = 0.01) -> pd.DataFrame:
        """Per customer: p_alive, expected_purchases (over the horizon), expected_spend, clv
        (monthly periods; ``discount_rate`` per month)."""
        if not hasattr(self, "bgnbd_"):
            raise ConfigError("CLVModel is not fitted: call fit() first")
        return customer_lifetime_value(
            self.bgnbd_, self.gamma_gamma_, summary, periods=horizon_months,
            period_length=months_in_unit(self._unit_days()), margin=margin,
            discount_rate=discount_rate)

    def to_dict(self) -> dict[str, Any]:
        """{"unit", "bgnbd": {r, alpha, a, b, ...}, "gamma_gamma": {p, q, v, ...}}."""
        return {"unit": self.unit, "bgnbd": self.bgnbd_.to_dict(),
                "gamma_gamma": self.gamma_gamma_.to_dict()}
