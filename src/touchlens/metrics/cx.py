"""Survey scores (DOMAIN.md): NPS, CSAT, CES with n and 95% confidence intervals.

Counts are aggregated in Ibis (:func:`cx_counts`); scores are computed from the counts in
numpy (:func:`cx_scores`), so the same formulas serve any grouping and any backend.

- NPS = 100 × (promoters 9–10 − detractors 0–6) / n, in −100..100. CI: normal approximation
  with the variance of the per-response scores (+1, 0, −1): var = (P + D)/n − nps₀², where
  nps₀ = (P − D)/n; half-width = 1.96 × √(var / n) × 100.
- CSAT = 100 × share of responses 4 or 5 (top-2-box), CI by the Wilson interval;
  ``csat_mean`` (1–5) is the secondary figure.
- CES = mean score (1–7), CI = mean ± 1.96 × s/√n (s: sample standard deviation);
  ``ces_agree`` = 100 × share of 5–7.
- Scores with n < ``MIN_N`` (30) are flagged in ``*_small_n`` columns, never hidden.
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

Z95 = 1.959963984540054
MIN_N = 30


def cx_counts(feedback: ir.Table, by: list[str]) -> ir.Table:
    """Per group: the counts the scores need (one row per group)."""
    return feedback.group_by(by).agg(**cx_aggregates(feedback))


def cx_aggregates(feedback: ir.Table) -> dict[str, ir.Value]:
    """:func:`cx_counts`' aggregates by name, for a grouping that adds others."""
    f = feedback
    return dict(
        nps_n=f.nps.count(),
        nps_promoters=(f.nps >= 9).cast("int64").sum(),
        nps_detractors=(f.nps <= 6).cast("int64").sum(),
        csat_n=f.csat.count(),
        csat_top2=(f.csat >= 4).cast("int64").sum(),
        csat_sum=f.csat.cast("float64").sum(),
        ces_n=f.ces.count(),
        ces_sum=f.ces.cast("float64").sum(),
        ces_sumsq=(f.ces.cast("float64") * f.ces.cast("float64")).sum(),
        ces_agree_n=(f.ces >= 5).cast("int64").sum(),
    )


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b where b > 0, else NaN (float64 arrays)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, a / np.where(b > 0, b, 1.0), np.nan)


def _wilson(successes: np.ndarray, n: np.ndarray, z: float = Z95
            ) -> tuple[np.ndarray, np.ndarray]:
    n = np.where(n > 0, n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = successes / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def wilson(successes: pd.Series, n: pd.Series, z: float = Z95) -> tuple[pd.Series, pd.Series]:
    """Wilson score interval for a proportion (0..1)."""
    low, high = _wilson(successes.to_numpy("float64", na_value=np.nan),
                        n.to_numpy("float64", na_value=np.nan), z)
    return pd.Series(low, index=n.index), pd.Series(high, index=n.index)


_COUNTS = ("nps_n", "nps_promoters", "nps_detractors", "csat_n", "csat_top2", "csat_sum",
           "ces_n", "ces_sum", "ces_sumsq", "ces_agree_n")


def cx_scores(counts: pd.DataFrame) -> pd.DataFrame:
    """Scores from :func:`cx_counts` output; keeps the grouping columns. In numpy arrays: a
    pandas operation per column cost ~25 ms per call, and a journey map makes four."""
    def col(name: str) -> np.ndarray:  # missing counts are 0
        return np.nan_to_num(counts[name].to_numpy("float64", na_value=np.nan), nan=0.0)

    c = {name: col(name) for name in _COUNTS}
    out: dict[str, np.ndarray] = {}
    n = c["nps_n"]
    p, d = _div(c["nps_promoters"], n), _div(c["nps_detractors"], n)
    base = p - d
    with np.errstate(divide="ignore", invalid="ignore"):
        half = Z95 * np.sqrt(np.clip((p + d) - base * base, 0, None) / np.where(n > 0, n, np.nan))
    out["nps"] = 100 * base
    out["nps_low"], out["nps_high"] = 100 * (base - half), 100 * (base + half)
    out["nps_n"] = n.astype("int64")
    out["csat"] = 100 * _div(c["csat_top2"], c["csat_n"])
    low, high = _wilson(c["csat_top2"], c["csat_n"])
    out["csat_low"], out["csat_high"] = 100 * low, 100 * high
    out["csat_mean"] = _div(c["csat_sum"], c["csat_n"])
    out["csat_n"] = c["csat_n"].astype("int64")
    nn = c["ces_n"]
    m = _div(c["ces_sum"], nn)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.clip((c["ces_sumsq"] - nn * m * m) / np.where(nn > 1, nn - 1, np.nan), 0, None)
        se = np.sqrt(var / nn)
    out["ces"] = m
    out["ces_low"], out["ces_high"] = m - Z95 * se, m + Z95 * se
    out["ces_agree"] = 100 * _div(c["ces_agree_n"], nn)
    out["ces_n"] = nn.astype("int64")
    for name in ("nps", "csat", "ces"):
        out[f"{name}_small_n"] = out[f"{name}_n"] < MIN_N
    keys = counts[[k for k in counts.columns if not k.startswith(("nps_", "csat_", "ces_"))]]
    return pd.concat([keys, pd.DataFrame(out, index=counts.index)], axis=1)
