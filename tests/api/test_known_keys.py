"""The writer's stored ids (api.known_keys) answer ``duplicate`` exactly as a look-up in the
table would: ids stored before the writer started, ids ingested beside it, ids erased since,
old ids past the recent ones and ids whose hashes collide."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.api import known_keys as K
from touchlens.api.known_keys import KnownKeys
from touchlens.api.writer import Writer


def _items(ids: list[str], customer: str = "k1") -> list[dict]:
    return [{"event_id": i, "occurred_at": "2026-02-01T10:00:00Z", "customer_id": customer,
             "channel": "email", "touchpoint": "newsletter", "event_type": "open"}
            for i in ids]


def _ingest(ws: Workspace, ids: list[str]) -> None:
    """A plain ingest, not through the writer (as ``touchlens ingest`` would do)."""
    ws.ingest_arrow(pd.DataFrame(_items(ids)), "events", source="file.csv")


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    with Workspace.open(tmp_path / "w.duckdb") as w:
        yield w


@pytest.fixture
def writer(ws: Workspace) -> Iterator[Writer]:
    w = Writer(ws.store, threading.RLock(), ws.settings)
    w.start()
    yield w
    w.stop()


def _statuses(writer: Writer, ids: list[str], customer: str = "k1") -> list[str]:
    result = writer.submit("events", _items(ids, customer)).result(timeout=10)
    return [i.status for i in result.items]


def test_an_id_stored_before_the_writer_started_is_a_duplicate(ws: Workspace) -> None:
    _ingest(ws, ["e1", "e2"])
    w = Writer(ws.store, threading.RLock(), ws.settings)
    w.start()
    try:
        assert _statuses(w, ["e1", "e3", "e3"]) == ["duplicate", "accepted", "duplicate"]
    finally:
        w.stop()
    assert ws.store.count("events") == 3


def test_feedback_ids_are_known_too(ws: Workspace, writer: Writer) -> None:
    ws.ingest_arrow(pd.DataFrame([{"response_id": "r1", "occurred_at": "2026-02-01T10:00:00Z",
                                   "nps": 9}]), "feedback", source="survey.csv")
    items = [{"response_id": r, "occurred_at": "2026-02-01T10:00:00Z", "nps": 7}
             for r in ("r1", "r2", "r2")]
    result = writer.submit("feedback", items).result(timeout=10)
    assert [i.status for i in result.items] == ["duplicate", "accepted", "duplicate"]
    again = writer.submit("feedback", items[1:2]).result(timeout=10)
    assert [i.status for i in again.items] == ["duplicate"]
    assert ws.store.count("feedback") == 2


def test_an_id_ingested_beside_the_running_writer_is_a_duplicate(ws: Workspace,
                                                                 writer: Writer) -> None:
    assert _statuses(writer, ["e1"]) == ["accepted"]
    _ingest(ws, ["e2"])  # the writer's own ids are now stale: ingest_log grew
    assert _statuses(writer, ["e2", "e1", "e4"]) == ["duplicate", "duplicate", "accepted"]
    assert ws.store.count("events") == 3


def test_an_ingest_beside_the_writer_is_seen_when_an_erasure_evens_the_row_count(
        ws: Workspace, writer: Writer) -> None:
    assert _statuses(writer, ["x1"], customer="gone") == ["accepted"]
    ws.erase(customer="gone")  # one row fewer ...
    _ingest(ws, ["e2"])  # ... and one more: the same number of events as the writer left
    assert _statuses(writer, ["e2", "x1"], customer="k1") == ["duplicate", "accepted"]
    assert ws.store.count("events") == 2


def test_an_erased_id_is_accepted_again(ws: Workspace, writer: Writer) -> None:
    """As before: a resent event of an erased person is not stored, so it is accepted."""
    assert _statuses(writer, ["e1", "e2"], customer="gone") == ["accepted", "accepted"]
    ws.erase(customer="gone")
    assert ws.store.count("events") == 0
    assert _statuses(writer, ["e1"], customer="gone") == ["accepted"]
    assert ws.store.count("events") == 1


def _lookups(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The ids each look-up in the table was asked about."""
    asked: list[set[str]] = []
    table_lookup = ws.store.existing_keys

    def spy(name: str, column: str, values: set[str]):
        asked.append(set(values))
        return table_lookup(name, column, values)

    monkeypatch.setattr(ws.store, "existing_keys", spy)
    return asked


def _lookup(ws: Workspace, known: KnownKeys, ids: list[str]) -> set[str]:
    with ws.store.transaction():
        return known.lookup(ws.store, "events", "event_id", ids)[0].stored


def test_recent_ids_need_no_look_up_in_the_table(ws: Workspace,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    _ingest(ws, ["e1", "e2"])
    asked = _lookups(ws, monkeypatch)
    known = KnownKeys()
    assert _lookup(ws, known, ["e1", "new", "e2"]) == {"e1", "e2"}
    assert asked == []


def test_old_ids_are_looked_up_in_the_table_and_new_ones_are_not(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    _ingest(ws, [f"e{i}" for i in range(10)])
    asked = _lookups(ws, monkeypatch)
    known = KnownKeys(recent=3)  # 10 stored ids: only their hashes are kept
    assert _lookup(ws, known, ["e1", "new", "e7"]) == {"e1", "e7"}
    assert asked == [{"e1", "e7"}]


def test_colliding_hashes_are_settled_by_the_table(ws: Workspace,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    _ingest(ws, [f"e{i}" for i in range(5)])
    monkeypatch.setattr(K, "_HASH", "(0 * length({}))::UBIGINT")  # every id hashes to 0
    known = KnownKeys(recent=2)
    assert _lookup(ws, known, ["e3", "new"]) == {"e3"}


def test_ids_written_by_the_writer_stay_known_across_generations(ws: Workspace) -> None:
    w = Writer(ws.store, threading.RLock(), ws.settings)
    w._known = KnownKeys(recent=4)  # a new generation every few ids
    w.start()
    try:
        for n in range(6):
            assert _statuses(w, [f"a{n}", f"b{n}", f"c{n}"]) == ["accepted"] * 3
        again = _statuses(w, ["a0", "c2", "b5", "z"])
    finally:
        w.stop()
    assert again == ["duplicate", "duplicate", "duplicate", "accepted"]
    assert ws.store.count("events") == 19
