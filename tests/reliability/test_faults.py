"""Disk full, read-only workspace, corrupted files: a clear error, nothing half-written."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from touchlens import StoreError, UnreadableFileError, Workspace

from_root = os.geteuid() == 0
SETPRIV = shutil.which("setpriv")
TABLES = ("events", "quarantine", "ingest_log", "audit_log")


def _counts(db) -> dict[str, int]:
    with Workspace.open(db) as ws:
        return {t: ws.store.count(t) for t in TABLES}


def _seeded(tmp_path, write_events):
    db = tmp_path / "w.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest(write_events(tmp_path / "seed.csv", 10, prefix="s"), "events")
    return db, _counts(db)


def _run_child(args, *, drop_dac: bool = False) -> dict:
    from pathlib import Path

    child = Path(__file__).with_name("crash_child.py")
    cmd = [sys.executable, str(child), *map(str, args)]
    if drop_dac:  # root ignores file permissions unless it gives up these capabilities
        cmd = [SETPRIV, "--bounding-set=-dac_override,-dac_read_search",
               "--inh-caps=-dac_override,-dac_read_search", *cmd]
    src = str(Path(__file__).resolve().parents[2] / "src")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": src})
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    assert lines, out.stderr[-3000:]
    return json.loads(lines[-1])


@pytest.mark.parametrize("rows, limit", [
    pytest.param(130_000, 2_500_000, marks=pytest.mark.slow,
                 id="blocks"),  # a batch over a row group: its blocks no longer fit the file
    pytest.param(2_000, 50_000, id="wal"),  # the commit cannot write the write-ahead log
])
def test_disk_full_is_a_store_error_and_nothing_is_half_written(tmp_path, write_events, rows,
                                                                limit):
    db, before = _seeded(tmp_path, write_events)
    big = write_events(tmp_path / "big.csv", rows, bad_every=100)
    outcome = _run_child([db, f"fsize:{limit}", big])
    assert not outcome["ok"], outcome
    assert (outcome["module"], outcome["type"]) == ("touchlens.errors", "StoreError")
    assert "File too large" in outcome["message"]
    assert _counts(db) == before
    with Workspace.open(db) as ws:  # space is back: the same ingest now succeeds
        assert ws.ingest(big, "events").stored.iloc[0] == rows - rows // 100


@pytest.mark.skipif(from_root and not SETPRIV, reason="root ignores file modes without setpriv")
def test_read_only_workspace_file_is_a_clear_error(tmp_path, write_events):
    db, before = _seeded(tmp_path, write_events)
    small = write_events(tmp_path / "small.csv", 5, prefix="x")
    db.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        outcome = _run_child([db, "fsize:1000000000", small], drop_dac=from_root)
    finally:
        tmp_path.chmod(0o755)
        db.chmod(0o644)
    assert (outcome["type"], outcome["ok"]) == ("StoreError", False)
    assert "cannot open workspace" in outcome["message"]
    assert "Permission denied" in outcome["message"]
    assert _counts(db) == before


@pytest.mark.skipif(from_root and not SETPRIV, reason="root ignores file modes without setpriv")
def test_read_only_folder_fails_at_commit_with_nothing_written(tmp_path, write_events):
    db, before = _seeded(tmp_path, write_events)
    small = write_events(tmp_path / "small.csv", 5, prefix="x")
    db.chmod(0o666)
    tmp_path.chmod(0o555)  # the write-ahead log cannot be created
    try:
        outcome = _run_child([db, "fsize:1000000000", small], drop_dac=from_root)
    finally:
        tmp_path.chmod(0o755)
    assert (outcome["type"], outcome["ok"]) == ("StoreError", False)
    assert "commit failed, nothing was written" in outcome["message"]
    assert _counts(db) == before


def test_corrupted_workspace_files_are_a_clear_error(tmp_path, write_events):
    db, _ = _seeded(tmp_path, write_events)
    good = db.read_bytes()
    cases = {
        "garbage.duckdb": os.urandom(50_000),
        "text.duckdb": b"event_id,occurred_at\n" * 1000,
        "truncated.duckdb": good[: len(good) // 3],
        "flipped.duckdb": good[:12_352] + bytes(b ^ 0xFF for b in good[12_352:12_416])
        + good[12_416:],
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(StoreError, match="cannot open workspace") as info:
            Workspace.open(path)
        assert name in str(info.value)


def test_corrupted_input_files_change_nothing(tmp_path, write_events):
    db, before = _seeded(tmp_path, write_events)
    good = write_events(tmp_path / "good.csv", 50, prefix="g")
    pq.write_table(pa.table({"event_id": ["p1"] * 500, "channel": ["web"] * 500}),
                   tmp_path / "good.parquet")
    broken = {
        "cut.csv.gz": gzip.compress(good.read_bytes())[:200],
        "cut.parquet": (tmp_path / "good.parquet").read_bytes()[:300],
        "binary.csv": os.urandom(4_000).replace(b"\n", b"\x00"),
        "empty.csv": b"",
    }
    with Workspace.open(db) as ws:
        for name, data in broken.items():
            path = tmp_path / name
            path.write_bytes(data)
            with pytest.raises(UnreadableFileError, match=name):
                ws.ingest(path, "events")
    assert _counts(db) == before
