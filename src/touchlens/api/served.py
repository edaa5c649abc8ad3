"""Workspaces for concurrent requests: one DuckDB cursor each, writes serialised by one lock.

STACK.md: a DuckDB connection shared by concurrent requests fails; a cursor per request works.
Each request gets a :class:`ServedWorkspace` on its own cursor of the server's connection
(same database, MVCC snapshots), and every write of data — the collector's ingest, an
erasure — holds the server's write lock, so there is one writer at a time.

The derived tables (the identity map, its work tables and the journey caches) are rebuilt
under a second lock, the *build lock*, not the write lock: at 10M events a rebuild takes
~80 s, during which the collector kept waiting and then answered 503. A build reads one
MVCC snapshot; events committed meanwhile mark the identity map stale again (see
:meth:`touchlens.workspace.Workspace.refresh`), so they are stitched by the next build.
Writes that remove data the derived tables hold (erasure, retention) take the build lock
first, then the write lock (always in that order), so no build can put back what they
removed.

Committed writes are reported (``on_write`` with the tables written), so the caches keyed on
the data version (:mod:`touchlens.api.cache`) are invalidated by any write, whichever path
made it. A served workspace also memoises expensive intermediate results (:meth:`memo`) in
such a cache: the server's, shared by all requests, or its own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from touchlens import journeys as J
from touchlens.api.cache import ResultCache
from touchlens.api.scope import Scope, kept_customers, scoped_table
from touchlens.api.scoped_journeys import ScopedJourneys, ScopedNames
from touchlens.config import Settings
from touchlens.journeys import rollups
from touchlens.store import Store
from touchlens.store.schema import (
    CUSTOMER_TOUCHPOINTS_CACHE,
    JOURNEY_CACHE,
    JOURNEYS_CACHE,
    TABLES,
)
from touchlens.workspace import Workspace

T = TypeVar("T")
# Tables derived from the others (rebuilt by reads) and bookkeeping: writing them changes no
# result. api_keys changes no result either; it empties the verified-key cache instead.
UNVERSIONED = frozenset({"identity_map", "meta", JOURNEY_CACHE, JOURNEYS_CACHE,
                         CUSTOMER_TOUCHPOINTS_CACHE, "api_keys"})
VERSIONED = frozenset(TABLES) - UNVERSIONED
MEMO_ENTRIES = 64  # a workspace's own memo (without a server's cache)


DERIVED = frozenset({"identity_map", JOURNEY_CACHE, JOURNEYS_CACHE, CUSTOMER_TOUCHPOINTS_CACHE})


def built(name: str) -> bool:
    """Whether ``name`` is written only by builds (under the build lock): the derived
    tables, and work tables outside the schema (identity stitching's)."""
    return name in DERIVED or name not in TABLES


class CursorStore(Store):
    """A :class:`Store` on a fresh cursor of ``root``'s DuckDB connection.

    Writes take ``lock``, writes to a derived table (:func:`built`) ``build_lock``
    (default: ``lock``); :meth:`table` narrows events, feedback and costs to ``scope``.
    ``on_write(tables)`` is called once a write is committed: after the outermost
    :meth:`transaction`, or after the statement outside one.
    """

    def __init__(self, root: Store, lock: threading.RLock, scope: Scope | None = None, *,
                 on_write: Callable[[frozenset[str]], None] | None = None,
                 build_lock: threading.RLock | None = None) -> None:
        cursor = root.con.con.cursor()
        cursor.execute("SET TimeZone='UTC'")
        cursor.execute("SET enable_progress_bar=false")  # no terminal bars from a server
        super().__init__(ibis.duckdb.from_connection(cursor), "duckdb",
                         schemas=root._schemas)  # one schema cache per database
        self._root = root
        self._lock = lock
        self._build_lock = build_lock or lock
        self.scope = scope or Scope()
        self._on_write = on_write
        self._written: set[str] = set()

    @property
    def attached(self) -> set[str]:
        """The attached tables, read once per server and kept with the root store
        (attaching is a CLI step, not a request): every request's cursor asked the meta
        table again, and :meth:`~touchlens.workspace.Workspace.journeys_stored` asks it
        many times per analysis (~50 ms each while other queries ran). Read on this
        cursor: the root's connection serves one thread at a time."""
        kept = self._root._attached
        if kept is None:
            kept = self._root._attached = super().attached
        return kept

    @property
    def write_lock(self) -> threading.RLock:
        """The server's write lock: code that reads then writes (the audit chain's head)
        holds it for the whole step."""
        return self._lock

    def table(self, name: str) -> ir.Table:
        raw = super().table(name)
        if self.scope.everything or name not in ("events", "feedback", "costs"):
            return raw
        return scoped_table(name, raw, self.scope, super().table("identity_map"),
                            super().table("events"))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        outermost = not self._in_tx
        try:
            with super().transaction():
                yield
        finally:
            if outermost:  # committed or rolled back: report either way (harmless)
                self._report()

    def _wrote(self, name: str) -> None:
        self._written.add(name)
        if not self._in_tx:
            self._report()

    def _report(self) -> None:
        tables, self._written = frozenset(self._written), set()
        if tables and self._on_write is not None:
            self._on_write(tables)

    @contextlib.contextmanager
    def _writing(self, name: str) -> Iterator[None]:
        """Hold the lock ``name``'s writers share (the build lock for :func:`built` tables,
        else the write lock) for one write, and report the table as written."""
        with self._build_lock if built(name) else self._lock:
            try:
                yield
            finally:
                self._wrote(name)

    def _insert(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int:
        with self._writing(name):
            return super()._insert(name, table, key)

    def delete_where(self, name: str, column: str, values: list[Any]) -> None:
        with self._writing(name):
            super().delete_where(name, column, values)

    def insert_select(self, name: str, expr: ir.Table) -> None:
        with self._writing(name):
            super().insert_select(name, expr)

    def delete_in(self, name: str, column: str, keys: ir.Table) -> int:
        with self._writing(name):
            return super().delete_in(name, column, keys)

    def replace(self, name: str, obj: ir.Table | pa.Table) -> None:
        with self._writing(name):
            super().replace(name, obj)

    def drop(self, name: str) -> None:
        with self._writing(name):
            super().drop(name)


class ServedWorkspace(Workspace):
    """A Workspace on a :class:`CursorStore`; :meth:`refresh` rebuilds the identity map from
    the whole (unscoped) workspace, and :meth:`journey_events` the journey cache, under the
    build lock (default: the write lock).

    ``cache``: where :meth:`memo` keeps results (the server's :class:`ResultCache`, shared by
    every request; default: one of this workspace's own). Its data version is bumped after
    each committed write to a :data:`VERSIONED` table through this workspace; ``on_write``
    hears of every committed write (the tables written). ``scoped``: where a filtered view
    stores its journeys (:mod:`touchlens.api.scoped_journeys`; default: nowhere, they are
    computed by every query).
    """

    def __init__(self, root: Store, lock: threading.RLock, settings: Settings,
                 scope: Scope | None = None, *, cache: ResultCache | None = None,
                 on_write: Callable[[frozenset[str]], None] | None = None,
                 build_lock: threading.RLock | None = None,
                 scoped: ScopedJourneys | None = None) -> None:
        self._root = root
        self._lock = lock
        self._build_lock = build_lock or lock
        self._cache = cache if cache is not None else ResultCache(MEMO_ENTRIES)
        self._on_write = on_write
        self._scoped = scoped
        self._held: list[ScopedNames] = []  # filter tables this workspace reads
        super().__init__(CursorStore(root, lock, scope, on_write=self._written,
                                     build_lock=self._build_lock), settings)

    def _written(self, tables: frozenset[str]) -> None:
        if tables & VERSIONED:
            self._cache.bump()
        if self._on_write is not None:
            self._on_write(tables)

    def memo(self, name: str, params: tuple, compute: Callable[[], T]) -> T:
        """``compute()``, kept per data version and scope under ``(name, params)``: an
        expensive intermediate result (e.g. the attribution credits the recommendations
        quote) computed once for every analysis and request that needs it, until the next
        write. ``params`` must hold every argument the result depends on."""
        return self._cache.get_or_compute(("memo", name, self.scope.key(), params), compute)

    def close(self) -> None:
        """Close the cursor; the filter tables it read may be evicted again."""
        held, self._held = self._held, []
        for names in held:
            if self._scoped is not None:
                self._scoped.release(names)
        super().close()

    def touchpoints(self) -> pd.DataFrame:
        """The catalogue, computed once per data version and scope for every request and
        analysis that needs it (the filters, the journey map, the recommendations' checks);
        each caller gets its own copy."""
        return self.memo("touchpoints", (), super().touchpoints).copy()

    def sibling(self) -> ServedWorkspace:
        """Another workspace over the same data, scope and memo on its own cursor, for a
        computation on another thread (a cursor serves one thread at a time); close it."""
        return ServedWorkspace(self._root, self._lock, self.settings, self.scope,
                               cache=self._cache, on_write=self._on_write,
                               build_lock=self._build_lock, scoped=self._scoped)

    @property
    def lock(self) -> threading.RLock:
        """The server's write lock (re-entrant)."""
        return self._lock

    @property
    def scope(self) -> Scope:
        return self.store.scope  # type: ignore[attr-defined]

    def journeys_stored(self) -> bool:
        """Whether :meth:`journey_events` reads stored journeys. A filtered view never
        builds the whole workspace's cache for its own events: without a period (channel,
        segment) its journeys are the whole cache's journeys of its customers (journeys are
        per customer, over all their events: the same rows); with a period they are
        rebuilt from the period's events and stored per filter when the server keeps them
        (``scoped``) and the period holds enough events to pay for it
        (:data:`touchlens.api.scoped_journeys.MIN_ROWS`), else computed by every query."""
        if self.scope.everything or self._by_customer():
            return super().journeys_stored()
        return (self._scoped is not None and super().journeys_stored()
                and self._period_rows() >= self._scoped.min_rows)

    def _period_rows(self) -> int:
        """Events in this filtered view (counted once per data version)."""
        return self.memo("scoped_events", (), lambda: self.store.count("events"))

    def _by_customer(self) -> bool:
        """A filter on customers only (channel reached, segment), not on time."""
        return (not self.scope.everything and self.scope.start is None
                and self.scope.end is None)

    def _journeys_current(self) -> bool:
        return self.scope.everything and super()._journeys_current()

    def journey_events(self) -> ir.Table:
        """The journeys under the build lock, so the cache has one builder at a time (the
        collector goes on writing meanwhile); a filtered view's as :meth:`journeys_stored`
        says."""
        if self.scope.everything or not self.journeys_stored():
            with self._build_lock:
                return super().journey_events()
        return self._filtered("events")

    def journeys_table(self) -> ir.Table:
        if self.scope.everything or not self.journeys_stored():
            return super().journeys_table()
        return self._filtered("journeys")

    def customer_touchpoints(self) -> ir.Table:
        if self.scope.everything or not self.journeys_stored():
            return super().customer_touchpoints()
        return self._filtered("counts")

    def stored_rollup(self, rollup: rollups.Rollup, *, context: Any = None
                      ) -> ir.Table | None:
        """The whole workspace's stored rollup. A filtered view has none (its analyses
        compute from its own journeys) — but a per-customer rollup of a channel or segment
        view (whole customers) is the whole workspace's stored rows of its customers, when
        both are built with the same context (``context``: this view's, when the caller
        has it)."""
        if not self.journeys_stored():
            return None
        if not self.scope.everything and not (rollup.per_customer and self._by_customer()):
            return None
        # the context first: it reads the catalogue, whose usage counts are a rollup too
        # (looked up under the build lock, a catalogue computed by another request that
        # waits for the lock would wait for us: a deadlock)
        if context is None:
            context = self._rollup_context(rollup)
        if self.scope.everything:
            with self._build_lock:
                return self._stored_rollup(rollup, context)
        whole = self._whole()
        try:
            if whole._rollup_context(rollup) != context:
                return None
            # stored and current, unless another writer won; read with the expression's
            # types (recorded or remembered: building the expression for them cost ~20 ms
            # per rollup, six for the moments of a filtered view)
            read = whole.stored_rollup(rollup, context=context)
            schema = None if read is None else read.schema()
        finally:
            whole.close()
        if schema is None or not rollups.is_current(self.store, rollup, context):
            return None
        stored = self.store.table(rollup.table).cast(schema)
        return stored.filter(stored.customer_id.isin(self._kept()))

    def _filtered(self, kind: str) -> ir.Table:
        """A filtered view's stored journey ``"events"``, ``"journeys"`` or ``"counts"``
        (per customer and touchpoint): its customers' rows of the whole workspace's, or
        the period's own (its counts summed from its stored journey events)."""
        if self._by_customer():
            return self._of_customers({"events": JOURNEY_CACHE, "journeys": JOURNEYS_CACHE,
                                       "counts": CUSTOMER_TOUCHPOINTS_CACHE}[kind])
        if kind == "counts":
            return J.customer_touchpoints(self.journey_events(), self.journeys_table())
        return self.store.table(self._scoped_table(kind))

    def _of_customers(self, name: str) -> ir.Table:
        """The rows of the whole workspace's journey table ``name`` (brought up to date)
        whose stitched customer is one of this filter's."""
        whole = self._whole()
        try:
            whole.journey_events()
        finally:
            whole.close()
        table = self.store.table(name)
        return table.filter(table.customer_id.isin(self._kept()))

    def _whole(self) -> ServedWorkspace:
        """The unfiltered workspace on its own cursor (close it after use)."""
        return ServedWorkspace(self._root, self._lock, self.settings, Scope(),
                               cache=self._cache, on_write=self._on_write,
                               build_lock=self._build_lock)

    def _kept(self) -> ir.Column:
        """The stitched customers a channel or segment filter keeps (the journey cache's
        rows are the resolved events: they are found in it)."""
        cache = self.store.table(JOURNEY_CACHE)
        return cache.filter(kept_customers(cache, self.scope)).customer_id

    def _scoped_table(self, which: str) -> str:
        """The name of this filter's stored journey-tagged ``"events"`` or ``"journeys"``
        at the current data version, built if need be."""
        assert self._scoped is not None
        lookback = self.settings.lookback_days
        names = self._scoped.names(self.scope.key(), lookback)

        def build_events() -> int:
            events = self._resolved_events()  # refreshes the identity map first
            with self._build_lock:
                self.store.replace(names.events, J.journey_events(events, lookback))
            return self.store.count(names.events)

        def build_journeys() -> None:
            with self._build_lock:
                self.store.replace(names.journeys, J.journeys(self.store.table(names.events)))

        def budget() -> int:  # the whole workspace's events (this store's are filtered)
            return self.store.scalar(self.store.con.table("events").count())

        if names not in self._held:  # before any build: not evicted while we read it
            self._scoped.hold(names)
            self._held.append(names)
        version = self._cache.version
        if which == "events":
            return self._scoped.events(self.store, names, version, build_events, budget)
        return self._scoped.journeys(self.store, names, version, build_events,
                                     build_journeys, budget)

    def refresh(self, *, force: bool = False) -> None:
        """Bring the identity map (and with it the journeys) up to the data version the
        cache publishes: not again for the collector's appends that version does not hold
        yet — results lag them by up to ``max_lag_s`` anyway, and rebuilding on every read
        while events stream in kept the cores busy (each of the dashboard's prefetched
        panels rebuilt the journeys again)."""
        with self._build_lock:
            if not force and self._cache.holds_published(self._cache.built_from):
                return
            started = self._cache.now()
            if self.scope.everything:
                super().refresh(force=force)
            else:
                whole = Workspace(CursorStore(self._root, self._lock,
                                              build_lock=self._build_lock), self.settings)
                try:
                    whole.refresh(force=force)
                finally:
                    whole.close()
            self._cache.built_from = started
