"""The collector's writer: requests announced while it is about to commit are written in
the same transaction (group commit); a lone request does not wait; nothing is lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from touchlens import Workspace
from touchlens.api.writer import QueueFull, Writer

LONG = 30.0  # a linger no test may wait for: the tests below finish long before it


def _items(prefix: str, n: int = 3) -> list[dict]:
    return [{"event_id": f"{prefix}{i}", "occurred_at": "2026-02-01T10:00:00Z",
             "customer_id": "k1", "channel": "email", "touchpoint": "newsletter",
             "event_type": "open"} for i in range(n)]


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(tmp_path / "w.duckdb") as w:
        yield w


def _writer(ws: Workspace, **kwargs) -> Writer:
    writer = Writer(ws.store, threading.RLock(), ws.settings, **kwargs)
    writer.start()
    return writer


def test_announced_requests_share_one_transaction(ws: Workspace) -> None:
    writer = _writer(ws, linger_s=LONG)
    try:
        first, second = writer.announce(), writer.announce()
        a = writer.submit("events", _items("a"), arrival=first)
        b = writer.submit("events", _items("b"), arrival=second)
        ra, rb = a.result(timeout=10), b.result(timeout=10)
    finally:
        writer.stop()
    assert ra.batch_id == rb.batch_id  # one merged batch: one ingest
    assert (ra.accepted, rb.accepted) == (3, 3)
    assert ws.store.count("events") == 6


def test_a_lone_request_does_not_wait(ws: Workspace) -> None:
    writer = _writer(ws, linger_s=LONG)
    try:
        result = writer.submit("events", _items("a")).result(timeout=10)
    finally:
        writer.stop()
    assert result.accepted == 3


def test_an_announced_request_that_never_comes_releases_the_writer(ws: Workspace) -> None:
    """A request refused before it reaches the writer (401, 413, 422) ends its
    announcement; the writer then commits what it has."""
    writer = _writer(ws, linger_s=LONG)
    try:
        refused, sent = writer.announce(), writer.announce()
        future = writer.submit("events", _items("a"), arrival=sent)
        refused.close()
        refused.close()  # idempotent
        assert future.result(timeout=10).accepted == 3
    finally:
        writer.stop()


def test_stop_finishes_the_queued_jobs(ws: Workspace) -> None:
    writer = _writer(ws, linger_s=LONG)
    pending = writer.announce()
    futures = [writer.submit("events", _items(p)) for p in "abc"]
    writer.stop()  # stopping ends the wait for the announced request too
    assert sum(f.result(timeout=10).accepted for f in futures) == 9
    pending.close()
    assert ws.store.count("events") == 9


def test_a_full_queue_is_refused_and_the_rest_is_written(ws: Workspace) -> None:
    lock = threading.RLock()
    writer = Writer(ws.store, lock, ws.settings, queue_size=1)
    writer.start()
    accepted: list = []
    try:
        # the writer blocks in its commit (it needs the lock): nothing leaves the queue
        with lock, pytest.raises(QueueFull):
            for p in "abcdefgh":
                accepted.append(writer.submit("events", _items(p)))
        total = sum(f.result(timeout=10).accepted for f in accepted)
    finally:
        writer.stop()
    assert 1 <= len(accepted) < 8 and total == 3 * len(accepted)
    assert ws.store.count("events") == total


def test_the_writer_accounts_for_its_commits(ws: Workspace) -> None:
    writer = _writer(ws)
    try:
        for prefix in "ab":
            writer.submit("events", _items(prefix, 4)).result(timeout=10)
        writer.submit("events", _items("a", 2)).result(timeout=10)  # duplicates count as rows
    finally:
        writer.stop()
    stats = writer.stats
    assert (stats.commits, stats.requests, stats.rows) == (3, 3, 10)
    assert stats.cpu_s > 0 and stats.wall_s > 0
    assert stats.summary().startswith("3 commits, 3 requests, 10 rows; per commit ")
