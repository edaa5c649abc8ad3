"""The journeys of a filtered view, stored once per data version and filter.

A served workspace narrowed to a period (:mod:`touchlens.api.scope`) cannot read the whole
workspace's journey cache: its journeys are rebuilt from the period's events (a filter on
customers only — channel, segment — reads the whole cache's journeys of its customers:
:class:`touchlens.api.served.ServedWorkspace`). Computed lazily, every query of a page ran
the journey windows over the period's events again — on 10M events a month's KPIs took
6.6 s, its scorecard 24 s. Instead the first query of a data version and filter stores
them, with the same expressions as the whole workspace's cache
(:func:`touchlens.journeys.journey_events`, :func:`touchlens.journeys.journeys`), in two
scratch tables the next queries read: ``_scoped_journey_events_<key>`` and
``_scoped_journeys_<key>`` (key: a digest of the filter and the lookback; the numbers are
those of the lazy expressions, row for row). The events table holds every column of the
cache and writing it is most of a build: 4M events, 14 s of a month's 16 s at 10M.

- One build per filter and data version; requests that need the same one meanwhile wait
  for it. A build is tagged with the version published before it started: a write during
  it makes the next query build again.
- Only periods of at least :data:`MIN_ROWS` events are stored (below, computing the
  journeys in each query costs less than storing them).
- At most :data:`MAX_SCOPES` filters, and no more rows in all than the workspace has
  events, are kept; the least recently used are dropped — but not while a workspace holds
  them (:meth:`ScopedJourneys.hold`, from a request's first use of its filter's tables to
  its end), so a computation never loses a table it reads; the limits may then be passed
  until the next build. All are dropped when the server starts and stops.
- An erasure finds them like every table (``_`` tables are scratch: any text holding one of
  the person's identifiers goes, :mod:`touchlens.store.erase`), and a retention run or any
  other write makes them old (the next query of the filter rebuilds them).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from touchlens.store import Store

MAX_SCOPES = 16
# Below this many events in the period, each query computes the journeys itself: storing
# them costs about three such queries (demo, a month of 135k events: 0.7 s against
# 0.2-0.4 s per query), which the overview's three journey queries would not win back.
# At 10M events a month (4M events) costs 16 s to store, then 0.05-1 s per query, against
# 5-24 s per query computed.
MIN_ROWS = 500_000
PREFIX = "_scoped_journey"
PATTERN = f"^{PREFIX}"


@dataclass(frozen=True)
class ScopedNames:
    """The two tables of one filter: journey-tagged events, and one row per journey."""

    events: str
    journeys: str


@dataclass
class _Entry:
    names: ScopedNames
    lock: threading.Lock
    events: int | None = None  # the data version the events table holds; None: not built
    journeys: int | None = None  # the version the journeys table was built from
    rows: int = 0  # rows of the events table
    holders: int = 0  # workspaces reading the tables now: not evicted meanwhile


class ScopedJourneys:
    """Which filters have stored journeys, for which data version (one per server).

    Kept: at most ``limit`` filters, and no more stored rows in all than the whole
    workspace has events (the least recently used filters go first; the one just built
    stays), so the file grows by at most one copy of the events."""

    def __init__(self, limit: int = MAX_SCOPES, min_rows: int = MIN_ROWS) -> None:
        self._limit = limit
        self.min_rows = min_rows
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first

    @staticmethod
    def names(scope_key: tuple, lookback_days: float) -> ScopedNames:
        digest = hashlib.sha256(repr((scope_key, lookback_days)).encode()).hexdigest()[:16]
        return ScopedNames(f"{PREFIX}_events_{digest}", f"{PREFIX}s_{digest}")

    def events(self, store: Store, names: ScopedNames, version: int,
               build: Callable[[], int], budget: Callable[[], int]) -> str:
        """The filter's journey-tagged events holding ``version``: built by ``build()``
        (returns its rows) when they do not, once however many callers ask at the same
        time. ``budget()``: the most rows all filters may keep (the workspace's events)."""
        entry = self._entry(names)
        with entry.lock:
            built = entry.events != version
            if built:
                entry.events = entry.journeys = None
                entry.rows = build()
                entry.events = version
        if built:  # the others may now be too many
            self._evict(store, names, budget)
        return names.events

    def journeys(self, store: Store, names: ScopedNames, version: int,
                 build_events: Callable[[], int], build: Callable[[], None],
                 budget: Callable[[], int]) -> str:
        """The filter's journeys (one row each) from its events holding ``version``."""
        self.events(store, names, version, build_events, budget)
        entry = self._entry(names)
        with entry.lock:
            if entry.events is None:  # evicted or rebuilt meanwhile: ask again
                return self.journeys(store, names, version, build_events, build, budget)
            if entry.journeys != entry.events:
                build()
                entry.journeys = entry.events
        return names.journeys

    def hold(self, names: ScopedNames) -> None:
        """A workspace will read ``names``' tables until it calls :meth:`release`: they are
        not evicted meanwhile."""
        with self._lock:
            self._entry_locked(names).holders += 1

    def release(self, names: ScopedNames) -> None:
        with self._lock:
            entry = self._entries.get(names.events)
            if entry is not None:
                entry.holders = max(entry.holders - 1, 0)

    def _entry(self, names: ScopedNames) -> _Entry:
        with self._lock:
            return self._entry_locked(names)

    def _entry_locked(self, names: ScopedNames) -> _Entry:
        entry = self._entries.get(names.events)
        if entry is None:
            entry = self._entries[names.events] = _Entry(names, threading.Lock())
        self._entries.move_to_end(names.events)
        return entry

    def _evict(self, store: Store, keep: ScopedNames, budget: Callable[[], int]) -> None:
        most = budget()
        doomed: list[_Entry] = []
        with self._lock:
            def over() -> bool:
                return (len(self._entries) > self._limit
                        or sum(e.rows for e in self._entries.values()) > most)

            for key in list(self._entries):
                if not over():
                    break
                entry = self._entries[key]
                if entry.names != keep and not entry.holders:
                    doomed.append(self._entries.pop(key))
        for entry in doomed:
            with entry.lock:
                entry.events = entry.journeys = None
                store.drop(entry.names.events)
                store.drop(entry.names.journeys)

    def drop_all(self, store: Store) -> None:
        """Drop every filter's tables (this server's and any left by an earlier one)."""
        with self._lock:
            self._entries.clear()
        for name in store.tables_like(PATTERN):
            store.drop(name)
