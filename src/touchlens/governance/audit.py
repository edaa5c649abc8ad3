"""The audit log: who did what, when. Append-only and hash-chained.

Grain: one row per audited action (``seq`` 1, 2, 3…). Each entry stores the hash of the one
before it: ``hash = sha256(prev_hash ‖ seq ‖ recorded_at ‖ actor ‖ action ‖ target ‖
details)`` (hex), so :func:`verify_chain` detects an edited, deleted or reordered entry (and,
on DuckDB, through the head kept in ``meta``, a cut-off tail). touchlens never updates
or deletes audit rows (retention refuses the table, erase leaves it alone): entries must
therefore never hold a personal identifier in clear — erase writes only salted hashes.

Actions written by touchlens: ``ingest``, ``erase``, ``retention``, ``export`` (via
:func:`touchlens.governance.files.register_written_file`). Faces add their own with
:func:`record`, e.g. ``key_create`` / ``key_revoke`` for API keys.
"""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from touchlens.governance.actor import current_actor
from touchlens.store import Store
from touchlens.store import schema as S

GENESIS = "0" * 64
HEAD_KEY = "audit_head"


def _utc(at: Any) -> pd.Timestamp:
    ts = pd.Timestamp(at)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def _entry_hash(prev_hash: str, seq: int, at: datetime, actor: str, action: str, target: str,
                details: str) -> str:
    stamp = _utc(at).isoformat(timespec="microseconds")
    body = "\x1f".join([prev_hash, str(seq), stamp, actor, action, target, details])
    return hashlib.sha256(body.encode()).hexdigest()


def _last(store: Store) -> tuple[int, str]:
    """The chain's head ``(seq, hash)``. On DuckDB from ``meta`` (one keyed lookup: recording
    stays cheap however long the log grows), else from the table's last row."""
    if store.engine == "duckdb":
        head = store.get_meta(HEAD_KEY)
        if head:
            seq, _, digest = head.partition(":")
            return int(seq), digest
        rows = store.con.con.execute(
            "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchall()
        return (int(rows[0][0]), str(rows[0][1])) if rows else (0, GENESIS)
    log = store.table("audit_log")
    last = store.execute(log.order_by(log.seq.desc()).limit(1).select("seq", "hash"))
    if last.empty:
        return 0, GENESIS
    return int(last["seq"].iloc[0]), str(last["hash"].iloc[0])


@dataclass(frozen=True)
class Entry:
    """One entry to record: ``details`` must be JSON-serialisable; ``actor`` None = the
    current actor."""

    action: str
    target: str = ""
    details: dict[str, Any] | None = None
    actor: str | None = None


def record(store: Store, action: str, target: str = "", details: dict[str, Any] | None = None,
           *, actor: str | None = None, at: datetime | None = None) -> int:
    """Append one entry; returns its ``seq``. ``details`` must be JSON-serialisable."""
    return record_many(store, [Entry(action, target, details, actor)], at=at)


def record_many(store: Store, entries: list[Entry], *, at: datetime | None = None) -> int:
    """Append several entries at once (one insert; the collector audits each request of a
    merged batch this way); returns the last ``seq`` (0 when ``entries`` is empty)."""
    if any(not e.action for e in entries):
        raise ValueError("an audit entry needs an action")
    if not entries:
        return 0
    at = _utc(at).to_pydatetime() if at is not None else datetime.now(UTC)
    cols: dict[str, list[Any]] = {name: [] for name in S.AUDIT_LOG.names}
    # a served store (touchlens.api) shares the file between threads: read the head and
    # append under its write lock, so two writers never chain from the same head
    with getattr(store, "write_lock", None) or nullcontext(), store.transaction():
        seq, prev = _last(store)
        for e in entries:
            actor = e.actor or current_actor()
            text = json.dumps(e.details or {}, sort_keys=True, ensure_ascii=False, default=str)
            seq += 1
            digest = _entry_hash(prev, seq, at, actor, e.action, e.target, text)
            for name, value in zip(S.AUDIT_LOG.names, (seq, at, actor, e.action, e.target, text,
                                                       prev, digest), strict=True):
                cols[name].append(value)
            prev = digest
        if store.engine == "duckdb":  # the collector's hot path: one plain INSERT, no Arrow
            row = "(" + ", ".join("?" for _ in cols) + ")"
            values = [v for r in zip(*cols.values(), strict=True) for v in r]
            store.con.con.execute(f"INSERT INTO audit_log ({', '.join(cols)}) VALUES "
                                  + ", ".join([row] * len(entries)), values)
        else:
            store.append("audit_log", pa.table(cols, schema=S.AUDIT_LOG))
        if store.engine == "duckdb":
            # the head lets a cut-off tail be detected and keeps _last O(1); on Spark
            # rewriting meta per entry would cost seconds
            store.set_meta(HEAD_KEY, f"{seq}:{prev}")
    return seq


def audit_log(store: Store, *, action: str | None = None, actor: str | None = None,
              since: datetime | None = None, limit: int | None = None) -> pd.DataFrame:
    """Entries, oldest first: seq, recorded_at, actor, action, target, details, prev_hash, hash."""
    log = store.table("audit_log")
    if action:
        log = log.filter(log.action == action)
    if actor:
        log = log.filter(log.actor == actor)
    if since is not None:
        log = log.filter(log.recorded_at >= _utc(since).to_pydatetime())
    log = log.order_by(log.seq.desc())
    if limit:
        log = log.limit(limit)
    return store.execute(log).sort_values("seq", ignore_index=True)


def verify_chain(store: Store) -> int | None:
    """The ``seq`` of the first entry that does not check out (edited, missing, reordered,
    or cut off after the recorded head), or None when the chain is intact."""
    frame = audit_log(store)
    prev, expected_seq = GENESIS, 1
    for row in frame.itertuples(index=False):
        digest = _entry_hash(prev, int(row.seq), row.recorded_at, row.actor, row.action, row.target,
                             row.details)
        if int(row.seq) != expected_seq or row.prev_hash != prev or row.hash != digest:
            return expected_seq
        prev, expected_seq = row.hash, expected_seq + 1
    head = store.get_meta(HEAD_KEY)
    if head is not None and head != f"{expected_seq - 1}:{prev}":
        return expected_seq
    return None
