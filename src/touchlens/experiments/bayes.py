"""Bayesian Beta-Binomial comparison of two conversion rates: P(p_B > p_A), computed exactly.

Posterior of each arm: Beta(α₀ + x, β₀ + n − x) (default prior Beta(1, 1), uniform). With
X₁ ~ Beta(a₁, b₁), X₂ ~ Beta(a₂, b₂) and a₂ a whole number (Miller 2015, "Formulas for Bayesian
A/B testing"; Cook 2005)::

    P(X₂ > X₁) = Σ_{i=0}^{a₂−1} B(a₁ + i, b₁ + b₂) / ((b₂ + i) · B(1 + i, b₂) · B(a₁, b₁))

summed in log space. The symmetric forms (1 − P(X₁ > X₂), and the same on 1 − X) let the sum
run over whichever whole-number parameter is smallest, so a 5 % conversion rate needs about
as many terms as conversions. When no parameter is a whole number (a fractional prior), or all
exceed :data:`MAX_TERMS`, P is integrated numerically: ∫ f_B(x) F_A(x) dx (adaptive quadrature).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import integrate, special, stats

from touchlens.errors import ConfigError
from touchlens.experiments.ab import Result, check_alpha, check_counts

MAX_TERMS = 5_000_000


@dataclass(frozen=True)
class BayesResult(Result):
    """P(p_B > p_A) and each arm's posterior mean with a (1 − alpha) equal-tailed interval."""

    prob_b_beats_a: float
    mean_a: float
    low_a: float
    high_a: float
    mean_b: float
    low_b: float
    high_b: float
    method: str


def _is_whole(x: float) -> bool:
    return float(x).is_integer() and x >= 1


def _greater_sum(a1: float, b1: float, a2: float, b2: float) -> float:
    """P(X₂ > X₁) by the closed-form sum (needs a whole-number ``a2``)."""
    i = np.arange(int(a2), dtype=np.float64)
    terms = (special.betaln(a1 + i, b1 + b2) - np.log(b2 + i)
             - special.betaln(1 + i, b2) - special.betaln(a1, b1))
    return float(np.exp(special.logsumexp(terms)))


def prob_greater_exact(a_a: float, b_a: float, a_b: float, b_b: float) -> float | None:
    """P(p_B > p_A) for p_A ~ Beta(a_a, b_a), p_B ~ Beta(a_b, b_b) by the closed form,
    or None when no parameter is a whole number ≤ :data:`MAX_TERMS`."""
    # (sum over, function giving P(B > A)) for each whole-number parameter
    forms = [
        (a_b, lambda: _greater_sum(a_a, b_a, a_b, b_b)),
        (b_a, lambda: _greater_sum(b_b, a_b, b_a, a_a)),  # on 1 − p: P(1 − p_A > 1 − p_B)
        (a_a, lambda: 1.0 - _greater_sum(a_b, b_b, a_a, b_a)),
        (b_b, lambda: 1.0 - _greater_sum(b_a, a_a, b_b, a_b)),
    ]
    usable = [(n, f) for n, f in forms if _is_whole(n) and n <= MAX_TERMS]
    if not usable:
        return None
    # the direct forms are exact near 0 and 1; prefer them unless a complement is far shorter
    _, best = min(usable, key=lambda nf: nf[0])
    return float(min(1.0, max(0.0, best())))


def prob_greater_numeric(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """P(p_B > p_A) = ∫₀¹ f_B(x) F_A(x) dx by adaptive quadrature over B's posterior mass."""
    post_a, post_b = stats.beta(a_a, b_a), stats.beta(a_b, b_b)
    lo = min(post_a.ppf(1e-12), post_b.ppf(1e-12))
    hi = max(post_a.isf(1e-12), post_b.isf(1e-12))
    points = sorted({float(post_a.median()), float(post_b.median())})

    def integrand(x: float) -> float:
        return float(post_b.pdf(x) * post_a.cdf(x))

    value, _ = integrate.quad(integrand, lo, hi, points=points, limit=500,
                              epsabs=1e-13, epsrel=1e-11)
    # mass of B above ``hi`` (where F_A = 1) is below 1e-12 by construction
    return float(min(1.0, max(0.0, value + post_b.sf(hi))))


def beta_binomial(x_a: int, n_a: int, x_b: int, n_b: int, *,
                  prior: tuple[float, float] = (1.0, 1.0), alpha: float = 0.05) -> BayesResult:
    """Posterior comparison of two rates under a Beta(``prior``) prior on each."""
    check_counts(x_a, n_a, "A")
    check_counts(x_b, n_b, "B")
    check_alpha(alpha)
    a0, b0 = prior
    if not (a0 > 0 and b0 > 0):
        raise ConfigError(f"Beta prior parameters must be positive, got {prior}")
    a_a, b_a = a0 + x_a, b0 + n_a - x_a
    a_b, b_b = a0 + x_b, b0 + n_b - x_b
    p = prob_greater_exact(a_a, b_a, a_b, b_b)
    method = "Beta-Binomial, exact sum"
    if p is None:
        p, method = prob_greater_numeric(a_a, b_a, a_b, b_b), "Beta-Binomial, quadrature"
    post_a, post_b = stats.beta(a_a, b_a), stats.beta(a_b, b_b)
    q = (alpha / 2, 1 - alpha / 2)
    la, ha = post_a.ppf(q)
    lb, hb = post_b.ppf(q)
    return BayesResult(prob_b_beats_a=p, mean_a=float(post_a.mean()), low_a=float(la),
                       high_a=float(ha), mean_b=float(post_b.mean()), low_b=float(lb),
                       high_b=float(hb), method=method)


def expected_loss(a_a: float, b_a: float, a_b: float, b_b: float) -> float:
    """E[max(p_A − p_B, 0)]: the rate lost by choosing B (closed form via the same sums)."""
    # E[max(X₁ − X₂, 0)] = E[X₁]·P(X₁' > X₂) − E[X₂]·P(X₁ > X₂'), X' with a shifted by +1
    mean_a, mean_b = a_a / (a_a + b_a), a_b / (a_b + b_b)
    first = prob_greater_exact(a_b, b_b, a_a + 1, b_a)
    second = prob_greater_exact(a_b + 1, b_b, a_a, b_a)
    if first is None or second is None:
        first = prob_greater_numeric(a_b, b_b, a_a + 1, b_a)
        second = prob_greater_numeric(a_b + 1, b_b, a_a, b_a)
    return max(0.0, mean_a * first - mean_b * second)


__all__ = ["BayesResult", "beta_binomial", "expected_loss", "prob_greater_exact",
           "prob_greater_numeric"]
