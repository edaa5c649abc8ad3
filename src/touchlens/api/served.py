"""Workspaces for concurrent requests: one DuckDB cursor each, writes serialised by one lock.

STACK.md: a DuckDB connection shared by concurrent requests fails; a cursor per request works.
Each request gets a :class:`ServedWorkspace` on its own cursor of the server's connection
(same database, MVCC snapshots), and every write — the collector's ingest, a rebuild of the
identity map — holds the server's write lock, so there is one writer at a time.
"""

from __future__ import annotations

import threading
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from touchlens.api.scope import Scope, scoped_table
from touchlens.config import Settings
from touchlens.store import Store
from touchlens.workspace import Workspace


class CursorStore(Store):
    """A :class:`Store` on a fresh cursor of ``root``'s DuckDB connection.

    Writes take ``lock``; :meth:`table` narrows events, feedback and costs to ``scope``.
    """

    def __init__(self, root: Store, lock: threading.RLock, scope: Scope | None = None) -> None:
        cursor = root.con.con.cursor()
        cursor.execute("SET TimeZone='UTC'")
        cursor.execute("SET enable_progress_bar=false")  # no terminal bars from a server
        super().__init__(ibis.duckdb.from_connection(cursor), "duckdb")
        self._lock = lock
        self.scope = scope or Scope()

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

    def count(self, name: str) -> int:
        return int(self.table(name).count().to_pyarrow().as_py())

    def _insert(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int:
        with self._lock:
            return super()._insert(name, table, key)

    def delete_where(self, name: str, column: str, values: list[Any]) -> None:
        with self._lock:
            super().delete_where(name, column, values)

    def replace(self, name: str, obj: ir.Table | pa.Table) -> None:
        with self._lock:
            super().replace(name, obj)


class ServedWorkspace(Workspace):
    """A Workspace on a :class:`CursorStore`; :meth:`refresh` rebuilds the identity map from
    the whole (unscoped) workspace under the write lock."""

    def __init__(self, root: Store, lock: threading.RLock, settings: Settings,
                 scope: Scope | None = None) -> None:
        super().__init__(CursorStore(root, lock, scope), settings)
        self._root = root
        self._lock = lock

    @property
    def lock(self) -> threading.RLock:
        """The server's write lock (re-entrant)."""
        return self._lock

    @property
    def scope(self) -> Scope:
        return self.store.scope  # type: ignore[attr-defined]

    def _journeys_cacheable(self) -> bool:
        """A scoped key never uses or builds the whole-workspace cache: its journeys are
        computed lazily from its own events."""
        return self.scope.everything and super()._journeys_cacheable()

    def journey_events(self) -> ir.Table:
        """The journeys under the write lock, so the cache has one builder at a time."""
        with self._lock:
            return super().journey_events()

    def refresh(self, *, force: bool = False) -> None:
        with self._lock:
            if self.scope.everything:
                super().refresh(force=force)
                return
            whole = Workspace(CursorStore(self._root, self._lock), self.settings)
            try:
                whole.refresh(force=force)
            finally:
                whole.close()
