"""Gamma-Gamma model of spend per transaction (Fader & Hardie 2013, "The Gamma-Gamma model of
monetary value"; Colombo & Jiang 1999).

Each transaction value z ~ Gamma(p, ν) (shape p, rate ν); across customers ν ~ Gamma(q, γ)
(``v`` = γ, as in lifetimes). A customer with x repeat transactions of mean value m̄:

    ln f(m̄ | x) = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m̄ + px ln x
                  − (px+q) ln(γ + x m̄)

    E[M | m̄, x] = (γ + x m̄) p / (px + q − 1)
                = (q−1)/(px+q−1) · pγ/(q−1) + px/(px+q−1) · m̄     (needs q > 1)

Fit only on customers with x > 0 and m̄ > 0 (the monetary value of *repeat* purchases).
The model assumes spend is independent of frequency: check ``frequency_spend_correlation``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import digamma, gammaln

from touchlens.errors import ConfigError
from touchlens.loyalty import _fit
from touchlens.loyalty.bgnbd import require_columns

PARAMS = ("p", "q", "v")
SUMMARY_COLUMNS = ("frequency", "monetary_value")


def _arrays(frequency: Any, monetary_value: Any) -> tuple[np.ndarray, np.ndarray]:
    x = _fit.as_array("frequency", frequency)
    m = _fit.as_array("monetary_value", monetary_value)
    if len(x) != len(m):
        raise ConfigError("frequency and monetary_value must have the same length")
    return x, m


def _loglik(params: np.ndarray, x: np.ndarray, m: np.ndarray, w: np.ndarray,
            ux: np.ndarray, ix: np.ndarray, wx: np.ndarray) -> tuple[float, np.ndarray]:
    """Weighted sum of log-densities and its gradient in (p, q, γ); x-only terms per distinct x."""
    p, q, v = params
    px = p * ux
    per_x = gammaln(px + q) - gammaln(px) + px * np.log(ux)
    log_m = np.log(m)
    log_vm = np.log(v + x * m)
    pxr = p * x
    ll = (_fit.wsum(wx, per_x) + w.sum() * (q * np.log(v) - gammaln(q))
          + _fit.wsum(w, (pxr - 1) * log_m - (pxr + q) * log_vm))
    dg = digamma(px + q)
    g_p = (_fit.wsum(wx, ux * (dg - digamma(px) + np.log(ux)))
           + _fit.wsum(w * x, log_m - log_vm))
    g_q = _fit.wsum(wx, dg) + w.sum() * (np.log(v) - digamma(q)) - _fit.wsum(w, log_vm)
    g_v = w.sum() * q / v - _fit.wsum(w, (pxr + q) / (v + x * m))
    return float(ll), np.array([g_p, g_q, g_v])


def loglik_terms(params: Any, frequency: Any, monetary_value: Any) -> np.ndarray:
    """Per-customer ln f(m̄ | x) (customers with x > 0 and m̄ > 0 only)."""
    p, q, v = (float(t) for t in params)
    _fit.check_positive(p=p, q=q, v=v)
    x, m = _arrays(frequency, monetary_value)
    return (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(v + x * m))


class GammaGammaModel:
    """Gamma-Gamma spend model fitted by maximum likelihood.

    Fitted attributes: ``params_`` (dict p, q, v), ``standard_errors_``, ``covariance_``,
    ``log_likelihood_``, ``n_customers_`` (customers used: x > 0, m̄ > 0), ``converged_``.
    """

    def __init__(self, *, tol: float = 1e-8, max_iter: int = 500,
                 compress: bool = True) -> None:
        self.tol = tol
        self.max_iter = max_iter
        self.compress = compress

    def fit(self, summary: pd.DataFrame | None = None, *, frequency: Any = None,
            monetary_value: Any = None, weights: Any = None) -> GammaGammaModel:
        """Fit on customers with a repeat purchase (frequency > 0, monetary_value > 0)."""
        if summary is not None:
            require_columns(summary, SUMMARY_COLUMNS)
            frequency, monetary_value = (summary[c].to_numpy() for c in SUMMARY_COLUMNS)
        if frequency is None or monetary_value is None:
            raise ConfigError("fit needs a summary frame or frequency and monetary_value")
        x, m = _arrays(frequency, monetary_value)
        w = np.ones(len(x)) if weights is None else _fit.as_array("weights", weights)
        keep = (x > 0) & (m > 0)
        if keep.sum() < 2:
            raise ConfigError("Gamma-Gamma needs at least two customers with a repeat purchase "
                              "and positive monetary value")
        x, m, w = x[keep], m[keep], w[keep]
        if self.compress:
            (x, m), w = _fit.compress([x, m], w)
        ux, ix = np.unique(x, return_inverse=True)
        wx = np.bincount(ix, weights=w, minlength=len(ux))
        n = float(w.sum())

        def vg(params: np.ndarray) -> tuple[float, np.ndarray]:
            return _loglik(params, x, m, w, ux, ix, wx)

        mean_m = float(np.average(m, weights=w))
        start = np.array([1.0, 2.0, mean_m])  # population mean pγ/(q−1) = m̄ at the start
        _fit.fit_into(self, "Gamma-Gamma", PARAMS, vg, start, n)
        return self

    def set_params(self, *, p: float, q: float, v: float) -> GammaGammaModel:
        """Use known parameters instead of fitting."""
        _fit.check_positive(p=p, q=q, v=v)
        self.params_ = {"p": float(p), "q": float(q), "v": float(v)}
        return self

    def _p(self) -> tuple[float, float, float]:
        if not hasattr(self, "params_"):
            raise ConfigError("GammaGammaModel is not fitted: call fit() first")
        return self.params_["p"], self.params_["q"], self.params_["v"]

    def population_mean_spend(self) -> float:
        """E[Z] = pγ/(q−1) over all customers (infinite when q ≤ 1)."""
        p, q, v = self._p()
        return p * v / (q - 1) if q > 1 else float("inf")

    def expected_spend(self, frequency: Any, monetary_value: Any) -> np.ndarray:
        """E[M | m̄, x] = p(γ + x m̄)/(px + q − 1); the population mean for x = 0."""
        p, q, v = self._p()
        x, m = _arrays(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        return p * (v + x * m) / (p * x + q - 1)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.params_)
        if hasattr(self, "standard_errors_"):
            out["standard_errors"] = dict(self.standard_errors_)
            out["log_likelihood"] = self.log_likelihood_
            out["n"] = self.n_customers_
            out["converged"] = self.converged_
        return out


def frequency_spend_correlation(frequency: Any, monetary_value: Any) -> float:
    """Pearson correlation of x and m̄ among repeat buyers (near 0 supports the model)."""
    x, m = _arrays(frequency, monetary_value)
    keep = (x > 0) & (m > 0)
    if keep.sum() < 3:
        return float("nan")
    return float(np.corrcoef(x[keep], m[keep])[0, 1])


def simulate_gamma_gamma(frequency: Any, *, p: float, q: float, v: float,
                         seed: int | None = None) -> pd.DataFrame:
    """Draw spend for customers with the given repeat frequencies: ν ~ Gamma(q, rate γ),
    the mean of x values Gamma(p, ν) is Gamma(px, rate νx). Columns frequency,
    monetary_value (0 where x = 0)."""
    _fit.check_positive(p=p, q=q, v=v)
    rng = np.random.default_rng(seed)
    x = _fit.as_array("frequency", frequency)
    nu = rng.gamma(q, 1.0 / v, size=len(x))
    m = np.zeros(len(x))
    has = x > 0
    m[has] = rng.gamma(p * x[has], 1.0 / (nu[has] * x[has]))
    return pd.DataFrame({"frequency": x.astype(np.int64), "monetary_value": m})
