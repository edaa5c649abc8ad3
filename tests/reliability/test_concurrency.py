"""Readers while a writer ingests: no reader error, and no partially ingested batch visible.

DuckDB: one process may write a workspace file; inside it, readers use their own cursor
(``store.con.con.cursor()``) and see only committed batches (snapshot isolation). Another
process cannot open the file while the writer holds it: it gets a clear StoreError.
"""

from __future__ import annotations

import threading

import ibis
import pytest

from touchlens import StoreError, Workspace
from touchlens.store import Store

SNAPSHOT = ("SELECT (SELECT count(*) FROM events), "
            "(SELECT coalesce(sum(stored), 0) FROM ingest_log WHERE kind = 'events')")
N_FILES, N_ROWS = 4, 3_000


def test_readers_never_see_a_partial_batch(tmp_path, write_events, monkeypatch):
    files = [write_events(tmp_path / f"f{i}.csv", N_ROWS, prefix=f"f{i}_")
             for i in range(N_FILES)]
    ws = Workspace.open(tmp_path / "w.duckdb")
    boundaries = {i * N_ROWS for i in range(N_FILES + 1)}
    in_tx, looked, done = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []
    during: list[tuple[int, int]] = []  # what a reader saw while a batch was uncommitted
    append = Store.append

    def pausing_append(self, name, table):
        if name == "ingest_log" and self is ws.store:  # rows written, commit not yet done
            in_tx.set()
            if not looked.wait(60):
                raise TimeoutError("reader did not look")
            looked.clear()
        return append(self, name, table)

    monkeypatch.setattr(Store, "append", pausing_append)

    def checkpoint_reader() -> None:
        cur = ws.store.con.con.cursor()
        try:
            for _ in range(N_FILES):
                if not in_tx.wait(60):
                    raise TimeoutError("writer did not start a batch")
                in_tx.clear()
                during.append(cur.execute(SNAPSHOT).fetchone())
                looked.set()
        except BaseException as exc:
            errors.append(exc)
            looked.set()

    def free_reader(use_ibis: bool) -> None:
        cur = ws.store.con.con.cursor()
        reader = Store(ibis.duckdb.from_connection(cur), "duckdb") if use_ibis else None
        try:
            while not done.is_set():
                events, logged = cur.execute(SNAPSHOT).fetchone()
                assert events == logged and events in boundaries, (events, logged)
                if reader is not None:
                    assert reader.count("ingest_log") in range(N_FILES + 1)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=checkpoint_reader),
               threading.Thread(target=free_reader, args=(False,)),
               threading.Thread(target=free_reader, args=(True,))]
    for t in threads:
        t.start()
    try:
        for f in files:  # one transaction per file
            ws.ingest(f, "events")
    finally:
        done.set()
        for t in threads:
            t.join(60)
    assert not errors, errors
    # while batch k was written but not committed, readers saw exactly the k-1 before it
    assert during == [(i * N_ROWS, i * N_ROWS) for i in range(N_FILES)]
    assert ws.store.count("events") == N_FILES * N_ROWS
    ws.close()


def test_a_second_process_gets_a_clear_error_while_the_writer_holds_the_file(
        tmp_path, stopped_child, write_events):
    db = tmp_path / "w.duckdb"
    Workspace.open(db).close()
    stopped_child(db, "hold")
    with pytest.raises(StoreError, match=r"cannot open workspace .*lock"):
        Workspace.open(db)
