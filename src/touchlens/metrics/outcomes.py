"""Journey outcomes without the paths: what the headline KPIs and the daily trend need.

Grain: one row per journey — journey_id, customer_id, started_at, ended_at, converted,
revenue (of the conversion; 0 without one) — the same values as those columns of
:func:`touchlens.journeys.journeys`, without collecting and sorting every journey's touches
into its path (the costly part of that table: ~10× slower on 1M events).
"""

from __future__ import annotations

import ibis.expr.types as ir

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
