"""kill -9 in the middle of an ingest: the store holds the whole batch or none of it, and the
ingest can simply be run again."""

from __future__ import annotations

from touchlens import Workspace

N = 30_000  # big enough that DuckDB writes blocks to the file before the commit


def _counts(db) -> dict[str, int]:
    with Workspace.open(db) as ws:
        return {t: ws.store.count(t) for t in ("events", "quarantine", "ingest_log",
                                               "audit_log")}


def test_kill_before_commit_leaves_nothing_and_the_ingest_resumes(tmp_path, stopped_child,
                                                                  write_events, kill9):
    db, big = tmp_path / "w.duckdb", write_events(tmp_path / "big.csv", N, bad_every=1000)
    kill9(stopped_child(db, "before-commit:1", big))
    assert _counts(db) == {"events": 0, "quarantine": 0, "ingest_log": 0, "audit_log": 0}
    with Workspace.open(db) as ws:
        r = ws.ingest(big, "events").iloc[0]
        assert (r.rows_in, r.stored, r.quarantined, r.duplicates) == (N, N - 30, 30, 0)


def test_kill_after_commit_keeps_the_whole_batch(tmp_path, stopped_child, write_events, kill9):
    db, big = tmp_path / "w.duckdb", write_events(tmp_path / "big.csv", N, bad_every=1000)
    kill9(stopped_child(db, "after-commit", big))
    assert _counts(db) == {"events": N - 30, "quarantine": 30, "ingest_log": 1, "audit_log": 1}
    with Workspace.open(db) as ws:  # running it again changes nothing
        r = ws.ingest(big, "events").iloc[0]
        assert (r.stored, r.quarantined, r.duplicates) == (0, 0, N)


def test_kill_between_files_keeps_the_finished_files(tmp_path, stopped_child, write_events, kill9):
    db = tmp_path / "w.duckdb"
    first = write_events(tmp_path / "a.csv", 5_000, prefix="a")
    second = write_events(tmp_path / "b.csv", 5_000, prefix="b")
    kill9(stopped_child(db, "before-commit:2", first, second))
    assert _counts(db) == {"events": 5_000, "quarantine": 0, "ingest_log": 1, "audit_log": 1}
    with Workspace.open(db) as ws:  # resume: the same command again
        res = ws.ingest([first, second], "events")
        assert res.stored.tolist() == [0, 5_000] and res.duplicates.tolist() == [5_000, 0]
        assert ws.store.count("events") == 10_000
