"""The audit log: who did what and when; append-only, and tampering is detected."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from touchlens import Workspace
from touchlens.governance import acting_as, current_actor
from touchlens.governance.audit import verify_chain

EVENTS = pd.DataFrame({"event_id": ["e1", "e2"], "occurred_at": ["2026-01-01"] * 2,
                       "customer_id": ["c1", "c2"], "channel": "web", "event_type": "visit"})


@pytest.fixture
def ws(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb") as w:
        yield w


def test_ingest_erase_export_and_key_changes_are_audited(ws, tmp_path):
    ws.ingest_arrow(EVENTS, "events", source="crm.csv")
    with acting_as("key:k42"):
        ws.audit("key_create", "k43", {"scope": "read"})
        ws.register_written_file(tmp_path / "out.csv", "export")
    ws.erase(customer="c1")
    log = ws.audit_log()
    assert list(log.seq) == [1, 2, 3, 4]
    assert list(log.action) == ["ingest", "key_create", "export", "erase"]
    assert list(log.actor) == ["python", "key:k42", "key:k42", "python"]
    details = json.loads(log.details.iloc[0])
    assert details["stored"] == 2 and details["kind"] == "events"
    assert log.target.iloc[0] == "crm.csv" and log.recorded_at.is_monotonic_increasing
    assert list(ws.audit_log(action="export").target) == [str((tmp_path / "out.csv").resolve())]
    assert verify_chain(ws.store) is None


def test_actor_is_scoped_to_the_block():
    assert current_actor() == "python"
    with acting_as("cli"):
        assert current_actor() == "cli"
        with acting_as("key:a"):
            assert current_actor() == "key:a"
        assert current_actor() == "cli"
    assert current_actor() == "python"
    with pytest.raises(ValueError), acting_as(" "):
        pass


def test_an_ingest_and_its_audit_entry_commit_together(ws, tmp_path, monkeypatch):
    from touchlens.governance import audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        ws.ingest_arrow(EVENTS, "events")
    assert ws.store.count("events") == 0 and ws.store.count("ingest_log") == 0


@pytest.mark.parametrize("tamper", [
    "UPDATE audit_log SET details = '{\"stored\": 0}' WHERE seq = 1",
    "DELETE FROM audit_log WHERE seq = 2",
    "DELETE FROM audit_log WHERE seq = 3",  # the tail: caught by the recorded head
    "UPDATE audit_log SET actor = 'cli' WHERE seq = 3",
])
def test_tampering_is_detected(ws, tamper):
    for i in range(3):
        ws.audit("export", f"file{i}.csv")
    assert verify_chain(ws.store) is None
    ws.store.con.con.execute(tamper)
    assert verify_chain(ws.store) is not None


def test_the_head_comes_from_meta_and_an_old_workspace_without_it_still_chains(ws):
    from touchlens.governance.audit import HEAD_KEY, Entry, record_many

    ws.audit("a")
    assert ws.store.get_meta(HEAD_KEY).startswith("1:")
    ws.store.con.con.execute("DELETE FROM meta WHERE key = ?", [HEAD_KEY])  # pre-head workspace
    assert record_many(ws.store, [Entry("b", actor="key:x"), Entry("c", "t", {"n": 1})]) == 3
    log = ws.audit_log()
    assert list(log.seq) == [1, 2, 3] and list(log.actor) == ["python", "key:x", "python"]
    assert ws.store.get_meta(HEAD_KEY) == f"3:{log.hash.iloc[-1]}"
    assert verify_chain(ws.store) is None
