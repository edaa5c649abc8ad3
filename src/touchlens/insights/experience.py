"""Experience units: who had a bad and who had a good experience at a touchpoint and when.

Grain: one row per (customer_id, touchpoint, signal) with ``bad`` (bool) and
``experienced_at`` — the first bad experience of that kind there, or, for a customer without
one, the first good one.
Signals:

- ``score``: a survey answer about the touchpoint. Bad = CSAT ≤ ``csat_bad`` (2) or CES ≤
  ``ces_bad`` (3); good = no bad score and CSAT ≥ 4 / CES ≥ 5 where given; other answers
  (CSAT 3, CES 4, NPS only) are neither and stay out.
- ``error:<kind>``: an event at the touchpoint whose JSON ``attributes`` record an
  operational failure — ``"error": "<kind>"`` (e.g. ``payment_failed``, ``app_crash``) or
  ``"late": true`` (kind ``late``). Good = customers with events there and no failure.
- ``support``: contacting support — an event of type ``support_contact``/``chat``/``call``
  at a ``retention``-stage touchpoint (support chat, call center) — is the bad experience,
  counted at that touchpoint. Good = buyers with a conversion not followed by any support
  contact within ``support_days`` (7), at the time of that conversion.
- ``sentiment``: a comment about the touchpoint whose sentiment is negative (bad) or positive
  (good) — from the voice-of-customer results when they are given (``sentiment`` table with
  ``response_id`` and ``sentiment`` = negative|neutral|positive).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.insights.inputs import stage_of
from touchlens.journeys.rollups import Rollup, register

SUPPORT_EVENT_TYPES = ("support_contact", "chat", "call")
ERROR_KIND = r'"error"\s*:\s*"([^"]+)"'
LATE = r'"late"\s*:\s*true'
UNIT_COLUMNS = ("customer_id", "touchpoint", "signal", "bad", "experienced_at")
# what a unit's outcomes are read from, whatever the follow-up windows (see outcome_pieces)
PIECES = ("prior", "next_conversion_at", "segment")


def _units(rows: ir.Table) -> ir.Table:
    """Collapse (customer_id, touchpoint, signal, bad, at) rows to one unit each."""
    g = rows.group_by(["customer_id", "touchpoint", "signal"]).agg(
        bad=rows.bad.any(),
        _first_bad=rows.experienced_at.min(where=rows.bad),
        _first_good=rows.experienced_at.min(where=~rows.bad),
    )
    return g.select("customer_id", "touchpoint", "signal", "bad",
                    experienced_at=ibis.ifelse(g.bad, g._first_bad, g._first_good))


def conversion_times(events: ir.Table) -> ir.Table:
    """Per customer and conversion event: ``occurred_at``."""
    conv = events.filter(events.is_conversion)
    return conv.select("customer_id", "event_id", "occurred_at")


def acquisition_channels(events: ir.Table) -> ir.Table:
    """Per customer: ``segment``, the acquisition channel — the channel of the customer's
    first event (ties: the smallest event_id)."""
    first = ibis.struct({"at": events.occurred_at, "id": events.event_id})
    return events.group_by("customer_id").agg(segment=events.channel.argmin(first))


def outcome_pieces(rows: ir.Table, at: str, conversions: ir.Table,
                   acquisition: ir.Table) -> ir.Table:
    """``rows`` (one per key, with ``customer_id``) and, at their time column ``at``:
    ``prior`` — the customer's conversions up to then, inclusive —, ``next_conversion_at`` —
    their first conversion after it (NULL: none) — and ``segment``, their acquisition
    channel. ``conversions``: :func:`conversion_times`;
    ``acquisition``: :func:`acquisition_channels`. A unit's outcomes are read from these
    whatever the follow-up windows: a conversion within d days after the experience ⇔
    ``next_conversion_at`` ≤ at + d (:mod:`.moments`)."""
    c = conversions.select(_c="customer_id", _cat="occurred_at")
    j = rows.left_join(c, rows.customer_id == c._c)
    g = j.group_by(list(rows.columns)).agg(
        prior=(j._cat <= j[at]).cast("int64").sum().fill_null(0),
        next_conversion_at=j._cat.min(where=j._cat > j[at]))
    a = acquisition.select(_ac="customer_id", _seg="segment")
    g = g.left_join(a, g.customer_id == a._ac)
    return g.select(*rows.columns, "prior", "next_conversion_at",
                    segment=g._seg.cast("string"))


def with_pieces(build: Callable[..., ir.Table], at: str) -> Callable[..., ir.Table]:
    """``build(events, *args)`` with the :func:`outcome_pieces` of its rows at their time
    column ``at``, read from the same customers' events (the stored parts of the units)."""

    def built(events: ir.Table, *args: Any) -> ir.Table:
        return outcome_pieces(build(events, *args), at, conversion_times(events),
                              acquisition_channels(events))

    return built


def score_units(feedback: ir.Table, *, csat_bad: int = 2, ces_bad: int = 3) -> ir.Table:
    """Units from survey scores (feedback with stitched ``customer_id``)."""
    f = feedback.filter(feedback.touchpoint.notnull() & feedback.customer_id.notnull())
    bad = (f.csat <= csat_bad).fill_null(False) | (f.ces <= ces_bad).fill_null(False)
    good = (~bad & (f.csat.notnull() | f.ces.notnull())
            & (f.csat.isnull() | (f.csat >= 4)) & (f.ces.isnull() | (f.ces >= 5)))
    f = f.filter(bad | good)
    rows = f.select("customer_id", "touchpoint", signal=ibis.literal("score"),
                    bad=bad, experienced_at=f.occurred_at)
    return _units(rows)


def sentiment_units(feedback: ir.Table, sentiment: ir.Table) -> ir.Table:
    """Units from comment sentiment (``sentiment``: response_id, sentiment label)."""
    s = sentiment.select(_rid="response_id", _label=sentiment.sentiment.cast("string").lower())
    f = feedback.filter(feedback.touchpoint.notnull() & feedback.customer_id.notnull())
    j = f.join(s, f.response_id == s._rid)
    j = j.filter(j._label.isin(["negative", "positive"]))
    rows = j.select("customer_id", "touchpoint", signal=ibis.literal("sentiment"),
                    bad=j._label == "negative", experienced_at=j.occurred_at)
    return _units(rows)


def failure_kind(attributes: ir.StringValue) -> ir.StringValue:
    """The failure an event's JSON ``attributes`` record: ``late`` or the ``error`` value;
    NULL when none (see the module docstring)."""
    # A substring test first: the regular expressions then run on the few rows that can
    # match (NULL attributes match nothing), ~6x less time over 10M events.
    late = attributes.contains('"late"') & attributes.re_search(LATE)
    error = attributes.contains('"error"') & attributes.re_search(ERROR_KIND)
    return ibis.cases((late.fill_null(False), "late"),
                      (error.fill_null(False), attributes.re_extract(ERROR_KIND, 1)),
                      else_=ibis.null().cast("string"))


def failures(events: ir.Table) -> ir.Table:
    """Per (customer_id, touchpoint, signal ``error:<kind>``): ``experienced_at``, the first
    such failure there."""
    e = events.filter(events.touchpoint.notnull())
    e = e.mutate(_kind=failure_kind(e.attributes))
    f = e.filter(e._kind.notnull())
    return f.group_by(["customer_id", "touchpoint", ("error:" + f._kind).name("signal")]).agg(
        experienced_at=f.occurred_at.min())


def touch_firsts(events: ir.Table) -> ir.Table:
    """Per (customer_id, touchpoint): ``first_at`` (the first event there) and ``failed``
    (any failure there)."""
    e = events.filter(events.touchpoint.notnull())
    return e.group_by(["customer_id", "touchpoint"]).agg(
        first_at=e.occurred_at.min(), failed=failure_kind(e.attributes).notnull().any())


def _pieces_in(rows: ir.Table) -> list[str]:
    return [c for c in PIECES if c in rows.columns]


def error_units_from(failed: ir.Table, firsts: ir.Table) -> ir.Table:
    """Error units from :func:`failures` and :func:`touch_firsts` (of the same events, both
    with their outcome pieces or neither): bad at each failure; good for every customer at
    a touchpoint with some failure of that kind who had none there, at their first event
    there. One row per unit as they are: no good row where the customer had a failure."""
    kinds = failed.select("touchpoint", "signal").distinct()
    extra = _pieces_in(failed)
    bad_rows = failed.mutate(bad=ibis.literal(True)).select(*UNIT_COLUMNS, *extra)
    ok = firsts.filter(~firsts.failed & firsts.touchpoint.isin(kinds.touchpoint))
    good_rows = ok.join(kinds, "touchpoint").mutate(
        bad=ibis.literal(False), experienced_at=ok.first_at).select(*UNIT_COLUMNS, *extra)
    return bad_rows.union(good_rows, distinct=False)


def error_units(events: ir.Table) -> ir.Table:
    """Units from failures recorded in event attributes (one signal per failure kind)."""
    return error_units_from(failures(events), touch_firsts(events))


def support_touchpoints(catalogue: pd.DataFrame) -> list[str]:
    """The touchpoints where contacting support counts: the ``retention``-stage ones."""
    return sorted(tp for tp, s in stage_of(catalogue).items() if s == "retention")


def _contacts(events: ir.Table, touchpoints: Sequence[str]) -> ir.Table:
    """The support contacts among ``events``: a contact event type at one of
    ``touchpoints``."""
    return events.filter(events.event_type.isin(SUPPORT_EVENT_TYPES)
                         & events.touchpoint.isin(list(touchpoints) or [""]))


def support_contacts(events: ir.Table, touchpoints: Sequence[str]) -> ir.Table:
    """Per (customer_id, touchpoint) contacted: ``experienced_at``, the first contact."""
    contacts = _contacts(events, touchpoints)
    return contacts.group_by(["customer_id", "touchpoint"]).agg(
        experienced_at=contacts.occurred_at.min())


def quiet_buyers(events: ir.Table, touchpoints: Sequence[str], support_days: float
                 ) -> ir.Table:
    """Per customer with a conversion not followed by a support contact within
    ``support_days``: ``experienced_at``, the first such conversion."""
    e = events.filter(events.touchpoint.notnull())
    c = _contacts(e, touchpoints).select(_c="customer_id", _at="occurred_at")
    orders = e.filter(e.is_conversion).select("customer_id", "occurred_at", "event_id")
    window = ibis.interval(seconds=round(support_days * 86400))
    j = orders.left_join(c, (orders.customer_id == c._c) & (c._at > orders.occurred_at)
                         & (c._at <= orders.occurred_at + window))
    quiet = j.group_by(["customer_id", "event_id", "occurred_at"]).agg(
        _contacted=j._c.notnull().any())
    quiet = quiet.filter(~quiet._contacted)
    return quiet.group_by("customer_id").agg(experienced_at=quiet.occurred_at.min())


def support_units_from(contacts: ir.Table, quiet: ir.Table) -> ir.Table:
    """Support units from :func:`support_contacts` and :func:`quiet_buyers` (both with their
    outcome pieces or neither): bad at the first contact at a support touchpoint; good, at
    every support touchpoint anyone contacted, for buyers who needed no contact — but not
    where the same customer contacted support (the bad experience is the unit there)."""
    extra = _pieces_in(contacts)
    bad_rows = contacts.mutate(signal=ibis.literal("support"), bad=ibis.literal(True)).select(
        *UNIT_COLUMNS, *extra)
    kinds = contacts.select("touchpoint").distinct()
    good = quiet.cross_join(kinds)
    good = good.anti_join(contacts, ["customer_id", "touchpoint"])
    good_rows = good.mutate(signal=ibis.literal("support"), bad=ibis.literal(False)).select(
        *UNIT_COLUMNS, *extra)
    return bad_rows.union(good_rows, distinct=False)


def support_units(events: ir.Table, catalogue: pd.DataFrame, *,
                  support_days: float = 7.0) -> ir.Table:
    """Units from support contacts: contacting (bad) vs buyers who needed no contact."""
    touchpoints = support_touchpoints(catalogue)
    return support_units_from(support_contacts(events, touchpoints),
                              quiet_buyers(events, touchpoints, support_days))


SUPPORT_DAYS = 7.0


def _support_context(ws: Any) -> dict[str, Any]:
    return {"touchpoints": support_touchpoints(ws.touchpoints()), "days": SUPPORT_DAYS}


# the per-customer parts of the error and support units, stored with the journeys (which
# touchpoints have failures, and where anyone contacted support, are read from them)
# the events' columns the outcome pieces read
_PIECE_COLUMNS = ("customer_id", "occurred_at", "is_conversion", "channel", "event_id")
FAILURES = register(Rollup(
    "experience_failures", ("customer_id", "touchpoint", "signal"),
    with_pieces(failures, "experienced_at"), (*_PIECE_COLUMNS, "touchpoint", "attributes"),
    version="2", per_customer=True))
TOUCH_FIRSTS = register(Rollup(
    "experience_touch_firsts", ("customer_id", "touchpoint"),
    with_pieces(touch_firsts, "first_at"), (*_PIECE_COLUMNS, "touchpoint", "attributes"),
    version="2", per_customer=True))
SUPPORT_CONTACTS = register(Rollup(
    "experience_support_contacts", ("customer_id", "touchpoint"),
    with_pieces(lambda events, ctx: support_contacts(events, ctx["touchpoints"]),
                "experienced_at"),
    (*_PIECE_COLUMNS, "touchpoint", "event_type"), version="2", per_customer=True,
    context_of=_support_context))
QUIET_BUYERS = register(Rollup(
    "experience_quiet_buyers", ("customer_id",),
    with_pieces(lambda events, ctx: quiet_buyers(events, ctx["touchpoints"], ctx["days"]),
                "experienced_at"),
    (*_PIECE_COLUMNS, "touchpoint", "event_type"), version="2", per_customer=True,
    context_of=_support_context))


def experience_units(tagged: ir.Table, feedback: ir.Table, catalogue: pd.DataFrame, *,
                     sentiment: ir.Table | None = None, support_days: float = SUPPORT_DAYS,
                     signals: Sequence[str] = ("score", "error", "support", "sentiment"),
                     rollup: Callable[[Rollup], ir.Table | None] | None = None,
                     conversions: ir.Table | None = None,
                     acquisition: ir.Table | None = None) -> ir.Table:
    """All units of the chosen signals (see the module docstring), each with its
    :func:`outcome_pieces`: ``UNIT_COLUMNS`` + ``PIECES``. ``rollup``: the workspace's
    stored rollups (:meth:`~touchlens.workspace.Workspace.stored_rollup`), when ``tagged``
    and ``catalogue`` are its own: the error and support units are then put together from
    their stored per-customer parts where they are stored. ``conversions``,
    ``acquisition``: :func:`conversion_times` and :func:`acquisition_channels` of ``tagged``
    when the caller has them stored (the survey units' pieces are read from them)."""

    def stored(*wanted: Rollup) -> list[ir.Table] | None:
        tables = [] if rollup is None else [rollup(r) for r in wanted]
        return tables if tables and all(t is not None for t in tables) else None

    bare, pieced = [], []  # units without / with their pieces
    if "score" in signals:
        bare.append(score_units(feedback))
    if "error" in signals:
        found = stored(FAILURES, TOUCH_FIRSTS)
        if found is None:
            bare.append(error_units(tagged))
        else:
            pieced.append(error_units_from(*found))
    if "support" in signals:
        found = stored(SUPPORT_CONTACTS, QUIET_BUYERS) if support_days == SUPPORT_DAYS else None
        if found is None:
            bare.append(support_units(tagged, catalogue, support_days=support_days))
        else:
            pieced.append(support_units_from(*found))
    if "sentiment" in signals and sentiment is not None:
        bare.append(sentiment_units(feedback, sentiment))
    if not bare and not pieced:
        raise ValueError("no experience signal to compute")
    if bare:  # their pieces read once for all of them
        units = ibis.union(*[b.select(*UNIT_COLUMNS) for b in bare], distinct=False)
        pieced.append(outcome_pieces(
            units, "experienced_at",
            conversion_times(tagged) if conversions is None else conversions,
            acquisition_channels(tagged) if acquisition is None else acquisition))
    return ibis.union(*[p.select(*UNIT_COLUMNS, *PIECES) for p in pieced], distinct=False)
