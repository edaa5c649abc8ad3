"""Fixed-horizon A/B statistics on summary counts (variant A = control, B = treatment).

Every function takes sufficient statistics (successes/trials, or mean/sd/n), so the heavy part
(counting units per variant) stays in Ibis and these formulas serve any backend.

- :func:`two_proportion_ztest`: z = (p̂_B − p̂_A) / √(p̄(1 − p̄)(1/n_A + 1/n_B)) with the pooled
  p̄ = (x_A + x_B)/(n_A + n_B) (as ``statsmodels.stats.proportion.proportions_ztest``); the CI
  of the difference uses the unpooled (Wald) standard error.
- :func:`fisher_exact`: conditional exact test on the 2×2 table (hypergeometric); two-sided
  p = Σ P(k) over tables no more likely than the observed one (relative tolerance 1e-7, as
  ``scipy.stats.fisher_exact``).
- :func:`welch_ttest`: t = (m_B − m_A) / √(s²_A/n_A + s²_B/n_B), Welch–Satterthwaite df.
- :func:`relative_lift` / :func:`mean_lift`: lift = B/A − 1 with a CI by the **delta method on
  the log ratio** (Katz et al. 1978): Var ln(p̂_B/p̂_A) ≈ (1 − p_A)/x_A + (1 − p_B)/x_B, for
  means s²_A/(n_A m²_A) + s²_B/(n_B m²_B); CI = exp(ln ratio ± z·se) − 1 (never below −100 %).
- :func:`srm_test`: sample-ratio mismatch, Pearson χ² of unit counts against the planned split;
  flagged when p < 0.001 (Fabijan et al. 2019, "Diagnosing sample ratio mismatch").

Bayesian P(B > A) is in :mod:`.bayes`, always-valid sequential tests in :mod:`.sequential` and
sample sizes in :mod:`.power`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import special, stats

from touchlens.errors import ConfigError

ALTERNATIVES = ("two-sided", "larger", "smaller")
SRM_THRESHOLD = 0.001


@dataclass(frozen=True)
class Result:
    """Base of the result records: ``as_dict()`` for JSON output."""

    def as_dict(self) -> dict[str, float | str | bool]:
        return asdict(self)


@dataclass(frozen=True)
class ZTest(Result):
    """Two-proportion z-test; ``diff`` = p_B − p_A with its (1 − alpha) Wald CI."""

    rate_a: float
    rate_b: float
    diff: float
    diff_low: float
    diff_high: float
    z: float
    p_value: float
    alternative: str
    method: str = "two-proportion z-test (pooled variance)"


@dataclass(frozen=True)
class FisherTest(Result):
    """Fisher's exact test; ``odds_ratio`` = (x_B (n_A − x_A)) / ((n_B − x_B) x_A)."""

    odds_ratio: float
    p_value: float
    alternative: str
    method: str = "Fisher exact test"


@dataclass(frozen=True)
class WelchTest(Result):
    """Welch's unequal-variance t-test; ``diff`` = m_B − m_A with its (1 − alpha) CI."""

    mean_a: float
    mean_b: float
    diff: float
    diff_low: float
    diff_high: float
    t: float
    df: float
    p_value: float
    alternative: str
    method: str = "Welch t-test"


@dataclass(frozen=True)
class Lift(Result):
    """Relative lift B/A − 1 with a (1 − alpha) CI (delta method on the log ratio)."""

    lift: float
    lift_low: float
    lift_high: float
    method: str = "delta method on log ratio"


@dataclass(frozen=True)
class SRMTest(Result):
    """Sample-ratio-mismatch χ² test of the units per variant."""

    chi2: float
    df: int
    p_value: float
    mismatch: bool
    method: str = "chi-square goodness of fit"


# ---------------------------------------------------------------- validation


def check_alternative(alternative: str) -> None:
    if alternative not in ALTERNATIVES:
        raise ConfigError(f"alternative must be one of {ALTERNATIVES}, not {alternative!r}")


def check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"alpha must be in (0, 1), not {alpha!r}")


def check_counts(x: float, n: float, label: str) -> None:
    """Successes ``x`` and trials ``n``: whole numbers with 0 ≤ x ≤ n and n ≥ 1."""
    for value in (x, n):
        if not float(value).is_integer() or value < 0:
            raise ConfigError(f"{label}: counts must be non-negative whole numbers, got {value!r}")
    if n < 1 or x > n:
        raise ConfigError(f"{label}: need 0 <= successes <= trials and trials >= 1, "
                          f"got {int(x)}/{int(n)}")


def _p_from_z(z: float, alternative: str) -> float:
    if math.isnan(z):
        return math.nan
    if alternative == "two-sided":
        return float(2 * stats.norm.sf(abs(z)))
    return float(stats.norm.sf(z) if alternative == "larger" else stats.norm.cdf(z))


# ---------------------------------------------------------------- proportions


def two_proportion_ztest(x_a: int, n_a: int, x_b: int, n_b: int, *,
                         alternative: str = "two-sided", alpha: float = 0.05) -> ZTest:
    """z-test of p_B vs p_A; ``alternative="larger"`` tests p_B > p_A."""
    check_alternative(alternative)
    check_alpha(alpha)
    check_counts(x_a, n_a, "A")
    check_counts(x_b, n_b, "B")
    pa, pb = x_a / n_a, x_b / n_b
    pooled = (x_a + x_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    z = (pb - pa) / se0 if se0 > 0 else math.nan
    se = math.sqrt(pa * (1 - pa) / n_a + pb * (1 - pb) / n_b)
    half = float(stats.norm.isf(alpha / 2)) * se
    return ZTest(rate_a=pa, rate_b=pb, diff=pb - pa, diff_low=pb - pa - half,
                 diff_high=pb - pa + half, z=z, p_value=_p_from_z(z, alternative),
                 alternative=alternative)


def _hypergeom_logpmf(k: np.ndarray, total: int, successes: int, draws: int) -> np.ndarray:
    """log P(K = k) for K ~ Hypergeometric(total, successes, draws), via log-gamma."""
    def lchoose(n: float, r: np.ndarray | float) -> np.ndarray:
        return special.gammaln(n + 1) - special.gammaln(r + 1) - special.gammaln(n - r + 1)

    return (lchoose(successes, k) + lchoose(total - successes, draws - k)
            - lchoose(total, draws))


def fisher_exact(x_a: int, n_a: int, x_b: int, n_b: int, *,
                 alternative: str = "two-sided") -> FisherTest:
    """Fisher's exact test of the table [[x_B, n_B − x_B], [x_A, n_A − x_A]];
    ``alternative="larger"`` tests p_B > p_A (odds ratio > 1)."""
    check_alternative(alternative)
    check_counts(x_a, n_a, "A")
    check_counts(x_b, n_b, "B")
    x_a, n_a, x_b, n_b = int(x_a), int(n_a), int(x_b), int(n_b)
    total, successes, draws = n_a + n_b, x_a + x_b, n_b
    low, high = max(0, draws - (total - successes)), min(successes, draws)
    k = np.arange(low, high + 1, dtype=np.float64)
    logp = _hypergeom_logpmf(k, total, successes, draws)
    observed = x_b - low
    if alternative == "larger":
        p = np.exp(special.logsumexp(logp[observed:]))
    elif alternative == "smaller":
        p = np.exp(special.logsumexp(logp[: observed + 1]))
    else:
        # tables no more likely than the observed one; 1e-7 guards against rounding ties
        keep = logp <= logp[observed] + math.log1p(1e-7)
        p = np.exp(special.logsumexp(logp[keep]))
    denominator = (n_b - x_b) * x_a
    numerator = x_b * (n_a - x_a)
    if denominator == 0:
        odds = math.nan if numerator == 0 else math.inf
    else:
        odds = numerator / denominator
    return FisherTest(odds_ratio=odds, p_value=float(min(1.0, p)), alternative=alternative)


def relative_lift(x_a: int, n_a: int, x_b: int, n_b: int, *, alpha: float = 0.05) -> Lift:
    """Lift of rate B over rate A; NaN bounds when either arm has no successes."""
    check_alpha(alpha)
    check_counts(x_a, n_a, "A")
    check_counts(x_b, n_b, "B")
    pa, pb = x_a / n_a, x_b / n_b
    if x_a == 0:
        return Lift(lift=math.nan, lift_low=math.nan, lift_high=math.nan)
    if x_b == 0:
        return Lift(lift=-1.0, lift_low=math.nan, lift_high=math.nan)
    se = math.sqrt((1 - pa) / x_a + (1 - pb) / x_b)
    return _log_ratio_lift(pb / pa, se, alpha)


def _log_ratio_lift(ratio: float, se: float, alpha: float) -> Lift:
    z = float(stats.norm.isf(alpha / 2))
    log_ratio = math.log(ratio)
    return Lift(lift=ratio - 1, lift_low=math.exp(log_ratio - z * se) - 1,
                lift_high=math.exp(log_ratio + z * se) - 1)


# ---------------------------------------------------------------- means


def welch_ttest(mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float, n_b: int, *,
                alternative: str = "two-sided", alpha: float = 0.05) -> WelchTest:
    """Welch t-test of mean_B vs mean_A from summary statistics (sample sd, ddof = 1)."""
    check_alternative(alternative)
    check_alpha(alpha)
    if n_a < 2 or n_b < 2:
        raise ConfigError(f"Welch t-test needs at least 2 units per arm, got {n_a} and {n_b}")
    va, vb = sd_a**2 / n_a, sd_b**2 / n_b
    se = math.sqrt(va + vb)
    diff = mean_b - mean_a
    if se == 0:
        t, df, p, half = math.nan, math.nan, math.nan, math.nan
    else:
        t = diff / se
        df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
        if alternative == "two-sided":
            p = 2 * stats.t.sf(abs(t), df)
        else:
            p = stats.t.sf(t, df) if alternative == "larger" else stats.t.cdf(t, df)
        half = float(stats.t.isf(alpha / 2, df)) * se
    return WelchTest(mean_a=mean_a, mean_b=mean_b, diff=diff, diff_low=diff - half,
                     diff_high=diff + half, t=t, df=df, p_value=float(p),
                     alternative=alternative)


def mean_lift(mean_a: float, sd_a: float, n_a: int, mean_b: float, sd_b: float, n_b: int, *,
              alpha: float = 0.05) -> Lift:
    """Lift of mean B over mean A (both means must be positive, else NaN)."""
    check_alpha(alpha)
    if not (mean_a > 0 and mean_b > 0) or n_a < 1 or n_b < 1:
        return Lift(lift=math.nan if mean_a <= 0 else mean_b / mean_a - 1,
                    lift_low=math.nan, lift_high=math.nan)
    se = math.sqrt(sd_a**2 / (n_a * mean_a**2) + sd_b**2 / (n_b * mean_b**2))
    return _log_ratio_lift(mean_b / mean_a, se, alpha)


# ---------------------------------------------------------------- sample ratio mismatch


def srm_test(counts: Sequence[int], weights: Sequence[float] | None = None, *,
             threshold: float = SRM_THRESHOLD) -> SRMTest:
    """χ² = Σ (observed − expected)² / expected with expected = total × weight / Σ weights;
    ``mismatch`` when p < ``threshold`` (default 0.001)."""
    observed = np.asarray(counts, dtype=np.float64)
    if observed.size < 2 or np.any(observed < 0):
        raise ConfigError(f"SRM check needs two or more non-negative counts, got {list(counts)}")
    w = np.ones_like(observed) if weights is None else np.asarray(weights, dtype=np.float64)
    if w.shape != observed.shape or np.any(w <= 0):
        raise ConfigError(f"SRM weights must be positive, one per variant, got {weights}")
    total = observed.sum()
    if total == 0:
        return SRMTest(chi2=math.nan, df=observed.size - 1, p_value=math.nan, mismatch=False)
    expected = total * w / w.sum()
    chi2 = float(((observed - expected) ** 2 / expected).sum())
    p = float(stats.chi2.sf(chi2, observed.size - 1))
    return SRMTest(chi2=chi2, df=observed.size - 1, p_value=p, mismatch=p < threshold)
