"""What one running app holds: the workspace connection, the writer, sessions and caches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import pandas as pd

from touchlens.api.cache import ResultCache, VerifiedKeys
from touchlens.api.scope import Scope
from touchlens.api.security import SessionStore
from touchlens.api.served import ServedWorkspace
from touchlens.api.settings import ApiSettings
from touchlens.api.writer import Writer
from touchlens.workspace import Workspace

T = TypeVar("T")


class AppState:
    """Opened by the app's lifespan, closed at shutdown.

    ``cache`` holds results per data version (see :mod:`touchlens.api.cache`): every
    committed write through a served workspace bumps it; the writer's batches publish a new
    version at most every ``settings.max_lag_s`` seconds.
    ``keys`` are the recently verified API keys, emptied by any write to ``api_keys``.
    """

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings
        self.root = Workspace.open(settings.db)
        self.lock = threading.RLock()
        self.cache = ResultCache(settings.cache_entries, settings.max_lag_s)
        self.keys = VerifiedKeys()
        self.sessions = SessionStore(hours=settings.session_hours,
                                     login_token=settings.login_token)
        self.writer = Writer(self.root.store, self.lock, self.root.settings,
                             max_rows=settings.writer_max_rows,
                             queue_size=settings.writer_queue_size,
                             linger_s=settings.writer_linger_ms / 1000,
                             on_commit=self.cache.appended)
        self.writer.start()
        self.stopping = False  # set by close(): background work ends at its next step
        self._background: set[threading.Thread] = set()
        self._background_lock = threading.Lock()
        # the dashboard's prefetch (touchlens.api.routers.charts.prefetch), per scope key:
        self.prefetched: dict[tuple, int] = {}  # the data version last prefetched
        self.prefetching: set[tuple] = set()  # being prefetched now

    def background(self, target: Callable[[], None], name: str) -> None:
        """Run ``target`` in a daemon thread that :meth:`close` waits for: the workspace's
        connection must outlive every query on its cursors (closing it under a running
        query crashed the process). ``target`` should check :attr:`stopping` between steps."""

        def run() -> None:
            try:
                target()
            finally:
                with self._background_lock:
                    self._background.discard(threading.current_thread())

        thread = threading.Thread(target=run, name=name, daemon=True)
        with self._background_lock:
            self._background.add(thread)
        thread.start()

    def close(self, wait_s: float = 120.0) -> None:
        """Stop the writer, let background computations finish their current step (up to
        ``wait_s`` in all), then close the workspace."""
        self.stopping = True
        self.writer.stop()
        deadline = time.monotonic() + wait_s
        with self._background_lock:
            running = list(self._background)
        for thread in running:
            thread.join(max(0.0, deadline - time.monotonic()))
        self.root.close()

    def _written(self, tables: frozenset[str]) -> None:
        if "api_keys" in tables:  # a key created or revoked: verify every key again
            self.keys.clear()

    @contextmanager
    def workspace(self, scope: Scope | None = None) -> Iterator[ServedWorkspace]:
        """A workspace on its own cursor, narrowed to ``scope``, closed after use."""
        ws = ServedWorkspace(self.root.store, self.lock, self.root.settings, scope,
                             cache=self.cache, on_write=self._written)
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
