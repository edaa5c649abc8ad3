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
    log = store.table("audit_log")
    last = store.execute(log.order_by(log.seq.desc()).limit(1).select("seq", "hash"))
    if last.empty:
        return 0, GENESIS
    return int(last["seq"].iloc[0]), str(last["hash"].iloc[0])


def record(store: Store, action: str, target: str = "", details: dict[str, Any] | None = None,
           *, actor: str | None = None, at: datetime | None = None) -> int:
    """Append one entry; returns its ``seq``. ``details`` must be JSON-serialisable."""
    if not action:
        raise ValueError("an audit entry needs an action")
    actor = actor or current_actor()
    at = _utc(at).to_pydatetime() if at is not None else datetime.now(UTC)
    text = json.dumps(details or {}, sort_keys=True, ensure_ascii=False, default=str)
    with store.transaction():
        seq, prev = _last(store)
        seq += 1
        digest = _entry_hash(prev, seq, at, actor, action, target, text)
        store.append("audit_log", pa.table({
            "seq": [seq], "recorded_at": [at], "actor": [actor], "action": [action],
            "target": [target], "details": [text], "prev_hash": [prev], "hash": [digest],
        }, schema=S.AUDIT_LOG))
        if store.engine == "duckdb":
            # the head lets a cut-off tail be detected; on Spark rewriting meta per entry
            # would cost seconds
            store.set_meta(HEAD_KEY, f"{seq}:{digest}")
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
