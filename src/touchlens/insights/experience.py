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


def _units(rows: ir.Table) -> ir.Table:
    """Collapse (customer_id, touchpoint, signal, bad, at) rows to one unit each."""
    g = rows.group_by(["customer_id", "touchpoint", "signal"]).agg(
        bad=rows.bad.any(),
        _first_bad=rows.experienced_at.min(where=rows.bad),
        _first_good=rows.experienced_at.min(where=~rows.bad),
    )
    return g.select("customer_id", "touchpoint", "signal", "bad",
                    experienced_at=ibis.ifelse(g.bad, g._first_bad, g._first_good))


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


def error_units_from(failed: ir.Table, firsts: ir.Table) -> ir.Table:
    """Error units from :func:`failures` and :func:`touch_firsts` (of the same events): bad
    at each failure; good for every customer at a touchpoint with some failure of that kind
    who had none there, at their first event there."""
    kinds = failed.select("touchpoint", "signal").distinct()
    bad_rows = failed.select("customer_id", "touchpoint", "signal", bad=ibis.literal(True),
                             experienced_at=failed.experienced_at)
    ok = firsts.filter(~firsts.failed & firsts.touchpoint.isin(kinds.touchpoint))
    good_rows = ok.join(kinds, "touchpoint").select(
        "customer_id", "touchpoint", "signal", bad=ibis.literal(False),
        experienced_at=ok.first_at)
    return _units(bad_rows.union(good_rows))


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
    """Support units from :func:`support_contacts` and :func:`quiet_buyers`: bad at the
    first contact at a support touchpoint; good, at every support touchpoint anyone
    contacted, for buyers who needed no contact."""
    bad_rows = contacts.select("customer_id", "touchpoint", signal=ibis.literal("support"),
                               bad=ibis.literal(True), experienced_at=contacts.experienced_at)
    kinds = contacts.select("touchpoint").distinct()
    good_rows = quiet.cross_join(kinds).select(
        "customer_id", "touchpoint", signal=ibis.literal("support"), bad=ibis.literal(False),
        experienced_at=quiet.experienced_at)
    return _units(bad_rows.union(good_rows))


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
FAILURES = register(Rollup("experience_failures", ("customer_id", "touchpoint", "signal"),
                           failures, ("customer_id", "touchpoint", "attributes",
                                      "occurred_at"), per_customer=True))
TOUCH_FIRSTS = register(Rollup("experience_touch_firsts", ("customer_id", "touchpoint"),
                               touch_firsts, ("customer_id", "touchpoint", "attributes",
                                              "occurred_at"), per_customer=True))
SUPPORT_CONTACTS = register(Rollup(
    "experience_support_contacts", ("customer_id", "touchpoint"),
    lambda events, ctx: support_contacts(events, ctx["touchpoints"]),
    ("customer_id", "touchpoint", "event_type", "occurred_at"), per_customer=True,
    context_of=_support_context))
QUIET_BUYERS = register(Rollup(
    "experience_quiet_buyers", ("customer_id",),
    lambda events, ctx: quiet_buyers(events, ctx["touchpoints"], ctx["days"]),
    ("customer_id", "touchpoint", "event_type", "occurred_at", "is_conversion", "event_id"),
    per_customer=True, context_of=_support_context))


def experience_units(tagged: ir.Table, feedback: ir.Table, catalogue: pd.DataFrame, *,
                     sentiment: ir.Table | None = None, support_days: float = SUPPORT_DAYS,
                     signals: Sequence[str] = ("score", "error", "support", "sentiment"),
                     rollup: Callable[[Rollup], ir.Table | None] | None = None
                     ) -> ir.Table:
    """All units of the chosen signals (see the module docstring). ``rollup``: the
    workspace's stored rollups (:meth:`~touchlens.workspace.Workspace.stored_rollup`), when
    ``tagged`` and ``catalogue`` are its own: the error and support units are then put
    together from their stored per-customer parts where they are stored."""

    def stored(*wanted: Rollup) -> list[ir.Table] | None:
        tables = [] if rollup is None else [rollup(r) for r in wanted]
        return tables if tables and all(t is not None for t in tables) else None

    parts = []
    if "score" in signals:
        parts.append(score_units(feedback))
    if "error" in signals:
        found = stored(FAILURES, TOUCH_FIRSTS)
        parts.append(error_units(tagged) if found is None else error_units_from(*found))
    if "support" in signals:
        found = stored(SUPPORT_CONTACTS, QUIET_BUYERS) if support_days == SUPPORT_DAYS else None
        parts.append(support_units(tagged, catalogue, support_days=support_days)
                     if found is None else support_units_from(*found))
    if "sentiment" in signals and sentiment is not None:
        parts.append(sentiment_units(feedback, sentiment))
    if not parts:
        raise ValueError("no experience signal to compute")
    return ibis.union(*parts).select(*UNIT_COLUMNS)
