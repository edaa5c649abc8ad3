"""Retention: raw rows older than the period go, the latest consent stays, aggregates stay."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import pytest

from touchlens import ConfigError, Workspace
from touchlens.governance import retention as R

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def ws(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb") as w:
        days = ["2025-01-01", "2026-01-01", "2026-05-20", "2026-05-31"]
        w.ingest_arrow(pd.DataFrame({
            "event_id": [f"e{i}" for i in range(4)], "occurred_at": days,
            "customer_id": ["c1", "c2", "c1", "c3"], "channel": "web",
            "event_type": "visit"}), "events")
        w.ingest_arrow(pd.DataFrame({"response_id": ["r1", "r2"],
                                     "occurred_at": ["2025-01-01", "2026-05-30"],
                                     "customer_id": ["c1", "c2"], "nps": [9, 3]}), "feedback")
        w.ingest_arrow(pd.DataFrame({
            "customer_id": ["c1", "c1", "c2", "c3", "c3"], "purpose": ["marketing"] * 5,
            "status": ["granted", "denied", "granted", "granted", "denied"],
            "occurred_at": ["2024-01-01", "2024-06-01", "2024-01-01", "2025-01-01",
                            "2025-01-01"]}), "consent")
        w.ingest_arrow(pd.DataFrame({"date": ["2024-01-01"], "channel": ["web"],
                                     "spend": [10.0]}), "costs")
        yield w


def test_old_rows_go_and_the_latest_consent_stays(ws):
    before = ws.consent_status()
    out = ws.apply_retention({"events": 30, "feedback": 365, "consent": 30}, now=NOW)
    assert dict(zip(out.table, out.rows_deleted, strict=True)) == {
        "consent": 2, "events": 2, "feedback": 1}
    assert sorted(ws.store.execute(ws.store.table("events")).event_id) == ["e2", "e3"]
    assert list(ws.store.execute(ws.store.table("feedback")).response_id) == ["r2"]
    after = ws.consent_status()
    pd.testing.assert_frame_equal(before, after)  # only superseded records went
    assert ws.store.count("consent") == 3
    assert ws.store.count("costs") == 1  # aggregates are not touched
    entry = ws.audit_log(action="retention").iloc[0]
    assert '"rows_deleted": 2' in entry.details
    assert ws.journeys().customer_id.tolist() == ["c1", "c3"]  # identity map rebuilt


def test_dry_run_changes_nothing(ws):
    out = ws.apply_retention({"events": 30}, now=NOW, dry_run=True)
    assert out.rows_deleted.tolist() == [2] and ws.store.count("events") == 4
    assert ws.audit_log(action="retention").empty


def test_policy_sources_and_validation(ws, tmp_path):
    R.set_policy(ws.store, {"events": 400})
    assert R.effective_policy(ws.store) == {"events": 400.0}
    assert R.effective_policy(ws.store, {"events": 30, "quarantine": 7}, {"quarantine": 1}) == {
        "events": 30.0, "quarantine": 1.0}
    out = ws.apply_retention(now=NOW)
    assert out.rows_deleted.tolist() == [1]  # the 2025-01-01 event, older than 400 days
    with Workspace.open(tmp_path / "w.duckdb", retention_days={"events": 30}) as again:
        pass  # the settings field is validated by pydantic
    assert again.settings.retention_days == {"events": 30.0}
    for bad, match in [({"audit_log": 5}, "append-only"), ({"costs": 5}, "no retention"),
                       ({"events": 0}, "more than 0"), ({"events": "x"}, "number of days")]:
        with pytest.raises(ConfigError, match=match):
            R.parse_policy(bad)
