"""Anomaly detection on the KPI grid: two-sided CUSUM on seasonal quasi-likelihood z-scores.

Method (one series = touchpoint × metric, one value per period of :mod:`.kpis`):

1. **z-score against the seasonal baseline.** Counts (volume, cost) are quasi-Poisson:
   z = (y − μ) / √(φ · max(μ, 1) · (1 + 1/B)), with μ the same-slot mean over the previous B
   weeks (the 1/B term is the baseline's own noise; money has no floor at 1). Shares
   (conversion rate, CSAT top-2, negative share) are quasi-binomial:
   z = (p̂ − p₀) / √(φ · (max(n p₀(1 − p₀), 1)/n² + p₀(1 − p₀)/N₀)), p₀ pooled over the
   baseline's N₀ units (the floor: one unit more than expected is never more than one sd).
   NPS uses the variance of the (+1, 0, −1) scores, v₀ = (P₀ + D₀)/N₀ − nps₀².
   The dispersion φ (≥ 1 except for money) is the median of the series' squared raw
   residuals over the previous ``dispersion_days``, divided by 0.4549 (the median of χ²₁):
   robust to the anomalies themselves. Bursty traffic makes consecutive z positively
   correlated, which lets a CUSUM drift, so z is rescaled by √((1 − ρ)/(1 + ρ)), ρ the lag-1
   autocorrelation pooled over the metric's series (clipped to [0, 0.9]). Periods with fewer
   than ``min_baseline`` baseline weeks, or nothing to measure (n = 0), get z = 0.
2. **CUSUM** (Page 1954): S⁺ₜ = max(0, S⁺ₜ₋₁ + zₜ − k), S⁻ₜ = max(0, S⁻ₜ₋₁ − zₜ − k); an alarm
   is raised when S > h. One alert per episode (the run of periods with S > h); its ``since``
   is the CUSUM change-point estimate: the period after S was last 0.
3. **Multiple-testing control.** h is chosen so that the expected number of false alerts over
   all m monitored series stays at ``false_alarms_per_day``: with Siegmund's approximation of
   the in-control run length of a one-sided CUSUM, ARL₀(h) = (e^{2kb} − 2kb − 1) / (2k²),
   b = h + 1.166, we solve ARL₀(h)/2 = m / (false alarms per period) (a Bonferroni split of the
   alarm budget over the series; the /2 is for the two sides).

The evidence of an alert: observed and expected value at detection and the per-period band
expected ± ``band_z`` standard deviations (``band_z`` = 3). Tuned and measured on simulated
worlds with injected anomalies: docs/monitoring.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import optimize

from touchlens.errors import ConfigError
from touchlens.monitoring.kpis import METRICS

CHI2_1_MEDIAN = 0.454936423119572
PERIODS_PER_DAY = {"hour": 24, "day": 1}
RANGES = {"conversion_rate": (0.0, 1.0), "negative_share": (0.0, 1.0), "csat": (0.0, 100.0),
          "nps": (-100.0, 100.0)}  # bands are clipped to a metric's range (counts: ≥ 0)
ALERT_COLUMNS = (
    "grain", "touchpoint", "metric", "direction", "since", "detected_at", "observed",
    "expected", "band_low", "band_high", "z", "statistic", "threshold", "method", "active",
)


# Tuned on simulated worlds (docs/monitoring.md): (k, false alarms per day) per grain. Hourly
# z-scores carry ~1/√24 of a day's shift each, so the hourly CUSUM needs a smaller k.
GRAIN_DEFAULTS = {"day": (1.0, 0.01), "hour": (0.5, 0.003)}


@dataclass(frozen=True)
class Detector:
    """CUSUM settings. ``k``/``false_alarms_per_day`` None: the grain's tuned default
    (:data:`GRAIN_DEFAULTS`); ``h=None`` solves h from the false-alarm budget (see module)."""

    k: float | None = None
    h: float | None = None
    false_alarms_per_day: float | None = None
    band_z: float = 3.0
    min_baseline: int = 2
    dispersion_days: int = 28
    metrics: tuple[str, ...] = METRICS

    def resolved(self, grain: str) -> Detector:
        """These settings with the grain's defaults filled in, validated."""
        if grain not in GRAIN_DEFAULTS:
            raise ConfigError(f"grain must be one of {tuple(GRAIN_DEFAULTS)}, not {grain!r}")
        k, budget = GRAIN_DEFAULTS[grain]
        out = replace(self, k=k if self.k is None else self.k,
                      false_alarms_per_day=(budget if self.false_alarms_per_day is None
                                            else self.false_alarms_per_day))
        out.validate()
        return out

    def validate(self) -> None:
        if self.k is not None and not self.k > 0:
            raise ConfigError(f"k must be positive, got {self.k}")
        if self.h is not None and not self.h > 0:
            raise ConfigError(f"h must be positive, got {self.h}")
        if self.false_alarms_per_day is not None and not self.false_alarms_per_day > 0:
            raise ConfigError("false_alarms_per_day must be positive")
        unknown = sorted(set(self.metrics) - set(METRICS))
        if unknown:
            raise ConfigError(f"unknown metric(s) {unknown}; choose from {METRICS}")


def arl0(h: float, k: float) -> float:
    """Siegmund's approximation of the in-control average run length (one-sided CUSUM)."""
    b = h + 1.166
    return (math.exp(2 * k * b) - 2 * k * b - 1) / (2 * k * k)


def threshold_for(n_series: int, false_alarms_per_period: float, k: float) -> float:
    """h with two-sided ARL₀ = n_series / false_alarms_per_period."""
    target = max(1, n_series) / false_alarms_per_period
    return float(optimize.brentq(lambda h: arl0(h, k) / 2 - target, 1e-6, 200.0))


# ---------------------------------------------------------------- z-scores


@dataclass
class Series:
    """Arrays [series × periods] for one metric: observed, expected, raw variance, valid."""

    observed: np.ndarray
    expected: np.ndarray
    var0: np.ndarray
    valid: np.ndarray


def _wide(kpis: pd.DataFrame, column: str, index: pd.Index, periods: pd.Index) -> np.ndarray:
    table = kpis.pivot(index="touchpoint", columns="period_start", values=column)
    return table.reindex(index=index, columns=periods).to_numpy(dtype=np.float64)


def _series(kpis: pd.DataFrame, metric: str, tps: pd.Index, periods: pd.Index,
            min_baseline: int) -> Series:
    def w(col: str) -> np.ndarray:
        return _wide(kpis, col, tps, periods)

    base_n = w("baseline_n")
    enough = base_n >= min_baseline
    with np.errstate(divide="ignore", invalid="ignore"):
        if metric in ("volume", "cost"):
            y = w("n_events" if metric == "volume" else "cost")
            mu = w(f"{metric}_expected")
            var0 = (mu if metric == "cost" else np.maximum(mu, 1.0)) * (1 + 1 / base_n)
            valid = enough & np.isfinite(mu) & (mu > 0 if metric == "cost" else True)
            return Series(y, mu, var0, valid)
        if metric == "nps":
            n, n0 = w("nps_n"), w("nps_n_base")
            m0 = (w("nps_promoters_base") - w("nps_detractors_base")) / n0
            v0 = (w("nps_promoters_base") + w("nps_detractors_base")) / n0 - m0**2
            v0 = np.maximum(v0, 1 / np.maximum(n0, 1))
            return Series(w("nps"), m0 * 100, v0 * (1 / n + 1 / n0) * 1e4,
                          enough & (n > 0) & (n0 > 0))
        num, den, scale = {
            "conversion_rate": ("n_converted", "n_customers", 1.0),
            "csat": ("csat_top2", "csat_n", 100.0),
            "negative_share": ("negative_n", "text_n", 1.0),
        }[metric]
        n, n0 = w(den), w(den + "_base")
        p0 = w(num + "_base") / n0
        p0c = np.clip(p0, 0.5 / np.maximum(n0, 1), 1 - 0.5 / np.maximum(n0, 1))
        # binomial variance of the count, at least 1 (one unit more than expected is never
        # more than one sd), plus the baseline rate's own variance
        var0 = (np.maximum(n * p0c * (1 - p0c), 1.0) / n**2 + p0c * (1 - p0c) / n0) * scale**2
        return Series(w(num) / n * scale, p0 * scale, var0, enough & (n > 0) & (n0 > 0))


def _dispersion(raw: np.ndarray, window: int, floor: float) -> np.ndarray:
    """φ per series and period from the previous ``window`` squared raw residuals."""
    frame = pd.DataFrame((raw**2).T)  # periods × series
    med = frame.shift(1).rolling(window, min_periods=max(3, window // 4)).median()
    return np.clip(med.to_numpy().T / CHI2_1_MEDIAN, floor, None)


def lag1_autocorrelation(z: np.ndarray, valid: np.ndarray, cap: float = 0.9) -> float:
    """Pooled lag-1 autocorrelation of the z-scores over all series, clipped to [0, cap]."""
    both = valid[:, 1:] & valid[:, :-1]
    if both.sum() < 20:
        return 0.0
    a, b = z[:, 1:][both], z[:, :-1][both]
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.clip(np.corrcoef(a, b)[0, 1], 0.0, cap))


def zscores(kpis: pd.DataFrame, detector: Detector, grain: str,
            evaluate_from: pd.Timestamp | None = None
            ) -> tuple[dict[str, Series], dict[str, np.ndarray], pd.Index, pd.Index]:
    """Per metric: the arrays and z [touchpoints × periods] (0 where not measurable, and
    before ``evaluate_from``: history that only feeds baselines and dispersion)."""
    tps = pd.Index(sorted(kpis["touchpoint"].unique()))
    periods = pd.Index(sorted(kpis["period_start"].unique()))
    window = detector.dispersion_days * PERIODS_PER_DAY[grain]
    arrays, zs = {}, {}
    for metric in detector.metrics:
        s = _series(kpis, metric, tps, periods, detector.min_baseline)
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = np.where(s.valid, (s.observed - s.expected) / np.sqrt(s.var0), np.nan)
        # counts and shares cannot be less variable than Poisson/binomial (φ ≥ 1); money can
        floor = 1e-6 if metric == "cost" else 1.0
        s.var0 = s.var0 * np.nan_to_num(_dispersion(raw, window, floor), nan=1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (s.observed - s.expected) / np.sqrt(s.var0)
        z = np.where(s.valid & np.isfinite(z), z, 0.0)
        # positively autocorrelated z (bursty traffic) make the CUSUM drift: rescale to the
        # long-run variance of an AR(1) series, (1 + ρ)/(1 − ρ)
        if evaluate_from is not None:
            s.valid &= np.asarray(periods >= evaluate_from)[None, :]
        rho = lag1_autocorrelation(z, s.valid)
        z *= math.sqrt((1 - rho) / (1 + rho))
        s.var0 = s.var0 * (1 + rho) / (1 - rho)
        arrays[metric] = s
        zs[metric] = np.where(s.valid, z, 0.0)
    return arrays, zs, tps, periods


# ---------------------------------------------------------------- CUSUM and episodes


def cusum(z: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower CUSUM paths, same shape as ``z`` [series × periods]."""
    up, down = np.zeros_like(z), np.zeros_like(z)
    s_up = np.zeros(z.shape[0])
    s_down = np.zeros(z.shape[0])
    for t in range(z.shape[1]):
        s_up = np.maximum(0.0, s_up + z[:, t] - k)
        s_down = np.maximum(0.0, s_down - z[:, t] - k)
        up[:, t], down[:, t] = s_up, s_down
    return up, down


def _episodes(stat: np.ndarray, h: float) -> list[tuple[int, int, int, bool]]:
    """(series, start of change, first detection, active at the last period) per episode.

    An episode is a run of S > 0 that crosses h (S may dip under h and cross again within
    it: still one episode, one change point)."""
    out = []
    above = stat > h
    for i in np.flatnonzero(above.any(axis=1)):
        row, alarm = stat[i], above[i]
        zeros = np.flatnonzero(row == 0)
        seen: set[int] = set()
        for t in np.flatnonzero(alarm):
            before = zeros[zeros < t]
            since = int(before[-1]) + 1 if before.size else 0
            if since in seen:
                continue
            seen.add(since)
            out.append((int(i), since, int(t), bool(alarm[-1] and not (zeros > t).any())))
    return out


def detect(kpis: pd.DataFrame, detector: Detector | None = None, *, grain: str = "day",
           evaluate_from: pd.Timestamp | None = None) -> pd.DataFrame:
    """Alerts (ALERT_COLUMNS) found on a KPI frame from :func:`touchlens.monitoring.kpis`;
    periods before ``evaluate_from`` only serve as history."""
    detector = (detector or Detector()).resolved(grain)
    if kpis.empty:
        return pd.DataFrame(columns=list(ALERT_COLUMNS))
    arrays, zs, tps, periods = zscores(kpis, detector, grain, evaluate_from)
    n_series = int(sum(a.valid.any(axis=1).sum() for a in arrays.values()))
    h = detector.h or threshold_for(n_series, detector.false_alarms_per_day
                                    / PERIODS_PER_DAY[grain], detector.k)
    method = f"CUSUM k={detector.k:g} h={h:.2f} on seasonal z-scores"
    rows = []
    for metric, z in zs.items():
        s = arrays[metric]
        low, high = RANGES.get(metric, (0.0, math.inf))
        up, down = cusum(z, detector.k)
        for direction, stat in (("up", up), ("down", down)):
            for i, since, t, active in _episodes(stat, h):
                sd = math.sqrt(s.var0[i, t]) if np.isfinite(s.var0[i, t]) else math.nan
                e = float(s.expected[i, t])
                rows.append({
                    "grain": grain, "touchpoint": tps[i], "metric": metric,
                    "direction": direction, "since": periods[since],
                    "detected_at": periods[t], "observed": float(s.observed[i, t]),
                    "expected": e, "band_low": max(e - detector.band_z * sd, low),
                    "band_high": min(e + detector.band_z * sd, high), "z": float(z[i, t]),
                    "statistic": float(stat[i, t]), "threshold": h, "method": method,
                    "active": active,
                })
    out = pd.DataFrame(rows, columns=list(ALERT_COLUMNS))
    return out.sort_values(["detected_at", "touchpoint", "metric"], kind="stable"
                           ).reset_index(drop=True)


def scores(kpis: pd.DataFrame, detector: Detector | None = None, *, grain: str = "day"
           ) -> pd.DataFrame:
    """Long frame touchpoint, period_start, metric, observed, expected, z, cusum_up,
    cusum_down (for dashboards and the ``watch`` table)."""
    detector = (detector or Detector()).resolved(grain)
    arrays, zs, tps, periods = zscores(kpis, detector, grain)
    parts = []
    for metric, z in zs.items():
        up, down = cusum(z, detector.k)
        idx = pd.MultiIndex.from_product([tps, periods], names=["touchpoint", "period_start"])
        parts.append(pd.DataFrame({
            "metric": metric, "observed": arrays[metric].observed.ravel(),
            "expected": arrays[metric].expected.ravel(), "z": z.ravel(),
            "cusum_up": up.ravel(), "cusum_down": down.ravel()}, index=idx).reset_index())
    return pd.concat(parts, ignore_index=True)
