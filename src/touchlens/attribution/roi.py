"""Return on spend from attributed credit, and a bounded budget-reallocation suggestion.

Grain: one row per label (channel or touchpoint) with credit or spend. Columns:

- ``spend``: from the ``costs`` table where the label has rows there, otherwise the sum of
  event-level ``cost`` (never both, as in the scorecard); ``spend_share`` of total spend;
- ``conversions``, ``revenue``: attributed by the chosen model; ``revenue_share``;
- ``cpa`` = spend / attributed conversions; ``roas`` = attributed revenue / spend (NaN
  without spend or credit);
- ``suggested_spend``, ``suggested_change`` (= suggested − current), ``suggested_change_pct``.

Suggestion rule (budget-neutral, bounded): for labels with spend, multiplier
m = clip(ROAS / portfolio ROAS, 1 − max_change, 1 + max_change); suggested = spend · m ·
s with one common scale s chosen so the total spend is unchanged, each label still within
±max_change of its current spend. It is a suggestion, not an optimum. Assumptions: the
attribution credit is incremental (only the counterfactual model estimates that); the
average ROAS stands in for the marginal ROAS (returns do not saturate within ±max_change);
one period; spend and revenue in one currency.
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.errors import ConfigError

ROI_TAIL = ("spend", "spend_share", "conversions", "revenue", "revenue_share", "cpa", "roas",
            "suggested_spend", "suggested_change", "suggested_change_pct")
ASSUMPTIONS = (
    "Suggestion only: budget-neutral; each spend moves at most ±{pct:.0%}, towards labels "
    "whose attributed ROAS beats the portfolio's. Assumes the credit is incremental (true "
    "only as far as the model is: prefer the counterfactual model), that average ROAS stands "
    "in for marginal ROAS within that band, and one currency."
)


def spend_exprs(costs: ir.Table, events: ir.Table, level: str) -> tuple[ir.Table, ir.Table]:
    """(spend per label from ``costs``, event cost per label) as Ibis tables."""
    if level == "channel":
        c_label, e_label = costs.channel, events.channel
    else:
        c_label = costs.touchpoint.coalesce(costs.channel)
        e_label = events.touchpoint.coalesce(events.channel)
    table = costs.group_by(label=c_label).agg(spend=costs.spend.sum())
    ev = events.filter(events.cost.notnull())
    event = ev.group_by(label=e_label).agg(spend=ev.cost.sum())
    return table, event


def combine_spend(table: pd.DataFrame, event: pd.DataFrame) -> pd.Series:
    """Spend per label: the costs table where it has the label, else event cost."""
    t = table.dropna(subset=["label"]).set_index("label")["spend"].astype(float)
    e = event.dropna(subset=["label"]).set_index("label")["spend"].astype(float)
    return pd.concat([t, e[~e.index.isin(t.index)]])


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    return a.astype(float) / b.astype(float).where(b > 0)


def reallocate(spend: np.ndarray, roas: np.ndarray, max_change: float) -> np.ndarray:
    """Budget-neutral bounded shift towards above-average ROAS (see the module docstring)."""
    spend = np.asarray(spend, dtype=float)
    total = spend.sum()
    if total <= 0:
        return spend.copy()
    portfolio = np.nansum(roas * spend) / total
    ratio = np.where(np.isfinite(roas), roas, 0.0) / portfolio if portfolio > 0 else \
        np.ones_like(spend)
    low, high = spend * (1 - max_change), spend * (1 + max_change)
    target = spend * np.clip(ratio, 1 - max_change, 1 + max_change)
    lo_s, hi_s = 0.0, 1e6  # bisection on the common scale: Σ clip(target · s) = total
    for _ in range(200):
        mid = (lo_s + hi_s) / 2
        if np.clip(target * mid, low, high).sum() < total:
            lo_s = mid
        else:
            hi_s = mid
    return np.clip(target * hi_s, low, high)


def roi_table(credit: pd.DataFrame, spend: pd.Series, level: str, *,
              max_change: float = 0.2) -> pd.DataFrame:
    """ROI rows from one model's credit (label column ``level``) and spend per label."""
    if not 0 < max_change < 1:
        raise ConfigError(f"max_change must be in (0, 1), got {max_change!r}")
    c = credit.set_index(level)[["conversions", "revenue"]]
    c = c[~c.index.str.startswith("(")]
    labels = c.index.union(spend.index)
    df = pd.DataFrame(index=labels)
    df["spend"] = spend.reindex(labels).fillna(0.0)
    df["conversions"] = c["conversions"].reindex(labels).fillna(0.0)
    df["revenue"] = c["revenue"].reindex(labels).fillna(0.0)
    total_spend = df["spend"].sum()
    df["spend_share"] = df["spend"] / total_spend if total_spend > 0 else np.nan
    total_rev = df["revenue"].sum()
    df["revenue_share"] = df["revenue"] / total_rev if total_rev else np.nan
    df["cpa"] = _ratio(df["spend"], df["conversions"])
    df["roas"] = _ratio(df["revenue"], df["spend"])
    paid = df["spend"] > 0
    df["suggested_spend"] = np.nan
    if paid.any():
        df.loc[paid, "suggested_spend"] = reallocate(df.loc[paid, "spend"].to_numpy(),
                                                     df.loc[paid, "roas"].to_numpy(),
                                                     max_change)
    df["suggested_change"] = df["suggested_spend"] - df["spend"].where(paid)
    df["suggested_change_pct"] = _ratio(df["suggested_change"], df["spend"])
    df = df.rename_axis(level).reset_index()
    df = df.sort_values(["spend", "revenue", level], ascending=[False, False, True])
    out = df[[level, *ROI_TAIL]].reset_index(drop=True)
    out.attrs["assumptions"] = ASSUMPTIONS.format(pct=max_change)
    return out
