"""Journeys: each customer's time-ordered touches, cut at conversions (Ibis expressions).

Rules (DOMAIN.md):
- Events are ordered by ``occurred_at``, then non-conversions before conversions at the same
  instant, then ``event_id`` (a stable tie-break).
- A conversion event (``purchase``/``signup``) closes the journey it ends; later touches start
  the next journey.
- A conversion journey holds only the touches within ``lookback_days`` before its conversion;
  older touches of the same stretch form a separate journey without conversion.
- Touches after the last conversion form an open journey without conversion (a "null" path).
- ``path``/``channel_path`` join the touchpoints/channels with ``" > "``, consecutive repeats
  collapsed ("web > web > email" → "web > email"); ``n_touches`` counts every touch. A
  conversion with no touch before it has the empty path ``""``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from touchlens.store.schema import CONVERSION_EVENT_TYPES
from touchlens.store.timestamps import epoch_seconds

SEP = " > "


def resolved_events(events: ir.Table, identity_map: ir.Table) -> ir.Table:
    """Events with ``customer_id`` replaced by the stitched customer (grain: one per event).

    ``source_customer_id`` keeps the id the event arrived with. Events whose identifier is not
    in the map (map not refreshed yet) keep their own id, ``anonymous:<id>`` for anonymous ones.
    """
    node_type = ibis.ifelse(events.customer_id.notnull(), "customer", "anonymous")
    node_value = events.customer_id.coalesce(events.anonymous_id)
    keyed = events.mutate(_nt=node_type, _nv=node_value)
    m = identity_map
    joined = keyed.left_join(m, [keyed._nt == m.id_type, keyed._nv == m.id_value])
    own = ibis.ifelse(joined.customer_id.notnull(), joined.customer_id,
                      "anonymous:" + joined.anonymous_id)
    cols = [c for c in events.columns if c != "customer_id"]
    return joined.select(
        *cols,
        customer_id=joined.customer_id_right.coalesce(own),
        source_customer_id=joined.customer_id,
    )


def journey_events(events: ir.Table, lookback_days: float = 30.0) -> ir.Table:
    """Resolved events tagged with ``journey_id`` and ``is_conversion`` (one row per event),
    plus the internal ``_repeat_tp``/``_repeat_ch`` (same touchpoint/channel as the previous
    event of the journey) and ``_step`` (see below)."""
    ev = events.mutate(
        is_conversion=events.event_type.isin(CONVERSION_EVENT_TYPES),
        _conv=events.event_type.isin(CONVERSION_EVENT_TYPES).cast("int64"),
    )
    order = [ev.occurred_at, ev._conv, ev.event_id]
    upto_here = ibis.window(group_by=ev.customer_id, order_by=order, rows=(None, 0))
    ev = ev.mutate(_seq=ev._conv.sum().over(upto_here) - ev._conv)
    stretch = ibis.window(group_by=[ev.customer_id, ev._seq])
    ev = ev.mutate(_conv_at=ev.occurred_at.max(where=ev.is_conversion).over(stretch))
    lookback = ibis.interval(seconds=round(lookback_days * 86400))
    expired = ev._conv_at.notnull() & ~ev.is_conversion & (ev.occurred_at < ev._conv_at - lookback)
    number = ev._seq * 2 + ibis.ifelse(expired, 0, 1)
    ev = ev.mutate(journey_id=ev.customer_id + ":" + number.cast("string"))
    in_journey = ibis.window(group_by=ev.journey_id, order_by=[ev.occurred_at, ev._conv,
                                                              ev.event_id])
    ev = ev.mutate(
        _repeat_tp=ev.touchpoint == ev.touchpoint.lag().over(in_journey),
        _repeat_ch=ev.channel == ev.channel.lag().over(in_journey),
    )
    # _step: position (1, 2 …) in the journey's collapsed path of the step this event is
    # (repeats share the step they repeat; the conversion is a step of its own). Stored with
    # the journey cache, so flows need no window of their own.
    upto = ibis.window(group_by=ev.journey_id, order_by=[ev.occurred_at, ev._conv, ev.event_id],
                       rows=(None, 0))
    ev = ev.mutate(_step=opens_step(ev).cast("int64").sum().over(upto))
    return ev.drop("_conv", "_seq", "_conv_at")


def opens_step(tagged: ir.Table) -> ir.BooleanColumn:
    """Whether each event of :func:`journey_events`' output starts a step of its journey's
    collapsed path: a conversion, or a touch at another touchpoint than the previous one."""
    return tagged.is_conversion | ~tagged._repeat_tp.fill_null(False)


def journeys(tagged: ir.Table) -> ir.Table:
    """One row per journey: journey_id, customer_id, started_at, ended_at, n_touches,
    duration_hours, path, channel_path, converted, conversion_type, conversion_touchpoint,
    revenue (of the conversion; 0 for journeys without one)."""
    t = tagged
    touch = ~t.is_conversion
    step = ibis.struct({"at": t.occurred_at, "id": t.event_id, "tp": t.touchpoint})
    cstep = ibis.struct({"at": t.occurred_at, "id": t.event_id, "ch": t.channel})
    agg = t.group_by(["journey_id", "customer_id"]).agg(
        started_at=t.occurred_at.min(),
        ended_at=t.occurred_at.max(),
        n_touches=touch.cast("int64").sum(),
        converted=t.is_conversion.any(),
        conversion_type=t.event_type.max(where=t.is_conversion),
        conversion_touchpoint=t.touchpoint.max(where=t.is_conversion),
        revenue=t.revenue.sum(where=t.is_conversion),
        _steps=step.collect(where=touch & ~t._repeat_tp.fill_null(False)),
        _csteps=cstep.collect(where=touch & ~t._repeat_ch.fill_null(False)),
    )
    seconds = epoch_seconds(agg.ended_at) - epoch_seconds(agg.started_at)
    return agg.select(
        "journey_id", "customer_id", "started_at", "ended_at", "n_touches",
        duration_hours=seconds.cast("float64") / 3600.0,
        path=agg._steps.sort().map(lambda s: s.tp).join(SEP).fill_null(""),
        channel_path=agg._csteps.sort().map(lambda s: s.ch).join(SEP).fill_null(""),
        converted="converted",
        conversion_type="conversion_type",
        conversion_touchpoint="conversion_touchpoint",
        revenue=agg.revenue.fill_null(0.0),
    )


def top_paths(journey_table: ir.Table, *, top: int = 10, converting_only: bool = False,
              level: str = "touchpoint") -> ir.Table:
    """Most frequent paths: path, n_journeys, n_conversions, conversion_rate, revenue.

    conversion_rate = converting journeys / journeys with that path (0..1).
    """
    column = {"touchpoint": "path", "channel": "channel_path"}[level]
    j = journey_table
    if converting_only:
        j = j.filter(j.converted)
    grouped = j.group_by(path=j[column]).agg(
        n_journeys=j.count(),
        n_conversions=j.converted.cast("int64").sum(),
        revenue=j.revenue.sum(),
    )
    ranked = grouped.mutate(conversion_rate=grouped.n_conversions / grouped.n_journeys)
    ranked = ranked.order_by([ibis.desc("n_journeys"), ibis.desc("n_conversions"), "path"])
    return ranked.select("path", "n_journeys", "n_conversions", "conversion_rate",
                         "revenue").limit(top)
