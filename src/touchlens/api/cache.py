"""Per-data-version caches of a served workspace: analysis results and verified keys.

- :class:`ResultCache`: results keyed by (data version, name, scope, params). The version is
  bumped after every committed write to a workspace table (an erasure, an ingest through a
  served workspace: :class:`touchlens.api.served.CursorStore` reports them), which also
  empties the cache. The collector's appends are the exception when ``max_lag_s`` > 0: while
  events stream in (a commit every few milliseconds) a new version is published at most
  every ``max_lag_s`` seconds, so results are at most that far behind the stored events
  instead of never being reused; the first append after a quiet spell is published at once.
  Identical computations running at the same time are done once: the later callers wait for
  the first one's result. What the collector's appends made old is kept as *earlier*
  results: :meth:`ResultCache.get_or_refresh` answers with one at once while the current
  one is computed in the background (the dashboard's charts while events stream in; at 10M
  events a chart takes seconds to compute). Any other write (an erasure above all) drops the
  earlier results with the current ones: they are never shown after it.
- :class:`VerifiedKeys`: API keys verified recently, so the collector's hot path skips the key
  query; emptied whenever the ``api_keys`` table is written (a revocation takes effect at
  once) and otherwise trusted for ``KEY_CACHE_SECONDS``.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")
KEY_CACHE_SECONDS = 30.0


class ResultCache:
    """LRU cache of results keyed by (data version, *key); ``entries`` = 0 keeps nothing
    (but identical concurrent computations are still shared). ``max_lag_s``: how long the
    collector's appends may stay unpublished (0 = publish every one at once)."""

    def __init__(self, entries: int, max_lag_s: float = 0.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._entries = entries
        self._max_lag = max_lag_s
        self._clock = clock
        self._data: OrderedDict[tuple, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._inflight: dict[tuple, list[Any]] = {}  # key -> [lock, number of callers]
        self._version = 0
        self._published_at = -math.inf
        self._pending = False  # appends committed since the last published version
        # results of versions made old by appends only: key -> (version, value)
        self._earlier: OrderedDict[tuple, tuple[int, Any]] = OrderedDict()
        self._cleared_at = 0  # the version published by the last other write
        self._refreshing: set[tuple] = set()  # keys computed in the background now
        self.published_wall = datetime.now(UTC)  # when the current version was published
        # when the snapshot of the last refresh of the derived tables was taken (:meth:`now`;
        # set by touchlens.api.served, under the server's build lock)
        self.built_from: float | None = None

    @property
    def max_lag_s(self) -> float:
        return self._max_lag

    def now(self) -> float:
        """This cache's clock (monotonic seconds)."""
        return self._clock()

    def holds_published(self, snapshot_at: float | None) -> bool:
        """Whether data read at ``snapshot_at`` (:meth:`now`) holds everything the published
        version does: it was read after that version was published. Derived tables built so
        need no rebuild for this version, whatever the collector appended since."""
        with self._lock:
            self._publish_if_due()
            return snapshot_at is not None and snapshot_at >= self._published_at

    def freshness(self) -> tuple[int, datetime, bool]:
        """(published version, when it was published (UTC), whether appends are waiting for
        the next one); publishes pending appends first when they are due."""
        with self._lock:
            self._publish_if_due()
            return self._version, self.published_wall, self._pending

    @property
    def version(self) -> int:
        """The published data version (pending appends are published once due)."""
        with self._lock:
            self._publish_if_due()
            return self._version

    def bump(self) -> None:
        """A write was committed: results computed before it are stale, earlier ones too."""
        with self._lock:
            self._publish(keep_earlier=False)

    def appended(self) -> None:
        """The collector committed new rows: publish now if the last version is older than
        ``max_lag_s``, else when it is (at the next look-up)."""
        with self._lock:
            self._pending = True
            self._publish_if_due()

    def _publish_if_due(self) -> None:
        if self._pending and self._clock() - self._published_at >= self._max_lag:
            self._publish(keep_earlier=True)

    def _publish(self, *, keep_earlier: bool) -> None:
        self._version += 1
        if keep_earlier:  # only appends since these were computed
            for full, value in self._data.items():
                self._keep_earlier(full, value)
        else:
            self._earlier.clear()
            self._cleared_at = self._version
        self._data.clear()
        self._pending = False
        self._published_at = self._clock()
        self.published_wall = datetime.now(UTC)

    def _keep_earlier(self, full: tuple, value: Any) -> None:
        """Keep ``value`` (computed at version ``full[0]``) as the earlier result of its key
        unless a newer one is kept (holding the lock)."""
        key = full[1:]
        if full[0] < self._cleared_at or self._earlier.get(key, (-1, None))[0] > full[0]:
            return
        self._earlier[key] = (full[0], value)
        self._earlier.move_to_end(key)
        while len(self._earlier) > self._entries:
            self._earlier.popitem(last=False)

    def _lookup(self, full: tuple) -> tuple[bool, Any]:
        with self._lock:
            return self._hit(full)

    def _hit(self, full: tuple) -> tuple[bool, Any]:
        """(found, value) of ``full`` = (version, *key), kept as recently used (holding
        the lock)."""
        if full in self._data:
            self._data.move_to_end(full)
            return True, self._data[full]
        return False, None

    def get_or_compute(self, key: tuple, compute: Callable[[], T]) -> T:
        """The cached value of ``key`` at the current data version, computing it (once, even
        when several threads ask at the same time) when missing.

        Waiting cannot deadlock as long as computations only nest along an acyclic order of
        keys (a result needs others, never itself)."""
        with self._lock:
            self._publish_if_due()
            full = (self._version, *key)
            entry = self._inflight.setdefault(full, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:  # one computation per key and version; the others wait here
                hit, value = self._lookup(full)
                if hit:
                    return value
                value = compute()
                with self._lock:  # current only if no write was committed meanwhile
                    if self._entries and full[0] == self._version:
                        self._data[full] = value
                        while len(self._data) > self._entries:
                            self._data.popitem(last=False)
                    elif self._entries:  # appends only since: the newest earlier result
                        self._keep_earlier(full, value)
                return value
        finally:
            with self._lock:
                entry[1] -= 1
                if not entry[1]:
                    del self._inflight[full]

    def get_or_refresh(self, key: tuple, compute: Callable[[], T],
                       start: Callable[[Callable[[], None]], None]) -> tuple[T, int | None]:
        """Like :meth:`get_or_compute`, but when the current value is missing and an earlier
        one is kept (only appends were committed since it was computed), that one at once,
        the current one being computed by a job handed to ``start`` (e.g. a background
        thread; once per key at a time). Returns ``(value, None)`` for a current value,
        ``(value, version)`` for an earlier one computed at data ``version``."""
        with self._lock:
            self._publish_if_due()
            hit, value = self._hit((self._version, *key))
            if hit:
                return value, None
            earlier = self._earlier.get(key)
            begin = earlier is not None and key not in self._refreshing
            if begin:
                self._refreshing.add(key)
        if earlier is None:
            return self.get_or_compute(key, compute), None
        if begin:
            def job() -> None:
                try:
                    self.get_or_compute(key, compute)
                finally:
                    with self._lock:
                        self._refreshing.discard(key)

            try:
                start(job)
            except BaseException:
                with self._lock:
                    self._refreshing.discard(key)
                raise
        return earlier[1], earlier[0]


class VerifiedKeys:
    """Verified keys by the SHA-256 of the presented key (the key itself is not kept)."""

    def __init__(self, seconds: float = KEY_CACHE_SECONDS) -> None:
        self._seconds = seconds
        self._data: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._generation = 0

    @staticmethod
    def digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> Any | None:
        """The cached verification of ``token`` (None: unknown or expired)."""
        hit = self._data.get(self.digest(token))
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        return None

    def generation(self) -> int:
        """Taken before verifying a key against the table; see :meth:`put`."""
        return self._generation

    def put(self, token: str, info: Any, generation: int) -> None:
        """Remember a successful verification made at ``generation``; dropped when the keys
        changed since (a revocation raced with the check)."""
        with self._lock:
            if generation == self._generation:
                self._data[self.digest(token)] = (time.monotonic() + self._seconds, info)

    def clear(self) -> None:
        """The ``api_keys`` table was written: forget every verification."""
        with self._lock:
            self._generation += 1
            self._data.clear()
