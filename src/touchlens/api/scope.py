"""Global filters (period, channel) applied where the data enters the analyses.

A :class:`Scope` narrows the *input* tables a Workspace reads, so every analysis (journeys,
scorecard, CX, and the layers added later) is computed on the scoped data with no change to
it and no second implementation:

- period ``[start, end)`` (UTC): events and feedback by ``occurred_at``, costs by ``date``;
  journeys are rebuilt from the events inside the window.
- channel: the events of the customers (after identity stitching) reached by that channel in
  the period; feedback and costs about that channel. Touchpoint-level tables are further
  limited to the channel's rows by the routes.
- segment: the events and feedback of the customers in that RFM segment (``ws.rfm()`` over
  the whole workspace; ``prospect`` = customers without a purchase). Costs are not narrowed
  (spend is not per customer).

Period strings: ``all``, ``last<N>d`` (N days up to the latest event), ``2026``, ``2026Q1``,
``2026-03``; or explicit ``start``/``end`` dates (``end`` inclusive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.charts.data import PROSPECT
from touchlens.errors import ConfigError
from touchlens.journeys import resolved_events
from touchlens.store.schema import EVENTS

_LAST = re.compile(r"^last(\d{1,4})d$")
_QUARTER = re.compile(r"^(\d{4})[qQ]([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Scope:
    """What to look at: ``[start, end)`` in UTC (None = open), one channel and one customer
    segment (None = all). ``members`` are the segment's customer ids (``exclude``: everyone
    but them), resolved by the caller."""

    start: datetime | None = None
    end: datetime | None = None
    channel: str | None = None
    segment: str | None = None
    members: frozenset[str] | None = field(default=None, compare=False, repr=False)
    exclude: bool = field(default=False, compare=False, repr=False)

    @property
    def everything(self) -> bool:
        return (self.start is None and self.end is None and self.channel is None
                and self.segment is None)

    def key(self) -> tuple:
        """Hashable identity, for caches."""
        return (self.start, self.end, self.channel, self.segment)

    def previous(self) -> Scope | None:
        """The window of the same length just before this one (for "vs last period")."""
        if self.start is None or self.end is None:
            return None
        length = self.end - self.start
        return replace(self, start=self.start - length, end=self.start)

    def label(self) -> str:
        """Human text, e.g. ``2026-03-01 – 2026-03-31 · email``."""
        if self.start is None and self.end is None:
            text = "all time"
        else:
            first = self.start.date().isoformat() if self.start else "…"
            last = (self.end - timedelta(microseconds=1)).date().isoformat() if self.end else "…"
            text = f"{first} – {last}"
        text = f"{text} · {self.channel}" if self.channel else text
        return f"{text} · segment {self.segment}" if self.segment else text


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def period_bounds(period: str, latest: datetime | None) -> tuple[datetime | None,
                                                                 datetime | None]:
    """``[start, end)`` of a period string (see the module docstring)."""
    text = period.strip()
    if text in ("", "all"):
        return None, None
    if m := _LAST.match(text):
        days = int(m.group(1))
        if days < 1:
            raise ConfigError("last<N>d needs N >= 1")
        if latest is None:
            return None, None
        end = _midnight(latest.astimezone(UTC).date() + timedelta(days=1))
        return end - timedelta(days=days), end
    if m := _QUARTER.match(text):
        year, q = int(m.group(1)), int(m.group(2))
        start = date(year, 3 * q - 2, 1)
        end = date(year + 1, 1, 1) if q == 4 else date(year, 3 * q + 1, 1)
        return _midnight(start), _midnight(end)
    if m := _MONTH.match(text):
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise ConfigError(f"no month {month} in period {period!r}")
        end = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return _midnight(date(year, month, 1)), _midnight(end)
    if m := _YEAR.match(text):
        year = int(m.group(1))
        return _midnight(date(year, 1, 1)), _midnight(date(year + 1, 1, 1))
    raise ConfigError(
        f"unknown period {period!r}: use all, last<N>d, YYYY, YYYYQn or YYYY-MM"
    )


FIRST_YEAR, LAST_YEAR = 1900, 2199  # explicit start/end; the previous period must stay valid


def make_scope(*, period: str | None = None, start: date | None = None,
               end: date | None = None, channel: str | None = None,
               latest: datetime | None = None) -> Scope:
    """A Scope from request parameters; explicit ``start``/``end`` (inclusive) win over
    ``period``."""
    for name, day in (("start", start), ("end", end)):
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise ConfigError(f"{name} must be a day in {FIRST_YEAR}-{LAST_YEAR}, not {day}")
    lo, hi = period_bounds(period or "all", latest)
    if start is not None:
        lo = _midnight(start)
    if end is not None:
        hi = _midnight(end + timedelta(days=1))
    if lo is not None and hi is not None and hi <= lo:
        raise ConfigError("the period ends before it starts")
    channel = (channel or "").strip().lower() or None
    return Scope(lo, hi, channel)


def narrow_to_segment(scope: Scope, segment: str | None,
                      members: dict[str, frozenset[str]]) -> Scope:
    """``scope`` narrowed to the RFM ``segment`` (``members``: segment → customer ids, as
    :func:`touchlens.charts.data.segment_members` gives them; ``prospect`` = everyone in none
    of them). None or blank keeps ``scope``; an unknown segment raises ConfigError naming the
    known ones."""
    segment = (segment or "").strip().lower() or None
    if segment is None:
        return scope
    if segment == PROSPECT:
        return replace(scope, segment=segment,
                       members=frozenset().union(*members.values()), exclude=True)
    if segment not in members:
        raise ConfigError(f"unknown segment {segment!r}; use one of "
                          f"{sorted([*members, PROSPECT])}")
    return replace(scope, segment=segment, members=members[segment])


def _in_period(t: ir.Table, column: str, scope: Scope, *, is_date: bool = False) -> ir.Table:
    col = t[column]
    if scope.start is not None:
        col_start = scope.start.date() if is_date else scope.start
        t = t.filter(col >= col_start)
    if scope.end is not None:
        col_end = scope.end.date() if is_date else scope.end
        t = t.filter(t[column] < col_end)
    return t


def scoped_table(name: str, raw: ir.Table, scope: Scope, identity_map: ir.Table,
                 all_events: ir.Table) -> ir.Table:
    """``raw`` (the stored table ``name``) narrowed to ``scope``; other tables unchanged."""
    if scope.everything:
        return raw
    if name == "events":
        ev = _in_period(raw, "occurred_at", scope)
        if scope.channel is None and scope.segment is None:
            return ev
        resolved = resolved_events(ev, identity_map)
        kept = resolved.filter(kept_customers(resolved, scope))
        cols = {c: (kept.source_customer_id if c == "customer_id" else kept[c])
                for c in EVENTS.names}
        return kept.select(**cols)
    if name == "feedback":
        fb = _in_period(raw, "occurred_at", scope)
        if scope.channel is not None:
            tps = all_events.filter(all_events.channel == scope.channel).touchpoint
            fb = fb.filter((fb.channel == scope.channel) | fb.touchpoint.isin(tps))
        if scope.segment is not None:
            m = identity_map.filter(identity_map.id_type == "customer")
            j = fb.left_join(m, fb.customer_id == m.id_value)
            j = j.filter(_in_segment(j.customer_id_right.coalesce(j.customer_id), scope))
            fb = j.select(*fb.columns)
        return fb
    if name == "costs":
        costs = _in_period(raw, "date", scope, is_date=True)
        return costs if scope.channel is None else costs.filter(costs.channel == scope.channel)
    return raw


def kept_customers(resolved: ir.Table, scope: Scope) -> ir.BooleanValue:
    """Whether each row's stitched customer is one of those the scope's customer filters
    keep: reached by its channel (any of their events in ``resolved`` is in it) and in its
    segment. ``resolved``: events with the stitched ``customer_id``, the period applied."""
    keep = ibis.literal(True)
    if scope.channel is not None:
        reached = resolved.filter(resolved.channel == scope.channel).customer_id
        keep = keep & resolved.customer_id.isin(reached)
    if scope.segment is not None:
        keep = keep & _in_segment(resolved.customer_id, scope)
    return keep


def _in_segment(customer_id: ir.StringColumn, scope: Scope) -> ir.BooleanColumn:
    """Membership of the stitched ``customer_id`` in the scope's segment."""
    ids = pd.DataFrame({"customer_id": sorted(scope.members or ())}, dtype="string")
    member = customer_id.isin(ibis.memtable(ids).customer_id)
    return ~member if scope.exclude else member
