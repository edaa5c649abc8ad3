"""Per customer and touchpoint: what the touchpoint-level analyses count, per customer.

Grain: one row per (stitched ``customer_id``, ``touchpoint``) with any journey-tagged event
(:func:`touchlens.journeys.journey_events`). Columns:

- ``touches``: events; ``impressions``, ``clicks``: events of those types; ``engagements``:
  events of :data:`~touchlens.store.schema.ENGAGEMENT_EVENT_TYPES`; ``event_cost``: the sum
  of the events' ``cost`` (NULL when none has one);
- ``delivered_units`` / ``opened_units``: the customer's units at the touchpoint — one per
  campaign (NULL campaign: one unit) with a ``delivered`` event / with a ``delivered`` and an
  ``open`` event (the scorecard's open rate); NULL when the customer has neither event there;
- ``messages``: outbound messages (:data:`MESSAGE_TYPES`); ``bursts``: those whose
  (``burst`` − 1)-th previous message to the same customer at the same touchpoint came at
  most ``burst_hours`` earlier (:func:`message_bursts`; the journey map's default rule,
  :data:`BURST` within :data:`BURST_HOURS`); NULL when the customer got no message there;
- ``journeys``: the customer's journeys with a touch (a non-conversion event) at the
  touchpoint; ``converting_journeys``: those that converted; ``influenced_revenue``: their
  revenue (NULL when none converted) — summed over customers, the scorecard's journey
  columns (:func:`touchlens.metrics.touchpoint_journeys`).

A touchpoint's reach (distinct customers) is the number of its rows and every other count
the sum of its rows, so the scorecard's activity and journeys and the journey map's reach
and bursts are sums over ~4M rows at 10M events instead of distinct counts and windows
over every event. On DuckDB the table is stored with the journey cache
(``customer_touchpoints_cache``, see
:meth:`touchlens.workspace.Workspace.customer_touchpoints`) and updated with it; elsewhere
this expression is computed from the journey-tagged events. Either way the analyses read
it the same way.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from touchlens.journeys.paths import journeys
from touchlens.store.schema import ENGAGEMENT_EVENT_TYPES
from touchlens.store.timestamps import epoch_seconds

MESSAGE_TYPES = ("delivered", "send", "impression")
BURST, BURST_HOURS = 3, 24.0  # the journey map's default "same message again" rule
KEY = ["customer_id", "touchpoint"]


def message_bursts(tagged: ir.Table, *, burst: int = BURST,
                   burst_hours: float = BURST_HOURS) -> ir.Table:
    """Per (customer, touchpoint) with messages: ``messages`` and ``bursts`` (a burst = a
    message whose ``burst − 1``-th predecessor to the same customer at the same touchpoint,
    in time then ``event_id`` order, is at most ``burst_hours`` older)."""
    m = tagged.filter(tagged.event_type.isin(MESSAGE_TYPES) & tagged.touchpoint.notnull())
    w = ibis.window(group_by=[m.customer_id, m.touchpoint], order_by=[m.occurred_at,
                                                                      m.event_id])
    m = m.mutate(_prev=m.occurred_at.lag(burst - 1).over(w))
    gap = epoch_seconds(m.occurred_at) - epoch_seconds(m._prev)
    flag = (m._prev.notnull() & (gap <= burst_hours * 3600)).fill_null(False)
    return m.group_by(KEY).agg(messages=m.count(), bursts=flag.cast("int64").sum())


def journey_counts(tagged: ir.Table, journey_table: ir.Table) -> ir.Table:
    """Per (customer, touchpoint) touched outside a conversion: ``journeys``,
    ``converting_journeys``, ``influenced_revenue`` (``journey_table``: the journeys of
    ``tagged``, for their ``converted`` and ``revenue``)."""
    touches = tagged.filter(~tagged.is_conversion)
    pairs = touches.select(*KEY, "journey_id").distinct()
    j = journey_table.select("journey_id", "converted", "revenue")
    both = pairs.join(j, "journey_id")
    return both.group_by(KEY).agg(
        journeys=both.count(),
        converting_journeys=both.converted.cast("int64").sum(),
        influenced_revenue=both.revenue.sum(where=both.converted),
    )


def customer_touchpoints(tagged: ir.Table, journey_table: ir.Table | None = None) -> ir.Table:
    """The per customer and touchpoint counts of the journey-tagged events ``tagged`` (see
    the module docstring); ``journey_table``: their journeys when stored (else computed)."""
    if journey_table is None:
        journey_table = journeys(tagged)
    t = tagged
    et = t.event_type
    counts = t.group_by(KEY).agg(
        touches=t.count(),
        impressions=(et == "impression").cast("int64").sum(),
        clicks=(et == "click").cast("int64").sum(),
        engagements=et.isin(ENGAGEMENT_EVENT_TYPES).cast("int64").sum(),
        event_cost=t.cost.sum(),
    )
    mail = t.filter(et.isin(["delivered", "open"]))
    units = mail.group_by([*KEY, mail.campaign.fill_null("").name("campaign")]).agg(
        delivered=(mail.event_type == "delivered").any(),
        opened=(mail.event_type == "open").any(),
    )
    per_unit = units.group_by(KEY).agg(
        delivered_units=units.delivered.cast("int64").sum(),
        opened_units=(units.delivered & units.opened).cast("int64").sum(),
    )
    out = counts.left_join(per_unit, KEY).select(*counts.columns, "delivered_units",
                                                   "opened_units")
    bursts = message_bursts(tagged)
    out = out.left_join(bursts, KEY).select(*out.columns, "messages", "bursts")
    per_journey = journey_counts(tagged, journey_table)
    out = out.left_join(per_journey, KEY).select(
        *out.columns, journeys=per_journey.journeys.fill_null(0),
        converting_journeys=per_journey.converting_journeys.fill_null(0),
        influenced_revenue=per_journey.influenced_revenue)
    return out
