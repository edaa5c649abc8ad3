"""BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005, "Counting your customers the
easy way").

While alive a customer buys at Poisson rate λ ~ Gamma(r, α) (rate α, i.e. scale 1/α); after
each repeat purchase they drop out with probability p ~ Beta(a, b). A customer is summarised by
``frequency`` x (repeat purchases), ``recency`` t_x (time of the last purchase since the first)
and ``T`` (time since the first purchase), all in one time unit (see :mod:`.summary`).

Log-likelihood of one customer (FHL eq. 6), computed in log space:

    A1 = lnΓ(r+x) − lnΓ(r) + r ln α
    A2 = ln B(a, b+x) − ln B(a, b) − (r+x) ln(α+T)
    A3 = ln B(a+1, b+x−1) − ln B(a, b) − (r+x) ln(α+t_x)        (only when x > 0)
    ln L = A1 + logsumexp(A2, A3)

so x in the thousands stays finite. Terms that depend on x alone are evaluated once per
distinct x; customers with identical (x, t_x, T) are evaluated once, weighted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from touchlens.errors import ConfigError, SchemaError
from touchlens.loyalty import _fit

PARAMS = ("r", "alpha", "a", "b")
SUMMARY_COLUMNS = ("frequency", "recency", "T")


def require_columns(df: pd.DataFrame, columns: tuple[str, ...]) -> None:
    """Raise ``SchemaError`` naming the missing columns of a customer summary."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SchemaError(f"customer summary lacks required column(s) {missing}; "
                          f"expected {list(columns)}")


def summary_arrays(frequency: Any, recency: Any, T: Any) -> tuple[np.ndarray, ...]:
    """Validated (x, t_x, T) arrays: x whole and ≥ 0, 0 ≤ t_x ≤ T, t_x = 0 when x = 0."""
    x = _fit.as_array("frequency", frequency)
    tx = _fit.as_array("recency", recency)
    t = _fit.as_array("T", T)
    if not (len(x) == len(tx) == len(t)):
        raise ConfigError("frequency, recency and T must have the same length")
    if np.any(x != np.round(x)):
        raise ConfigError("frequency must be whole numbers of repeat purchases")
    if np.any(tx > t + 1e-9):
        raise ConfigError("recency must not exceed T")
    return x, tx, t


@dataclass
class _Data:
    """Compressed inputs: unique (x, t_x, T) rows with weights, and per-distinct-x sums."""

    x: np.ndarray
    tx: np.ndarray
    T: np.ndarray
    w: np.ndarray
    ux: np.ndarray  # distinct x
    ix: np.ndarray  # row → index into ux
    wx: np.ndarray  # summed weight per distinct x
    rep: np.ndarray  # rows with x > 0

    @classmethod
    def build(cls, x: np.ndarray, tx: np.ndarray, T: np.ndarray,
              weights: np.ndarray | None) -> _Data:
        (x, tx, T), w = _fit.compress([x, tx, T], weights)
        ux, ix = np.unique(x, return_inverse=True)
        wx = np.bincount(ix, weights=w, minlength=len(ux))
        return cls(x, tx, T, w, ux, ix, wx, x > 0)


def _loglik(params: np.ndarray, d: _Data) -> tuple[float, np.ndarray]:
    """Weighted sum of log-likelihoods and its gradient in (r, α, a, b)."""
    r, alpha, a, b = params
    ux = d.ux
    # Per distinct x: A1 and the beta-function parts of A2, A3 (and their derivatives).
    a1 = gammaln(r + ux) - gammaln(r) + r * np.log(alpha)
    lb = betaln(a, b)
    pos = ux > 0
    uxp = np.where(pos, ux, 1.0)  # keeps b+x−1 > 0 where A3 is unused
    b2 = betaln(a, b + ux) - lb
    b3 = np.where(pos, betaln(a + 1, b + uxp - 1) - lb, -np.inf)
    ps_ab, ps_abx = digamma(a + b), digamma(a + b + ux)
    d2a = ps_ab - ps_abx
    d2b = digamma(b + ux) - ps_abx - digamma(b) + ps_ab
    d3a = 1.0 / a + d2a
    d3b = digamma(b + uxp - 1) - ps_abx - digamma(b) + ps_ab

    x, ix, w = d.x, d.ix, d.w
    rx = r + x
    log_T = np.log(alpha + d.T)
    log_tx = np.log(alpha + d.tx)
    c2 = b2[ix] - rx * log_T
    c3 = b3[ix] - rx * log_tx  # −inf where x = 0
    m = np.maximum(c2, c3)
    e2, e3 = np.exp(c2 - m), np.exp(c3 - m)
    tot = e2 + e3
    lse = m + np.log(tot)
    p3 = e3 / tot  # share of the "dropped out after the last purchase" branch
    p2 = 1.0 - p3
    ll = float(_fit.wsum(d.wx, a1) + _fit.wsum(w, lse))

    wp2, wp3 = w * p2, w * p3
    g_r = (_fit.wsum(d.wx, digamma(r + ux) - digamma(r) + np.log(alpha))
           - _fit.wsum(wp2, log_T) - _fit.wsum(wp3, log_tx))
    g_alpha = (d.wx.sum() * r / alpha - _fit.wsum(wp2 * rx, 1.0 / (alpha + d.T))
               - _fit.wsum(wp3 * rx, 1.0 / (alpha + d.tx)))
    s2 = np.bincount(ix, weights=wp2, minlength=len(ux))
    s3 = np.bincount(ix, weights=wp3, minlength=len(ux))
    s3 = np.where(pos, s3, 0.0)
    g_a = _fit.wsum(s2, d2a) + _fit.wsum(s3, np.where(pos, d3a, 0.0))
    g_b = _fit.wsum(s2, d2b) + _fit.wsum(s3, np.where(pos, d3b, 0.0))
    return ll, np.array([g_r, g_alpha, g_a, g_b])


def _growth(r: float, a: float, b: float, x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """(a+b+x−1)/(a−1) · [1 − ₂F₁(r+x, a−1; a+b+x−1; z)], z = −t/(α+T) ≤ 0.

    At a = 1 both factors vanish; there the smooth limit is taken as the mean of a = 1 ± 1e-5
    (error O(1e-10)).
    """
    if abs(a - 1) < 1e-7:
        h = 1e-5
        return (_growth(r, 1 + h, b, x, z) + _growth(r, 1 - h, b, x, z)) / 2
    c = a + b + x - 1
    return c / (a - 1) * (1 - hyp2f1(r + x, a - 1, c, z))


def loglik_terms(params: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
    """Per-customer log-likelihood ln L(r, α, a, b | x, t_x, T) (no compression)."""
    r, alpha, a, b = (float(v) for v in params)
    _fit.check_positive(r=r, alpha=alpha, a=a, b=b)
    x, tx, t = summary_arrays(frequency, recency, T)
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + t)
    xp = np.where(x > 0, x, 1.0)
    a3 = np.where(x > 0, betaln(a + 1, b + xp - 1) - betaln(a, b) - (r + x) * np.log(alpha + tx),
                  -np.inf)
    return a1 + np.logaddexp(a2, a3)


class BetaGeoModel:
    """BG/NBD fitted by maximum likelihood (scipy L-BFGS-B on log-parameters, then Newton).

    Fitted attributes: ``params_`` (dict r, alpha, a, b), ``standard_errors_`` (from the
    inverse observed information), ``covariance_``, ``log_likelihood_``, ``n_customers_``,
    ``converged_``.
    """

    def __init__(self, *, tol: float = 1e-8, max_iter: int = 500,
                 compress: bool = True) -> None:
        self.tol = tol
        self.max_iter = max_iter
        self.compress = compress

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, summary: pd.DataFrame | None = None, *, frequency: Any = None,
            recency: Any = None, T: Any = None, weights: Any = None) -> BetaGeoModel:
        """Fit on a summary frame (columns frequency, recency, T) or on arrays."""
        if summary is not None:
            require_columns(summary, SUMMARY_COLUMNS)
            frequency, recency, T = (summary[c].to_numpy() for c in SUMMARY_COLUMNS)
        if frequency is None or recency is None or T is None:
            raise ConfigError("fit needs a summary frame or frequency, recency and T")
        x, tx, t = summary_arrays(frequency, recency, T)
        if len(x) == 0:
            raise ConfigError("cannot fit BG/NBD on zero customers")
        if not np.any(x > 0):
            raise ConfigError("cannot fit BG/NBD: no customer made a repeat purchase")
        w = None if weights is None else _fit.as_array("weights", weights)
        if self.compress:
            data = _Data.build(x, tx, t, w)
        else:
            ones = np.ones(len(x)) if w is None else w
            ux, ix = np.unique(x, return_inverse=True)
            data = _Data(x, tx, t, ones, ux, ix, np.bincount(ix, weights=ones), x > 0)
        n = float(data.w.sum())

        def vg(p: np.ndarray) -> tuple[float, np.ndarray]:
            return _loglik(p, data)

        start = np.array([1.0, max(float(np.mean(t)), 1e-3), 1.0, 1.0])
        _fit.fit_into(self, "BG/NBD", PARAMS, vg, start, n)
        return self

    def set_params(self, *, r: float, alpha: float, a: float, b: float) -> BetaGeoModel:
        """Use known parameters (e.g. published ones) instead of fitting."""
        _fit.check_positive(r=r, alpha=alpha, a=a, b=b)
        self.params_ = {"r": float(r), "alpha": float(alpha), "a": float(a), "b": float(b)}
        return self

    def _p(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise ConfigError("BetaGeoModel is not fitted: call fit() first")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    # -- predictions -----------------------------------------------------------------------
    def log_likelihood(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Per-customer log-likelihood at the fitted parameters."""
        return loglik_terms(self._p(), frequency, recency, T)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive | x, t_x, T) = 1 / (1 + δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x))."""
        r, alpha, a, b = self._p()
        x, tx, t = summary_arrays(frequency, recency, T)
        xp = np.where(x > 0, x, 1.0)
        log_odds = (np.log(a) - np.log(b + xp - 1)
                    + (r + x) * (np.log(alpha + t) - np.log(alpha + tx)))
        return np.where(x > 0, expit(-log_odds), 1.0)

    def expected_purchases_new(self, t: Any) -> np.ndarray:
        """E[X(t)] for a new customer: (a+b−1)/(a−1) · [1 − ₂F₁(r, a−1; a+b−1; −t/α)]
        (FHL eq. 9 after the Pfaff transformation, which avoids overflow)."""
        r, alpha, a, b = self._p()
        t = _fit.as_array("t", t)
        return _growth(r, a, b, np.zeros_like(t), -t / alpha)

    def conditional_expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any
                                       ) -> np.ndarray:
        """E[Y(t) | x, t_x, T], purchases in the next ``t`` time units (FHL eq. 10):

            (a+b+x−1)/(a−1) · [1 − ₂F₁(r+x, a−1; a+b+x−1; −t/(α+T))] · P(alive | x, t_x, T)
        """
        r, alpha, a, b = self._p()
        x, tx, T_ = summary_arrays(frequency, recency, T)
        t = _fit.as_array("t", np.broadcast_to(np.asarray(t, dtype=float), x.shape))
        return _growth(r, a, b, x, -t / (alpha + T_)) * self.probability_alive(x, tx, T_)

    def predict(self, summary: pd.DataFrame, t: float) -> pd.DataFrame:
        """The summary with ``p_alive`` and ``expected_purchases`` (in the next ``t``)."""
        require_columns(summary, SUMMARY_COLUMNS)
        x, tx, T_ = (summary[c].to_numpy() for c in SUMMARY_COLUMNS)
        out = summary.copy()
        out["p_alive"] = self.probability_alive(x, tx, T_)
        out["expected_purchases"] = self.conditional_expected_purchases(t, x, tx, T_)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Parameters, standard errors, log-likelihood and n (for JSON output)."""
        out: dict[str, Any] = dict(self.params_)
        if hasattr(self, "standard_errors_"):
            out["standard_errors"] = dict(self.standard_errors_)
            out["log_likelihood"] = self.log_likelihood_
            out["n"] = self.n_customers_
            out["converged"] = self.converged_
        return out


def simulate_bgnbd(n: int, *, r: float, alpha: float, a: float, b: float, T: Any,
                   seed: int | None = None) -> pd.DataFrame:
    """Draw ``n`` customers from the BG/NBD story; columns frequency, recency, T.

    λ ~ Gamma(r, rate α), p ~ Beta(a, b); purchases arrive at rate λ; after each repeat
    purchase the customer dies with probability p. With N ~ Poisson(λT) arrivals in (0, T]
    and K ~ Geometric(p) repeat purchases before death, x = min(N, K), and the x-th arrival
    time is T · Beta(x, N − x + 1) (order statistic of N uniforms).
    """
    _fit.check_positive(r=r, alpha=alpha, a=a, b=b)
    rng = np.random.default_rng(seed)
    T = np.broadcast_to(_fit.as_array("T", T), (n,)).astype(float)
    lam = rng.gamma(r, 1.0 / alpha, size=n)
    p = rng.beta(a, b, size=n)
    arrivals = rng.poisson(lam * T)
    survive = rng.geometric(np.clip(p, 1e-12, 1.0))  # repeat purchases made, death at the last
    x = np.minimum(arrivals, survive)
    tx = np.zeros(n)
    has = x > 0
    tx[has] = T[has] * rng.beta(x[has], arrivals[has] - x[has] + 1)
    return pd.DataFrame({"frequency": x.astype(np.int64), "recency": tx, "T": T})
