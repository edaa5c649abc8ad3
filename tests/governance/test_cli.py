"""The governance commands: erase, retention, audit, consent (actor "cli" in the audit log)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from touchlens import Workspace
from touchlens.cli import app


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "w.duckdb"
    with Workspace.open(path) as ws:
        ws.ingest_arrow(pd.DataFrame({
            "event_id": ["e1", "e2", "e3"], "occurred_at": ["2020-01-01", "2026-01-01",
                                                            "2026-01-02"],
            "customer_id": ["kowalski-1", "kowalski-1", "c2"], "channel": "web",
            "event_type": "visit"}),
            "events")
        ws.ingest_arrow(pd.DataFrame({"customer_id": ["kowalski-1", "c2"],
                                      "purpose": ["marketing"] * 2,
                                      "status": ["granted", "denied"],
                                      "occurred_at": ["2026-01-01"] * 2}), "consent")
    return path


def run(*args: str, input: str | None = None):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"}, input=input)


def test_erase_asks_for_confirmation_and_prints_a_receipt(db):
    refused = run("erase", "--customer", "kowalski-1", "--db", str(db), input="n\n")
    assert refused.exit_code == 1
    dry = run("erase", "--customer", "kowalski-1", "--dry-run", "--db", str(db), "--format",
              "json")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["rows_deleted"]["events"] == 2
    done = run("erase", "--customer", "kowalski-1", "--yes", "--db", str(db), "--format", "json")
    assert done.exit_code == 0, done.output
    receipt = json.loads(done.stdout)
    assert receipt["actor"] == "cli" and receipt["remaining"] == {}
    assert "kowalski" not in done.stdout
    usage = run("erase", "--customer", "c2", "--email", "a@b.pl", "--db", str(db), "-y")
    assert usage.exit_code == 2 and "exactly one" in usage.output


def test_retention_set_show_apply(db):
    assert run("retention", "set", "events=365", "--db", str(db)).exit_code == 0
    shown = run("retention", "show", "--db", str(db), "--format", "json")
    assert json.loads(shown.stdout) == [{"table": "events", "column": "occurred_at",
                                         "days": 365.0}]
    applied = run("retention", "apply", "--now", "2026-02-01", "--db", str(db),
                  "--format", "json")
    assert applied.exit_code == 0, applied.output
    assert json.loads(applied.stdout)[0]["rows_deleted"] == 1
    bad = run("retention", "apply", "audit_log=1", "--db", str(db))
    assert bad.exit_code == 2 and "append-only" in bad.output


def test_audit_lists_and_verifies(db):
    run("retention", "set", "events=365", "--db", str(db))
    out = run("audit", "--db", str(db), "--format", "json", "--verify")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert [r["action"] for r in rows] == ["ingest", "ingest", "retention_policy"]
    assert [r["actor"] for r in rows] == ["python", "python", "cli"]
    assert "intact" in out.stderr
    with Workspace.open(db) as ws:
        ws.store.con.con.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 1")
    broken = run("audit", "--db", str(db), "--verify")
    assert broken.exit_code == 1 and "broken at entry 1" in broken.stderr


def test_consent_counts(db):
    out = run("consent", "--db", str(db), "--format", "json")
    assert json.loads(out.stdout) == [
        {"purpose": "analytics", "granted": 0, "denied": 0},
        {"purpose": "personalization", "granted": 0, "denied": 0},
        {"purpose": "marketing", "granted": 1, "denied": 1}]
