"""kill -9 of the API server under collector load: every acknowledged batch is stored, every
other batch is stored whole or not at all, and resending the batches completes the data."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from touchlens import Workspace

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

N_BATCHES, BATCH = 40, 400


def _batch(b: int) -> list[dict]:
    return [{"event_id": f"b{b}_{i}", "occurred_at": "2026-01-01T10:00:00Z",
             "customer_id": f"c{i % 50}", "channel": "web", "touchpoint": "home",
             "event_type": "page_view"} for i in range(BATCH)]


@pytest.mark.slow
def test_kill_during_collector_load(tmp_path, kill9):
    from touchlens.api.security.keys import create_key

    db = tmp_path / "w.duckdb"
    with Workspace.open(db) as ws:
        key, _ = create_key(ws, "write", "drill")
    child = Path(__file__).with_name("api_child.py")
    src = str(Path(__file__).resolve().parents[2] / "src")
    proc = subprocess.Popen([sys.executable, str(child), str(db)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": src})
    try:
        port = int(proc.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(timeout=120) as client:  # waits in the backlog until serving
            assert client.get(f"{base}/health").json()["status"] == "ok"
        acked: set[int] = set()
        enough = threading.Event()
        lock = threading.Lock()

        def send(b: int) -> None:
            try:
                with httpx.Client(timeout=120) as client:
                    r = client.post(f"{base}/v1/events", json=_batch(b), headers=headers)
            except httpx.HTTPError:
                return  # the server died under us
            if r.status_code == 200 and r.json()["accepted"] == BATCH:
                with lock:
                    acked.add(b)
                    if len(acked) >= N_BATCHES // 4:
                        enough.set()

        with ThreadPoolExecutor(4) as pool:
            for b in range(N_BATCHES):
                pool.submit(send, b)
            assert enough.wait(300), "the server acknowledged too few batches"
            kill9(proc)  # requests are still queued and in flight
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)
    with Workspace.open(db) as ws:
        ids = ws.store.execute(ws.store.table("events").select("event_id")).event_id
    per_batch = ids.str.split("_").str[0].str[1:].astype(int).value_counts()
    assert set(per_batch.values) <= {BATCH}  # never part of a batch
    assert acked <= set(per_batch.index)  # every acknowledged batch is there
    assert len(per_batch) < N_BATCHES  # the kill did interrupt the load
    with Workspace.open(db) as ws:  # resending everything completes the data
        every = pd.DataFrame([e for b in range(N_BATCHES) for e in _batch(b)])
        r = ws.ingest_arrow(every, "events").iloc[0]
        assert r.duplicates == ids.size and ws.store.count("events") == N_BATCHES * BATCH
