"""Always-valid sequential test of two rates: the normal-mixture SPRT (mSPRT), so analysts may
look at an experiment every day without inflating the false-positive rate.

Method: Johari, Koomen, Pekelis & Walsh (2017), "Peeking at A/B tests: why it matters, and what
to do about it" (KDD), with the normal-mixture boundary of Howard, Ramdas, McAuliffe & Sekhon
(2021), "Time-uniform, nonparametric, nonasymptotic confidence sequences" (Ann. Statist.).
With θ̂ = p̂_B − p̂_A, its variance V and a N(0, τ²) mixture over the effect θ::

    Λ = √(V / (V + τ²)) · exp(τ² θ̂² / (2 V (V + τ²)))          (mixture likelihood ratio)
    p_n = min(1, min_{m ≤ n} 1/Λ_m)                              (always-valid p-value)
    CS_n: θ̂ ± √( V (V + τ²)/τ² · (ln((V + τ²)/V) − 2 ln α) )     (confidence sequence)

The p-value uses the pooled variance V₀ = p̄(1 − p̄)(1/n_A + 1/n_B) (the variance under
H₀: θ = 0); the confidence sequence uses the unpooled one; the running intersection of the
sequence is reported. Both rest on the normal approximation of θ̂ (Johari et al. §5), so the
guarantee is asymptotic; a seeded A/A simulation in the tests bounds the type-I error.

Mixture scale τ: if not given, it is tuned to be tightest at a planned horizon (Howard et al.
§3.5): τ² = r·V*, where V* is the variance of θ̂ at ``horizon_per_arm`` units per arm (at the
pooled rate of the latest look: a nuisance parameter) and r solves r = ln(1 + r) − 2 ln α
(r ≈ 8.2 at α = 0.05). For the strict guarantee fix ``tau`` (or the horizon) before the data
arrive, e.g. from :func:`touchlens.experiments.power.sample_size_proportions`.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import optimize

from touchlens.errors import ConfigError
from touchlens.experiments.ab import check_alpha

LOOK_COLUMNS = ("x_a", "n_a", "x_b", "n_b")


def optimal_ratio(alpha: float) -> float:
    """r minimising the width of the normal-mixture boundary: r = ln(1 + r) − 2 ln α."""
    check_alpha(alpha)
    c = -2.0 * math.log(alpha)
    return float(optimize.brentq(lambda r: r - math.log1p(r) - c, c, 10 * c + 10))


def mixture_tau(rate: float, horizon_per_arm: float, alpha: float = 0.05) -> float:
    """τ tuned for a rate near ``rate`` and ``horizon_per_arm`` units in each arm."""
    if not 0.0 < rate < 1.0:
        raise ConfigError(f"rate for the mixture scale must be in (0, 1), got {rate!r}")
    if not horizon_per_arm >= 1:
        raise ConfigError(f"horizon_per_arm must be >= 1, got {horizon_per_arm!r}")
    v_star = rate * (1 - rate) * 2.0 / horizon_per_arm
    return math.sqrt(optimal_ratio(alpha) * v_star)


def _likelihood_ratio(diff: np.ndarray, var: np.ndarray, tau2: float) -> np.ndarray:
    """Λ of the normal mixture; 1 where the variance is 0 (no information yet)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_lr = (0.5 * np.log(var / (var + tau2))
                  + tau2 * diff**2 / (2 * var * (var + tau2)))
    return np.where(var > 0, np.exp(np.minimum(log_lr, 700.0)), 1.0)


def _half_width(var: np.ndarray, tau2: float, alpha: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        width = np.sqrt(var * (var + tau2) / tau2 * (np.log((var + tau2) / var)
                                                     - 2 * math.log(alpha)))
    return np.where(var > 0, width, np.inf)


def sequential_test(looks: pd.DataFrame, *, alpha: float = 0.05, tau: float | None = None,
                    horizon_per_arm: float | None = None) -> pd.DataFrame:
    """mSPRT over cumulative looks (one row per look, in time order, columns x_a, n_a, x_b,
    n_b: successes and units so far). Returns the looks with diff, likelihood_ratio,
    p_value (always valid, running minimum), cs_low/cs_high (running intersection), reject
    (p_value < alpha) and the τ used.

    Without ``tau``: tuned for ``horizon_per_arm`` (default: the units per arm needed to detect
    a 10 % relative lift at 80 % power), at the pooled rate of the latest look.
    """
    check_alpha(alpha)
    missing = [c for c in LOOK_COLUMNS if c not in looks.columns]
    if missing:
        raise ConfigError(f"looks need columns {LOOK_COLUMNS}; missing {missing}")
    x_a, n_a, x_b, n_b = (looks[c].to_numpy(dtype=np.float64) for c in LOOK_COLUMNS)
    if np.any(np.diff(n_a) < 0) or np.any(np.diff(n_b) < 0):
        raise ConfigError("looks must be cumulative: units per arm may not decrease")
    tau = _resolve_tau(x_a, n_a, x_b, n_b, alpha, tau, horizon_per_arm)
    tau2 = tau * tau
    with np.errstate(divide="ignore", invalid="ignore"):
        pa = np.where(n_a > 0, x_a / n_a, np.nan)
        pb = np.where(n_b > 0, x_b / n_b, np.nan)
        pooled = (x_a + x_b) / (n_a + n_b)
        var0 = pooled * (1 - pooled) * (1 / n_a + 1 / n_b)
        var = pa * (1 - pa) / n_a + pb * (1 - pb) / n_b
    diff = pb - pa
    ok0 = np.isfinite(var0) & np.isfinite(diff)
    lr = _likelihood_ratio(np.where(ok0, diff, 0.0), np.where(ok0, var0, 0.0), tau2)
    p = np.minimum.accumulate(np.minimum(1.0, 1.0 / lr))
    ok = np.isfinite(var) & np.isfinite(diff)
    half = _half_width(np.where(ok, var, 0.0), tau2, alpha)
    low = np.maximum.accumulate(np.where(ok, diff - half, -np.inf))
    high = np.minimum.accumulate(np.where(ok, diff + half, np.inf))
    out = looks.copy()
    out["diff"] = diff
    out["likelihood_ratio"] = lr
    out["p_value"] = p
    out["cs_low"] = np.maximum(low, -1.0)
    out["cs_high"] = np.minimum(high, 1.0)
    out["reject"] = p < alpha
    out["tau"] = tau
    return out


def _resolve_tau(x_a: np.ndarray, n_a: np.ndarray, x_b: np.ndarray, n_b: np.ndarray,
                 alpha: float, tau: float | None, horizon: float | None) -> float:
    if tau is not None:
        if not tau > 0:
            raise ConfigError(f"tau must be positive, got {tau!r}")
        return float(tau)
    total = n_a + n_b
    informative = np.flatnonzero((x_a + x_b > 0) & (x_a + x_b < total))
    if informative.size == 0:
        return 1.0  # no information at any look: every Λ is 1 whatever τ is
    last = informative[-1]  # the best estimate of the rate (a nuisance parameter)
    rate = float((x_a[last] + x_b[last]) / total[last])
    if horizon is None:
        from touchlens.experiments.power import sample_size_proportions

        horizon = sample_size_proportions(rate, 0.1, alpha=alpha, power=0.8).n_per_arm
    return mixture_tau(rate, horizon, alpha)


def msprt(x_a: int, n_a: int, x_b: int, n_b: int, *, alpha: float = 0.05,
          tau: float | None = None, horizon_per_arm: float | None = None) -> dict[str, float]:
    """One look (e.g. today's totals) of :func:`sequential_test`; without ``tau`` and
    ``horizon_per_arm`` the horizon is this look's units per arm."""
    if tau is None and horizon_per_arm is None:
        horizon_per_arm = max(1.0, (n_a + n_b) / 2)
    frame = pd.DataFrame({"x_a": [x_a], "n_a": [n_a], "x_b": [x_b], "n_b": [n_b]})
    row = sequential_test(frame, alpha=alpha, tau=tau, horizon_per_arm=horizon_per_arm).iloc[0]
    return {"p_value": float(row.p_value), "cs_low": float(row.cs_low),
            "cs_high": float(row.cs_high), "likelihood_ratio": float(row.likelihood_ratio),
            "tau": float(row.tau), "method": "mSPRT (normal mixture)"}
