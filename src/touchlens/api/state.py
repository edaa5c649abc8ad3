"""What one running app holds: the workspace connection, the writer, sessions and caches."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TypeVar

import pandas as pd

from touchlens.api import earlier
from touchlens.api.cache import ResultCache, VerifiedKeys
from touchlens.api.scope import Scope
from touchlens.api.scoped_journeys import ScopedJourneys
from touchlens.api.security import SessionStore
from touchlens.api.served import ServedWorkspace
from touchlens.api.settings import ApiSettings
from touchlens.api.writer import Writer
from touchlens.workspace import Workspace

T = TypeVar("T")
log = logging.getLogger(__name__)


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
        self.lock = threading.RLock()  # data writes (the collector's, an erasure's)
        # rebuilds of derived tables (identity map, journey caches): the collector does not
        # wait for them; taken before ``lock`` where both are needed (served.py)
        self.build_lock = threading.RLock()
        self.cache = ResultCache(settings.cache_entries, settings.max_lag_s)
        # filtered views' stored journeys: none survive from an earlier run (stale)
        self.scoped = ScopedJourneys()
        self.scoped.drop_all(self.root.store)
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
        # results refreshed behind an earlier one (ResultCache.get_or_refresh), one at a time
        self._refresh_jobs: deque[Callable[[], None]] = deque()
        self._refresh_running = False

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

    def refresh_later(self, job: Callable[[], None]) -> None:
        """Queue ``job`` for the refresh thread (started when needed): results are brought
        up to date one after the other, not all at once on the server's two cores."""
        with self._background_lock:
            self._refresh_jobs.append(job)
            if self._refresh_running:
                return
            self._refresh_running = True
        self.background(self._refresh_loop, "touchlens-refresh")

    def _refresh_loop(self) -> None:
        while True:
            with self._background_lock:
                if self.stopping or not self._refresh_jobs:
                    self._refresh_running = False
                    return
                job = self._refresh_jobs.popleft()
            try:
                job()
            except Exception:  # the request that needs the result reports the error
                log.debug("background refresh failed", exc_info=True)

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
        try:
            self.scoped.drop_all(self.root.store)
        except Exception:  # a query still running on one: dropped at the next start
            log.warning("could not drop the filtered views' journeys", exc_info=True)
        self.root.close()

    def _written(self, tables: frozenset[str]) -> None:
        if "api_keys" in tables:  # a key created or revoked: verify every key again
            self.keys.clear()

    @contextmanager
    def workspace(self, scope: Scope | None = None) -> Iterator[ServedWorkspace]:
        """A workspace on its own cursor, narrowed to ``scope``, closed after use."""
        ws = ServedWorkspace(self.root.store, self.lock, self.root.settings, scope,
                             cache=self.cache, on_write=self._written,
                             build_lock=self.build_lock, scoped=self.scoped)
        try:
            yield ws
        finally:
            ws.close()

    def cached(self, name: str, scope: Scope, params: tuple,
               compute: Callable[[ServedWorkspace], T]) -> T:
        """``compute(ws)`` on a scoped workspace, cached per data version (:meth:`lookup`)."""

        def run() -> T:
            with self.workspace(scope) as ws:
                return compute(ws)

        return self.lookup((name, scope.key(), params), run)

    def lookup(self, key: tuple, compute: Callable[[], T]) -> T:
        """The cached result of ``key`` (see :mod:`touchlens.api.earlier`): the current
        one, or for a request accepting them an earlier one while it is refreshed."""
        compute = earlier.exactly(compute)
        if not earlier.accepted():
            return self.cache.get_or_compute(key, compute)
        value, version = self.cache.get_or_refresh(key, compute, self.refresh_later)
        if version is not None:
            earlier.shown(version, self.cache.version)
        return value

    def latest_event(self) -> datetime | None:
        """The latest ``occurred_at`` stored (for ``last<N>d`` periods)."""

        def compute(ws: ServedWorkspace) -> datetime | None:
            ev = ws.store.table("events")
            value = ws.store.execute(ev.occurred_at.max().name("m").as_table())["m"].iloc[0]
            return None if pd.isna(value) else pd.Timestamp(value).to_pydatetime()

        return self.cached("latest_event", Scope(), (), compute)
