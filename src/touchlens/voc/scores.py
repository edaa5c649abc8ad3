"""Survey scores (NPS, CSAT, CES) by touchpoint, channel, stage, segment, language or
sentiment, per period (week / month / quarter), and the significance of changes between
consecutive periods.

Counts are Ibis aggregations (:func:`touchlens.metrics.cx.cx_counts`, any backend); scores and
their 95% CIs come from :func:`touchlens.metrics.cx.cx_scores` (n < 30 flagged in
``*_small_n``). Period = start of the UTC calendar week (Monday) / month / quarter.

Change tests between period t−1 and t (two-sided, α = 0.05), named in the ``test`` column:

- NPS: z = (NPS₂ − NPS₁) / √(v₁/n₁ + v₂/n₂), v = (P + D)/n − ((P − D)/n)², the variance of the
  per-response scores +1 / 0 / −1;
- CSAT (top-2-box): pooled two-proportion z-test, p̂ = (x₁ + x₂)/(n₁ + n₂),
  z = (p₂ − p₁) / √(p̂(1 − p̂)(1/n₁ + 1/n₂));
- CES: Welch's t-test on the means, Welch–Satterthwaite degrees of freedom.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from touchlens.errors import ConfigError
from touchlens.metrics.cx import MIN_N, cx_counts, cx_scores

PERIODS = {"week": "W", "month": "M", "quarter": "Q"}
ALPHA = 0.05
TESTS = {
    "nps": "NPS difference z-test (variance of +1/0/−1 scores)",
    "csat": "two-proportion z-test (pooled), CSAT top-2-box",
    "ces": "Welch t-test on mean CES",
}
CHANGE_COLUMNS = ("metric", "period", "previous_period", "value", "previous_value", "delta",
                  "n", "previous_n", "test", "statistic", "p_value", "significant", "small_n")


def with_period(feedback: ir.Table, period: str | None) -> ir.Table:
    """``feedback`` with a ``period`` column (start date of its week/month/quarter)."""
    if period is None:
        return feedback
    if period not in PERIODS:
        raise ConfigError(f"period must be one of {sorted(PERIODS)}, not {period!r}")
    return feedback.mutate(period=feedback.occurred_at.truncate(PERIODS[period]).date())


def score_counts(feedback: ir.Table, by: list[str], period: str | None = None) -> ir.Table:
    """Per group (and period): the counts of :func:`cx_counts` (lazy Ibis table)."""
    keys = [*by, *(["period"] if period else [])]
    missing = [k for k in by if k not in feedback.columns]
    if missing:
        raise ConfigError(f"cannot group feedback by {missing}; available: {feedback.columns}")
    t = with_period(feedback, period)
    if not keys:
        t = t.mutate(all=ibis.literal("all"))
        keys = ["all"]
    return cx_counts(t, keys)


def scores_frame(counts: pd.DataFrame, by: list[str], period: str | None = None) -> pd.DataFrame:
    """NPS/CSAT/CES with n, CI and small-n flags per group, sorted by group then period."""
    out = cx_scores(_dates(counts))
    order = [k for k in [*by, "period"] if k in out.columns] or list(out.columns[:1])
    return out.sort_values(order, kind="stable", na_position="last").reset_index(drop=True)


def _dates(counts: pd.DataFrame) -> pd.DataFrame:
    """``period`` as ``datetime.date`` (engines return dates or midnight timestamps)."""
    if "period" not in counts.columns:
        return counts
    return counts.assign(period=pd.to_datetime(counts["period"]).dt.date)


def _norm_p(z: np.ndarray) -> np.ndarray:
    return 2 * stats.norm.sf(np.abs(z))


def _nps_test(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, ...]:
    def parts(c: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = c.nps_n.to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            p, d = c.nps_promoters.to_numpy(float) / n, c.nps_detractors.to_numpy(float) / n
        return 100 * (p - d), np.clip((p + d) - (p - d) ** 2, 0, None), n

    v1, var1, n1 = parts(a)
    v2, var2, n2 = parts(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (v2 - v1) / (100 * np.sqrt(var1 / n1 + var2 / n2))
    return v1, v2, n1, n2, z, _norm_p(z)


def _csat_test(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, ...]:
    x1, n1 = a.csat_top2.to_numpy(float), a.csat_n.to_numpy(float)
    x2, n2 = b.csat_top2.to_numpy(float), b.csat_n.to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = x1 / n1, x2 / n2
        pooled = (x1 + x2) / (n1 + n2)
        z = (p2 - p1) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 100 * p1, 100 * p2, n1, n2, z, _norm_p(z)


def _ces_test(a: pd.DataFrame, b: pd.DataFrame) -> tuple[np.ndarray, ...]:
    def parts(c: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = c.ces_n.to_numpy(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            m = c.ces_sum.to_numpy(float) / n
            var = (c.ces_sumsq.to_numpy(float) - n * m * m) / (n - 1)
        return m, np.clip(var, 0, None), n

    m1, s1, n1 = parts(a)
    m2, s2, n2 = parts(b)
    with np.errstate(invalid="ignore", divide="ignore"):
        se1, se2 = s1 / n1, s2 / n2
        t = (m2 - m1) / np.sqrt(se1 + se2)
        df = (se1 + se2) ** 2 / (se1**2 / (n1 - 1) + se2**2 / (n2 - 1))
    p = 2 * stats.t.sf(np.abs(t), df)
    return m1, m2, n1, n2, t, p


_TEST_FUNCS = {"nps": _nps_test, "csat": _csat_test, "ces": _ces_test}


def period_changes(counts: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """One row per group × period (after the group's first) × metric: the change from the
    previous period with its test, statistic, p-value and ``significant`` (p < 0.05);
    ``small_n`` when either period has n < 30. Columns: ``by`` + :data:`CHANGE_COLUMNS`."""
    c = _dates(counts).sort_values([*by, "period"], kind="stable").reset_index(drop=True)
    c = c.fillna({k: 0 for k in c.columns if k.startswith(("nps_", "csat_", "ces_"))})
    prev = c.groupby(by, sort=False, dropna=False).shift(1) if by else c.shift(1)
    has_prev = prev["period"].notna().to_numpy()
    a, b = prev.loc[has_prev].reset_index(drop=True), c.loc[has_prev].reset_index(drop=True)
    frames = []
    for metric, test in _TEST_FUNCS.items():
        v1, v2, n1, n2, stat, p = test(a, b)
        keep = (n1 > 0) & (n2 > 0)
        f = b.loc[keep, by].copy() if by else pd.DataFrame(index=b.index[keep])
        f["metric"] = metric
        f["period"] = b.loc[keep, "period"].to_numpy()
        f["previous_period"] = a.loc[keep, "period"].to_numpy()
        f["value"], f["previous_value"] = v2[keep], v1[keep]
        f["delta"] = v2[keep] - v1[keep]
        f["n"], f["previous_n"] = n2[keep].astype("int64"), n1[keep].astype("int64")
        f["test"] = TESTS[metric]
        f["statistic"], f["p_value"] = stat[keep], p[keep]
        f["significant"] = np.nan_to_num(p[keep], nan=1.0) < ALPHA
        f["small_n"] = (n1[keep] < MIN_N) | (n2[keep] < MIN_N)
        frames.append(f)
    columns = [*by, *CHANGE_COLUMNS]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values([*by, "metric", "period"], kind="stable")[columns].reset_index(
        drop=True)
