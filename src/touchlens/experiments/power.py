"""Sample size and power of an A/B test (normal approximation).

Two rates p₁ (baseline) and p₂ = p₁(1 + MDE) (relative MDE, the default) or p₁ + MDE, with
k = n_B / n_A, z_α = Φ⁻¹(1 − α/2) (two-sided) and z_β = Φ⁻¹(power):

- ``method="pooled"`` (default; Fleiss, Levin & Paik 2003 without continuity correction — the
  figure most online calculators give)::

      n_A = (z_α √(p̄ q̄ (1 + 1/k)) + z_β √(p₁q₁ + p₂q₂/k))² / (p₂ − p₁)²,  p̄ = (p₁ + k p₂)/(1 + k)

- ``method="arcsine"`` (Cohen's h = 2 asin √p₂ − 2 asin √p₁, as statsmodels'
  ``NormalIndPower``): n_A = ((z_α + z_β) / h)² (1 + 1/k).

Means: n_A = (z_α + z_β)² σ² (1 + 1/k) / δ². Sizes are rounded up to whole units; power
functions include both tails of a two-sided test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

from touchlens.errors import ConfigError
from touchlens.experiments.ab import Result, check_alpha

METHODS = ("pooled", "arcsine")


@dataclass(frozen=True)
class SampleSize(Result):
    """Units needed per arm (``n_per_arm`` = n_A) and in total, for the stated design."""

    n_per_arm: int
    n_a: int
    n_b: int
    n_total: int
    n_exact: float
    rate_a: float
    rate_b: float
    alpha: float
    power: float
    alternative: str
    method: str


def _target_rate(baseline: float, mde: float, relative: bool) -> float:
    if not 0.0 < baseline < 1.0:
        raise ConfigError(f"baseline rate must be in (0, 1), got {baseline!r}")
    if mde == 0:
        raise ConfigError("mde (minimum detectable effect) must not be 0")
    rate = baseline * (1 + mde) if relative else baseline + mde
    if not 0.0 < rate < 1.0:
        kind = "relative" if relative else "absolute"
        raise ConfigError(f"baseline {baseline} with {kind} mde {mde} gives rate {rate:.4g}, "
                          "outside (0, 1)")
    return rate


def _check(alpha: float, power: float, alternative: str, ratio: float, method: str) -> None:
    check_alpha(alpha)
    if not 0.0 < power < 1.0:
        raise ConfigError(f"power must be in (0, 1), got {power!r}")
    if alternative not in ("two-sided", "one-sided"):
        raise ConfigError(f"alternative must be 'two-sided' or 'one-sided', not {alternative!r}")
    if not ratio > 0:
        raise ConfigError(f"ratio n_B/n_A must be positive, got {ratio!r}")
    if method not in METHODS:
        raise ConfigError(f"method must be one of {METHODS}, not {method!r}")


def _z_alpha(alpha: float, alternative: str) -> float:
    return float(stats.norm.isf(alpha / 2 if alternative == "two-sided" else alpha))


def _sds(p1: float, p2: float, ratio: float) -> tuple[float, float]:
    """(sd under H₀ with pooled p̄, sd under H₁), both per √n_A."""
    pbar = (p1 + ratio * p2) / (1 + ratio)
    return (math.sqrt(pbar * (1 - pbar) * (1 + 1 / ratio)),
            math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio))


def sample_size_proportions(baseline: float, mde: float, *, alpha: float = 0.05,
                            power: float = 0.8, relative: bool = True,
                            alternative: str = "two-sided", ratio: float = 1.0,
                            method: str = "pooled") -> SampleSize:
    """Units per arm to detect a change of ``mde`` from ``baseline`` (see module formulas)."""
    _check(alpha, power, alternative, ratio, method)
    p1 = baseline
    p2 = _target_rate(baseline, mde, relative)
    za, zb = _z_alpha(alpha, alternative), float(stats.norm.ppf(power))
    if method == "pooled":
        sd0, sd1 = _sds(p1, p2, ratio)
        n = (za * sd0 + zb * sd1) ** 2 / (p2 - p1) ** 2
        label = "pooled normal approximation (Fleiss)"
    else:
        h = 2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1))
        n = ((za + zb) / h) ** 2 * (1 + 1 / ratio)
        label = "arcsine (Cohen's h)"
    return _size(n, ratio, p1, p2, alpha, power, alternative, label)


def _size(n: float, ratio: float, p1: float, p2: float, alpha: float, power: float,
          alternative: str, label: str) -> SampleSize:
    n_a = math.ceil(n - 1e-9)  # 1e-9: a size that is whole up to rounding stays whole
    n_b = math.ceil(n_a * ratio - 1e-9)
    return SampleSize(n_per_arm=n_a, n_a=n_a, n_b=n_b, n_total=n_a + n_b, n_exact=n,
                      rate_a=p1, rate_b=p2, alpha=alpha, power=power,
                      alternative=alternative, method=label)


def power_proportions(baseline: float, mde: float, n_per_arm: float, *, alpha: float = 0.05,
                      relative: bool = True, alternative: str = "two-sided",
                      ratio: float = 1.0, method: str = "pooled") -> float:
    """Power of the test with ``n_per_arm`` units in A (and ``ratio`` × as many in B)."""
    _check(alpha, 0.5, alternative, ratio, method)
    if not n_per_arm > 0:
        raise ConfigError(f"n_per_arm must be positive, got {n_per_arm!r}")
    p1 = baseline
    p2 = _target_rate(baseline, mde, relative)
    za = _z_alpha(alpha, alternative)
    root = math.sqrt(n_per_arm)
    if method == "pooled":
        sd0, sd1 = _sds(p1, p2, ratio)
        delta = abs(p2 - p1) * root
        upper = stats.norm.cdf((delta - za * sd0) / sd1)
        lower = stats.norm.cdf((-delta - za * sd0) / sd1)
    else:
        h = abs(2 * math.asin(math.sqrt(p2)) - 2 * math.asin(math.sqrt(p1)))
        shift = h * root / math.sqrt(1 + 1 / ratio)
        upper = stats.norm.sf(za - shift)
        lower = stats.norm.cdf(-za - shift)
    return float(upper + lower if alternative == "two-sided" else upper)


def sample_size_means(sd: float, mde: float, *, alpha: float = 0.05, power: float = 0.8,
                      alternative: str = "two-sided", ratio: float = 1.0) -> SampleSize:
    """Units per arm to detect an absolute change ``mde`` in a mean with standard deviation
    ``sd`` (e.g. revenue per customer); ``rate_a``/``rate_b`` are NaN."""
    _check(alpha, power, alternative, ratio, "pooled")
    if not sd > 0 or mde == 0:
        raise ConfigError(f"need sd > 0 and mde != 0, got sd={sd!r}, mde={mde!r}")
    za, zb = _z_alpha(alpha, alternative), float(stats.norm.ppf(power))
    n = (za + zb) ** 2 * sd**2 * (1 + 1 / ratio) / mde**2
    return _size(n, ratio, math.nan, math.nan, alpha, power, alternative,
                 "normal approximation, two means")
