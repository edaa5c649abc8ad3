"""Journey outcomes without the paths: what the headline KPIs and the daily trend need.

Grain: one row per journey — journey_id, customer_id, started_at, ended_at, converted,
revenue (of the conversion; 0 without one) — the same values as those columns of
:func:`touchlens.journeys.journeys`, without collecting and sorting every journey's touches
into its path (the costly part of that table: ~10× slower on 1M events).

The overview's numbers aggregate them in the engine: :func:`daily_outcomes` (the trend
chart) and :func:`outcome_totals` (the KPI tiles), so only their few rows leave it.
"""

from __future__ import annotations

import ibis.expr.types as ir

from touchlens.store.timestamps import utc_floor

OUTCOME_COLUMNS = ("journey_id", "customer_id", "started_at", "ended_at", "converted",
                   "revenue")


def journey_outcomes(tagged: ir.Table) -> ir.Table:
    """One row per journey of the journey-tagged events ``tagged`` (see the module
    docstring), ordered like ``Workspace.journeys()`` (customer, start, journey)."""
    t = tagged
    agg = t.group_by(["journey_id", "customer_id"]).agg(
        started_at=t.occurred_at.min(),
        ended_at=t.occurred_at.max(),
        converted=t.is_conversion.any(),
        revenue=t.revenue.sum(where=t.is_conversion),
    )
    out = agg.select(*OUTCOME_COLUMNS[:5], revenue=agg.revenue.fill_null(0.0))
    return out.order_by(["customer_id", "started_at", "journey_id"])


def daily_outcomes(outcomes: ir.Table) -> ir.Table:
    """Per UTC day of a journey's end (``day``, a timestamp at 00:00 UTC): ``n_journeys``,
    ``n_conversions`` (converting journeys) and ``revenue`` (sum of their conversions'
    revenue), ordered by day. ``outcomes``: :func:`journey_outcomes` or the stored journeys
    (any table with ``ended_at``, ``converted`` and ``revenue``). Days in integer arithmetic
    (:func:`touchlens.store.timestamps.utc_floor`, not DuckDB's calendar functions)."""
    t = outcomes
    return t.group_by(day=utc_floor(t.ended_at, "D")).agg(
        n_journeys=t.count(),
        n_conversions=t.converted.cast("int64").sum(),
        revenue=t.revenue.sum(),
    ).order_by("day")


def outcome_totals(outcomes: ir.Table) -> ir.Table:
    """One row over all journeys: ``journeys``, ``conversions`` (converting journeys) and
    ``revenue``; the sums are NULL when there is no journey."""
    t = outcomes
    return t.aggregate(journeys=t.count(), conversions=t.converted.cast("int64").sum(),
                       revenue=t.revenue.sum())
