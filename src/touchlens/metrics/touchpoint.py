"""Touchpoint scorecard (DOMAIN.md formulas). Grain: one row per touchpoint.

Columns and definitions:
- ``reach``: distinct (stitched) customers with any event at the touchpoint.
- ``touches``: events at the touchpoint; ``impressions``, ``clicks``: events of those types.
- ``ctr`` = clicks / impressions (NaN without impressions).
- ``engagement_rate`` = engagements (click, engagement, review, mention events) / reach.
- ``open_rate`` = unique opens / delivered, where a unit is a (customer, campaign) pair and
  only opens of delivered units count (so it stays within 0..1).
- ``journeys``: journeys containing the touchpoint; ``converting_journeys``: those that
  converted; ``conversion_rate`` = converting_journeys / journeys.
- ``cost``: spend from the ``costs`` table when the touchpoint has any there, otherwise the sum
  of event-level ``cost`` (never both, to avoid double counting).
- ``influenced_revenue``: revenue of the converting journeys containing the touchpoint (each
  journey counted once per touchpoint; the sum over touchpoints exceeds total revenue — this is
  a reach view, not attribution).
- ``cost_per_converting_journey`` = cost / converting_journeys.
"""

from __future__ import annotations

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.journeys.touchpoints import journey_counts


def touchpoint_activity(per_customer: ir.Table) -> ir.Table:
    """Event and journey counts per touchpoint from the counts per customer and touchpoint
    (:func:`touchlens.journeys.customer_touchpoints`): reach = its rows (distinct
    customers), every other count the sum of its rows (``journeys``,
    ``converting_journeys``, ``influenced_revenue``: as :func:`touchpoint_journeys`, a
    customer's journeys being theirs alone)."""
    p = per_customer
    return p.group_by("touchpoint").agg(
        reach=p.count(),
        touches=p.touches.sum(),
        impressions=p.impressions.sum(),
        clicks=p.clicks.sum(),
        engagements=p.engagements.sum(),
        event_cost=p.event_cost.sum(),
        delivered_units=p.delivered_units.sum(),
        opened_units=p.opened_units.sum(),
        journeys=p.journeys.sum(),
        converting_journeys=p.converting_journeys.sum(),
        influenced_revenue=p.influenced_revenue.sum(),
    )


def touchpoint_journeys(tagged: ir.Table, journey_table: ir.Table) -> ir.Table:
    """Journeys (all / converting) and influenced revenue per touchpoint: the per customer
    counts of :func:`touchlens.journeys.touchpoints.journey_counts` summed (a journey is
    one customer's)."""
    c = journey_counts(tagged, journey_table)
    return c.group_by("touchpoint").agg(
        journeys=c.journeys.sum(),
        converting_journeys=c.converting_journeys.sum(),
        influenced_revenue=c.influenced_revenue.sum(),
    )


def touchpoint_spend(costs: ir.Table) -> ir.Table:
    return costs.group_by(touchpoint=costs.touchpoint.coalesce(costs.channel)).agg(
        spend=costs.spend.sum())


def _ratio(a: pd.Series, b: pd.Series) -> pd.Series:
    a = a.astype("float64")
    b = b.astype("float64")
    return a / b.where(b > 0)


def scorecard_frame(catalogue: pd.DataFrame, activity: pd.DataFrame, journeys: pd.DataFrame,
                    spend: pd.DataFrame, cx: pd.DataFrame) -> pd.DataFrame:
    """Join the per-touchpoint aggregates (small) and compute the ratios."""
    cat = catalogue[["touchpoint", "channel", "stage", "medium", "control", "cost_type"]]
    df = activity.merge(cat, on="touchpoint", how="left")
    df = df.merge(journeys, on="touchpoint", how="left").merge(spend, on="touchpoint", how="left")
    df = df.merge(cx, on="touchpoint", how="left")
    for col in ("journeys", "converting_journeys"):
        df[col] = df[col].fillna(0).astype("int64")
    df["influenced_revenue"] = df["influenced_revenue"].fillna(0.0)
    df["ctr"] = _ratio(df.clicks, df.impressions)
    df["engagement_rate"] = _ratio(df.engagements, df.reach)
    df["open_rate"] = _ratio(df.opened_units, df.delivered_units)
    df["conversion_rate"] = _ratio(df.converting_journeys, df.journeys)
    df["cost"] = np.where(df.spend.notna(), df.spend, df.event_cost.fillna(0.0))
    df["cost_per_converting_journey"] = _ratio(df.cost, df.converting_journeys)
    for col in ("csat_n", "nps_n", "ces_n"):
        df[col] = df[col].fillna(0).astype("int64")
    cols = ["touchpoint", "channel", "stage", "medium", "control", "cost_type", "reach",
            "touches", "impressions", "clicks", "ctr", "engagements", "engagement_rate",
            "open_rate", "journeys", "converting_journeys", "conversion_rate", "cost",
            "influenced_revenue", "cost_per_converting_journey", "csat", "csat_n", "nps",
            "nps_n", "ces", "ces_n"]
    stage_rank = {s: i for i, s in enumerate(("awareness", "consideration", "purchase",
                                              "retention", "advocacy"))}
    df = df.assign(_o=df.stage.map(stage_rank)).sort_values(["_o", "touches"],
                                                             ascending=[True, False])
    return df[cols].reset_index(drop=True)


