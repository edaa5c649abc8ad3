"""Week-on-week changes in AI visibility, raised as alerts of the monitoring layer.

Answers are collected in batches (often weekly), so the test is per week, not a daily CUSUM:
for each brand and metric (``mention_rate``, ``citation_rate``) and each week with at least
``min_answers`` answers, the week's rate p̂ = k/n is compared with the pooled rate of the
previous ``baseline_weeks`` weeks p₀ = K/N (at least ``min_answers`` answers there too) by the
two-proportion z-test with pooled variance,

    z = (p̂ − p₀) / √(p̄ (1 − p̄) (1/n + 1/N)),   p̄ = (k + K)/(n + N),

two-sided. Multiple testing: a week's tests (brands × metrics) share ``alpha`` by Bonferroni,
so |z| must exceed Φ⁻¹(1 − alpha / (2m)). An alert's evidence: observed p̂, expected p₀, the
band p₀ ± 3 √(p₀(1 − p₀)/n) clipped to [0, 1], z, and the threshold. Alerts go to the
``alerts`` table (grain ``week``, touchpoint ``ai_answer``, metric e.g.
``mention_rate:Allegro``), de-duplicated like every alert, and reach the dashboard, webhook and
``touchlens alerts``.
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
from scipy import stats

from touchlens.aivis.mentions import MENTIONS_SCHEMA
from touchlens.aivis.metrics import ai_visibility

METRICS = {"mention_rate": "n_mentioned", "citation_rate": "n_cited"}
TOUCHPOINT = "ai_answer"


def weekly(mentions: pd.DataFrame) -> pd.DataFrame:
    """Per week × brand: answers, n_mentioned, n_cited, rates (Ibis, :mod:`.metrics`)."""
    table = ibis.memtable(mentions, schema=MENTIONS_SCHEMA)
    out = ai_visibility(table, "week").to_pandas()
    out["week"] = pd.to_datetime(out["week"], utc=True)
    return out.sort_values(["brand", "week"]).reset_index(drop=True)


def _message(brand: str, metric: str, row: dict) -> str:
    return (f"AI answers: {metric.replace('_', ' ')} of {brand} {row['direction']} in the week "
            f"of {row['since']:%Y-%m-%d}: {row['observed']:.0%} vs {row['expected']:.0%} in "
            f"the weeks before (band {row['band_low']:.0%} – {row['band_high']:.0%}); "
            f"z = {row['z']:.2f}, |z| > {row['threshold']:.2f}")


def visibility_changes(per_week: pd.DataFrame, *, alpha: float = 0.01, baseline_weeks: int = 4,
                       min_answers: int = 20) -> pd.DataFrame:
    """Alert rows (the monitoring layer's alert columns plus ``message``) for the weeks whose
    rate differs from the previous weeks' (see the module docstring)."""
    rows = []
    for week, group in per_week.groupby("week", sort=True):
        tests = []
        for brand, cur in group.set_index("brand").iterrows():
            hist = per_week[(per_week.brand == brand) & (per_week.week < week)
                            & (per_week.week >= week - pd.Timedelta(weeks=baseline_weeks))]
            n, big_n = float(cur["answers"]), float(hist["answers"].sum())
            if n < min_answers or big_n < min_answers:
                continue
            for metric, count in METRICS.items():
                k, big_k = float(cur[count]), float(hist[count].sum())
                pooled = (k + big_k) / (n + big_n)
                se = math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / big_n))
                if se == 0:
                    continue
                p0 = big_k / big_n
                tests.append((brand, metric, k / n, p0, (k / n - p0) / se, n))
        if not tests:
            continue
        threshold = float(stats.norm.ppf(1 - alpha / (2 * len(tests))))
        for brand, metric, p, p0, z, n in tests:
            if abs(z) <= threshold:
                continue
            half = 3 * math.sqrt(p0 * (1 - p0) / n)
            row = {"grain": "week", "touchpoint": TOUCHPOINT, "metric": f"{metric}:{brand}",
                   "direction": "up" if z > 0 else "down", "since": week, "detected_at": week,
                   "observed": p, "expected": p0, "band_low": max(p0 - half, 0.0),
                   "band_high": min(p0 + half, 1.0), "z": z, "statistic": abs(z),
                   "threshold": threshold,
                   "method": f"two-proportion z-test vs {baseline_weeks} weeks, Bonferroni "
                             f"alpha={alpha:g} over {len(tests)} tests",
                   "active": bool(week == per_week.week.max())}
            row["message"] = _message(brand, metric, row)
            rows.append(row)
    columns = ["grain", "touchpoint", "metric", "direction", "since", "detected_at",
               "observed", "expected", "band_low", "band_high", "z", "statistic", "threshold",
               "method", "active", "message"]
    out = pd.DataFrame(rows, columns=columns)
    if not out.empty:
        out["observed"] = out["observed"].astype(np.float64)
    return out
