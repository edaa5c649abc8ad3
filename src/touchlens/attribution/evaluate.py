"""Score attribution results against a known truth (the simulator's incremental shares).

A model's shares for scoring: its credit per real label (``(none)`` and ``(baseline)``
dropped, negative credit set to 0), normalised to sum 1. Truth: ``true_share`` per label
(labels missing from either side count as 0). Total-variation distance

    TV = ½ Σ_label |share_model − share_true|   (0 = identical, 1 = disjoint),

equal to half the share-weighted MAPE Σ|p − q| / Σ q.
"""

from __future__ import annotations

import pandas as pd


def model_shares(result: pd.DataFrame, level: str) -> dict[str, pd.Series]:
    """Per model: credit shares over real labels (clipped at 0, summing to 1)."""
    out: dict[str, pd.Series] = {}
    for model, g in result.groupby("model", sort=False):
        g = g[~g[level].astype(str).str.startswith("(")]
        credit = g.groupby(level)["conversions"].sum().clip(lower=0.0)
        total = credit.sum()
        out[str(model)] = credit / total if total > 0 else credit
    return out


def tv_distance(p: pd.Series, q: pd.Series) -> float:
    """½ Σ |p − q| over the union of labels (missing = 0)."""
    idx = p.index.union(q.index)
    return float(0.5 * (p.reindex(idx, fill_value=0.0)
                        - q.reindex(idx, fill_value=0.0)).abs().sum())


def score(result: pd.DataFrame, truth: pd.DataFrame, level: str) -> pd.DataFrame:
    """One row per model: model, tv_distance (to ``truth[level] → true_share``)."""
    q = truth.groupby(level)["true_share"].sum().astype(float)
    rows = [(m, tv_distance(p, q)) for m, p in model_shares(result, level).items()]
    return pd.DataFrame(rows, columns=["model", "tv_distance"])
