"""The ids already stored, kept in memory by the collector's writer: its duplicate check
needs no scan of the table.

Answering ``duplicate`` needs, for each batch, which of its ids are stored. Asking DuckDB
scans the whole key column (no index: an ART index made bulk loads 2.5× slower): measured
~3–5 ms at 100k events, ~40 ms at 1M random ids, for every commit. The writer keeps instead,
for each kind it collects (``events.event_id``, ``feedback.response_id``):

- the ids it wrote or read lately, as they are (up to 2 × ``recent`` of them): an id found
  there is stored;
- the 64-bit hashes of every stored id, sorted (8 bytes an id; DuckDB's ``hash()``, computed
  inside DuckDB so that a large table is never read into Python strings): an id whose hash
  is absent is not stored. Only an id whose hash is present but that is not among the
  recent ones (an older id resent, or a hash collision) is looked up in the table, with the
  other such ids of its batch.

Both are the table as the writer last left it, so they are trusted only while nothing else
wrote: each commit first reads the *fingerprint* ``(rows in the table, rows in ingest_log)``
and compares it with what the writer's own commits left. Every ingest (a file, an Arrow
table, the bulk path, the CLI before the server started) adds an ingest_log row, and an
erasure or a retention run removes rows from the table: either changes the fingerprint, and
the ids of the kind are then read again from the table, in the commit's transaction
(the hashes only, as a numpy array, once the table holds more than ``recent`` ids; also
the first commit's cost). DuckDB lets one process write a file at a
time, so other writers are this process's own (e.g. an erasure through the API).

Measured at 1M stored events: a batch of 100 new ids ~1.5 ms (the fingerprint) instead of
~43 ms; a batch resending older ids still pays one look-up in the table.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from touchlens.store import Store
from touchlens.store.backends import KeyLookup

RECENT = 100_000  # ids kept as they are, per generation (two generations are kept)
_MERGE = 50_000  # hashes gathered in a set before they are merged into the sorted array


# DuckDB's 64-bit hash of an id (a SQL template, so that tests can force collisions)
_HASH = "hash({})"


def _hashes(raw: Any, ids: Sequence[str]) -> np.ndarray:
    """The hash of each of ``ids`` (in order), as int64."""
    if not ids:
        return np.zeros(0, dtype=np.int64)
    lists = raw.execute(f"SELECT list_transform(?::VARCHAR[], x -> {_HASH.format('x')})",
                        [list(ids)]).fetchone()[0]
    return _as_int64(lists)


def _as_int64(hashes: list[int] | None) -> np.ndarray:
    """DuckDB's UBIGINT hashes as int64 (same bits)."""
    return np.array(hashes or [], dtype=np.uint64).view(np.int64)


def _stored(raw: Any, table: str, column: str, recent: int, rows: int
            ) -> tuple[np.ndarray, list[str]]:
    """(hashes of every stored id of ``table.column``, the ids themselves when there are
    at most ``recent`` of them, else [])."""
    where = f'FROM "{table}" WHERE "{column}" IS NOT NULL'
    if rows <= recent:
        ids = raw.execute(f'SELECT "{column}" {where}').to_arrow_table()[0].to_pylist()
        return _hashes(raw, ids), ids
    quoted = f'"{column}"'
    col = raw.execute(f"SELECT {_HASH.format(quoted)} AS h {where}").to_arrow_table()["h"]
    return col.to_numpy().astype(np.uint64, copy=False).view(np.int64), []


class _Ids:
    """The stored ids of one table (see the module docstring); ``rows``: its row count."""

    def __init__(self, hashes: np.ndarray, ids: list[str], rows: int, recent: int) -> None:
        self.rows = rows
        self._recent_max = recent
        self._sorted = np.sort(hashes)
        self._pending: set[int] = set()  # hashes not merged into _sorted yet
        self._recent: set[str] = set(ids)
        self._older: set[str] = set()

    def split(self, ids: Collection[str], hashes: dict[str, int]
              ) -> tuple[set[str], set[str]]:
        """``(stored, unsure)``: ids known to be stored, ids to look up in the table; every
        other id of ``ids`` is not stored. ``hashes``: id → its hash."""
        stored = {i for i in ids if i in self._recent or i in self._older}
        rest = [i for i in ids if i not in stored]
        if not rest or not (len(self._sorted) or self._pending):
            return stored, set()
        wanted = np.array([hashes[i] for i in rest], dtype=np.int64)
        found = np.zeros(len(rest), dtype=bool)
        if len(self._sorted):
            at = np.minimum(np.searchsorted(self._sorted, wanted), len(self._sorted) - 1)
            found = self._sorted[at] == wanted
        unsure = {i for i, h, hit in zip(rest, wanted.tolist(), found.tolist(), strict=True)
                  if hit or h in self._pending}
        return stored, unsure

    def add(self, ids: Collection[str], hashes: dict[str, int]) -> None:
        """Ids just stored (committed), with their hashes."""
        if len(self._recent) + len(ids) > self._recent_max:  # a new generation
            self._older, self._recent = self._recent, set()
        self._recent.update(ids)
        self._pending.update(hashes[i] for i in ids)
        if len(self._pending) >= _MERGE:
            # two sorted runs: the stable sort (timsort) merges them in linear time
            run = np.sort(np.fromiter(self._pending, dtype=np.int64, count=len(self._pending)))
            self._sorted = np.concatenate([self._sorted, run])
            self._sorted.sort(kind="stable")
            self._pending = set()


@dataclass(frozen=True)
class HashedLookup(KeyLookup):
    """A :class:`KeyLookup` with the DuckDB ``hash()`` of each checked id."""

    hashes: dict[str, int] = field(default_factory=dict)


class KnownKeys:
    """What the collector's writer knows of the stored ids, kind by kind (one instance per
    writer; used only inside its commits, which hold the server's write lock).

    Per commit: :meth:`lookup` (in the transaction, before the insert) then, once the
    transaction has committed, :meth:`committed`; after a failed commit, :meth:`forget`.
    """

    def __init__(self, recent: int = RECENT) -> None:
        self._recent = recent
        self._kinds: dict[str, _Ids] = {}
        self._log_rows: int | None = None  # ingest_log rows after the writer's last commit

    def lookup(self, store: Store, table: str, column: str, ids: Collection[str], *,
               sha256: str | None = None) -> tuple[HashedLookup, bool]:
        """Which of ``ids`` are stored in ``table.column`` (DuckDB, inside a transaction),
        and whether ingest_log holds a batch of that kind with content hash ``sha256``
        (asked in the same statement; False when not given). Pass the lookup on to
        :meth:`committed`: it carries the ids' hashes."""
        raw = store.con.con
        checked = set(ids)
        order = sorted(checked)
        # one statement: the fingerprint, the ids' hashes and (maybe) the content check
        seen_sql = ", (SELECT count(*) FROM ingest_log WHERE sha256 = ? AND kind = ?)"
        rows, log_rows, hash_list, *seen = raw.execute(
            f'SELECT (SELECT count(*) FROM "{table}"), (SELECT count(*) FROM ingest_log), '
            f"list_transform(?::VARCHAR[], x -> {_HASH.format('x')})"
            + (seen_sql if sha256 is not None else ""),
            [order, sha256, table] if sha256 is not None else [order]).fetchone()
        known = self._kinds.get(table)
        if log_rows != self._log_rows:  # someone else ingested: any kind may have new ids
            self._kinds.clear()
            self._log_rows = int(log_rows)
            known = None
        if known is None or known.rows != rows:  # or removed some (erasure, retention)
            hashes, recent_ids = _stored(raw, table, column, self._recent, int(rows))
            known = self._kinds[table] = _Ids(hashes, recent_ids, int(rows), self._recent)
        hashed = dict(zip(order, _as_int64(hash_list).tolist(), strict=True))
        stored, unsure = known.split(checked, hashed)
        if unsure:
            stored |= store.existing_keys(table, column, unsure).stored
        return HashedLookup(checked, stored, hashed), bool(seen and seen[0])

    def committed(self, table: str, inserted: Collection[str], lookup: HashedLookup) -> None:
        """The writer's transaction has committed: one row for each of the ``inserted`` ids
        (looked up by ``lookup``) was added to ``table``, and one row to ingest_log."""
        known = self._kinds.get(table)
        if known is None or self._log_rows is None:
            self.forget()
            return
        known.add(inserted, lookup.hashes)
        known.rows += len(inserted)
        self._log_rows += 1

    def forget(self) -> None:
        """Trust nothing kept so far (after a failed commit): read the ids again."""
        self._kinds.clear()
        self._log_rows = None
