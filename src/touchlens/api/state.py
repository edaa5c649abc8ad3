"""What one running app holds: the workspace connection, the writer, sessions and a cache."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from touchlens.api.scope import Scope
from touchlens.api.security import SessionStore
from touchlens.api.served import ServedWorkspace
from touchlens.api.settings import ApiSettings
from touchlens.api.writer import Writer
from touchlens.workspace import Workspace

T = TypeVar("T")


class ResultCache:
    """LRU cache of analysis results keyed by (data version, name, scope, params).

    The writer bumps the version after each commit, so a cached result is never staler
    than the data the request could see.
    """

    def __init__(self, entries: int) -> None:
        self._entries = entries
        self._data: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.version = 0

    def bump(self) -> None:
        with self._lock:
            self.version += 1
            self._data.clear()

    def get_or_compute(self, key: tuple, compute: Callable[[], T]) -> T:
        with self._lock:
            full = (self.version, *key)
            if full in self._data:
                self._data.move_to_end(full)
                return self._data[full]
        value = compute()  # outside the lock: two identical requests may both compute
        with self._lock:
            if self._entries and full[0] == self.version:
                self._data[full] = value
                while len(self._data) > self._entries:
                    self._data.popitem(last=False)
        return value


class AppState:
    """Opened by the app's lifespan, closed at shutdown."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.root = Workspace.open(settings.db)
        self.lock = threading.RLock()
        self.cache = ResultCache(settings.cache_entries)
        self.sessions = SessionStore(hours=settings.session_hours,
                                     login_token=settings.login_token)
        self.writer = Writer(self.root.store, self.lock, self.root.settings,
                             max_rows=settings.writer_max_rows,
                             queue_size=settings.writer_queue_size, on_commit=self.cache.bump)
        self.writer.start()

    def close(self) -> None:
        self.writer.stop()
        self.root.close()

    @contextmanager
    def workspace(self, scope: Scope | None = None) -> Iterator[ServedWorkspace]:
        """A workspace on its own cursor, narrowed to ``scope``, closed after use."""
        ws = ServedWorkspace(self.root.store, self.lock, self.root.settings, scope)
        try:
            yield ws
        finally:
            ws.close()

    def cached(self, name: str, scope: Scope, params: tuple,
               compute: Callable[[ServedWorkspace], T]) -> T:
        """``compute(ws)`` on a scoped workspace, cached per data version."""

        def run() -> T:
            with self.workspace(scope) as ws:
                return compute(ws)

        return self.cache.get_or_compute((name, scope.key(), params), run)

    def latest_event(self) -> datetime | None:
        """The latest ``occurred_at`` stored (for ``last<N>d`` periods)."""

        def compute(ws: ServedWorkspace) -> datetime | None:
            ev = ws.store.table("events")
            value = ws.store.execute(ev.occurred_at.max().name("m").as_table())["m"].iloc[0]
            return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()

        return self.cached("latest_event", Scope(), (), compute)
