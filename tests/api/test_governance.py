"""Governance over HTTP: erase with an admin key (receipt without the id, audited with the key
id, the person gone from every table) and the collector's audit entries per key."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from touchlens.api.security import create_key
from touchlens.governance.audit import verify_chain
from touchlens.store.erase import resolve, scan

from .conftest import open_served


@pytest.fixture
def admin(served):
    """``served`` plus an admin key (created on the open workspace, as the CLI would do
    with the server stopped)."""
    with served.client.app.state.touchlens.workspace() as ws:
        key, info = create_key(ws, "admin", "dpo")
    served.admin = {"Authorization": f"Bearer {key}"}
    served.admin_id = info.key_id
    return served


def _a_customer(served) -> str:
    with served.client.app.state.touchlens.workspace() as ws:
        ev = ws.store.table("events")
        rows = ws.store.execute(ev.filter(ev.customer_id.notnull()).select("customer_id")
                                .distinct().order_by("customer_id").limit(1))
    return str(rows["customer_id"].iloc[0])


def test_erase_needs_an_admin_key(admin) -> None:
    body = {"customer": "C00000001"}
    assert admin.client.post("/v1/erase", json=body).status_code == 401
    bad = {"Authorization": "Bearer tla_0123456789ab_" + "x" * 30}
    assert admin.client.post("/v1/erase", json=body, headers=bad).status_code == 401
    for headers in (admin.read, admin.write):
        r = admin.client.post("/v1/erase", json=body, headers=headers)
        assert r.status_code == 403 and "admin" in r.json()["detail"]


def test_erase_removes_the_person_everywhere_and_is_audited(admin) -> None:
    who = _a_customer(admin)
    with admin.client.app.state.touchlens.workspace() as ws:
        ids = resolve(ws.store, [("customer", who)])  # all their ids: cookies, devices, …
    assert len(ids.values) > 1
    dry = admin.client.post("/v1/erase", json={"customer": who, "dry_run": True},
                            headers=admin.admin)
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"] is True and dry.json()["total_rows"] > 0
    r = admin.client.post("/v1/erase", json={"customer": who}, headers=admin.admin)
    assert r.status_code == 200, r.text
    receipt = r.json()
    assert who not in r.text  # the receipt never carries the identifier in clear
    assert receipt["subject_hash"].startswith("s:") and receipt["remaining"] == {}
    assert receipt["rows_deleted"]["events"] > 0
    assert receipt["total_rows"] == dry.json()["total_rows"]
    assert receipt["actor"] == f"key:{admin.admin_id}"
    with admin.client.app.state.touchlens.workspace() as ws:
        assert scan(ws.store, ids) == {}  # no table holds any of their identifiers
        log = ws.audit_log(action="erase")
        assert list(log.actor) == [f"key:{admin.admin_id}"] and who not in log.to_string()
        assert verify_chain(ws.store) is None
    # the analytics no longer know them (cached results were dropped)
    journeys = admin.client.get("/v1/journeys", params={"limit": 10000}, headers=admin.read)
    assert journeys.status_code == 200 and who not in journeys.text
    again = admin.client.post("/v1/erase", json={"customer": who}, headers=admin.admin)
    assert again.json()["total_rows"] == 0  # idempotent


@pytest.mark.parametrize("body", [{}, {"customer": "a", "email": "b@example.com"},
                                  {"customer": "   "}, {"customer": "a", "colour": "red"},
                                  {"customer": 12}])
def test_erase_rejects_bad_bodies(admin, body) -> None:
    r = admin.client.post("/v1/erase", json=body, headers=admin.admin)
    assert r.status_code == 422


def test_erase_by_email_matches_the_salted_hash(admin) -> None:
    with admin.client.app.state.touchlens.workspace() as ws:
        ws.ingest_arrow(pd.DataFrame({
            "id_type": ["email"], "id_value": ["Ola@Example.pl"], "customer_id": ["k-mail"]}),
            "identities")
    r = admin.client.post("/v1/erase", json={"email": "ola@example.pl"}, headers=admin.admin)
    assert r.status_code == 200 and r.json()["rows_deleted"].get("identities") == 1
    assert "ola@example.pl" not in r.text.lower()


def test_collector_batches_are_audited_with_the_key_id(empty_served) -> None:
    s = empty_served
    batch = [{"event_id": f"e{i}", "occurred_at": "2026-02-01T10:00:00Z", "customer_id": "k1",
              "channel": "email", "touchpoint": "newsletter", "event_type": "open"}
             for i in range(3)] + [{"event_id": "bad", "occurred_at": "nope"}]
    assert s.client.post("/v1/events", json=batch, headers=s.write).status_code == 200
    fb = [{"response_id": "r1", "occurred_at": "2026-02-01T10:00:00Z", "customer_id": "k1",
           "nps": 9}]
    assert s.client.post("/v1/feedback", json=fb, headers=s.write).status_code == 200
    with s.client.app.state.touchlens.workspace() as ws:
        write_id = ws.audit_log(action="key_create").target.tolist()
        log = ws.audit_log(action="ingest")
        assert verify_chain(ws.store) is None
    assert list(log.target) == ["api:events", "api:feedback"]
    assert set(log.actor) == {log.actor.iloc[0]} and log.actor.iloc[0].startswith("key:")
    assert log.actor.iloc[0].removeprefix("key:") in write_id
    details = json.loads(log.details.iloc[0])
    assert (details["rows_in"], details["stored"], details["quarantined"]) == (4, 3, 1)


def test_merged_batches_get_one_entry_per_request(tmp_path) -> None:
    from touchlens.api.writer import write_batch

    db = tmp_path / "m.duckdb"
    for s in open_served(db):
        state = s.client.app.state.touchlens
        with state.workspace() as ws:
            items = [[{"event_id": f"{k}-{i}", "occurred_at": "2026-02-01T10:00:00Z",
                       "customer_id": "k1", "channel": "web", "touchpoint": "homepage",
                       "event_type": "page_view"} for i in range(2)] for k in "ab"]
            out = write_batch(ws, "events", items, ["key:a", "key:b"])
            assert [r.accepted for r in out] == [2, 2]
            log = ws.audit_log(action="ingest")
            assert list(log.actor) == ["key:a", "key:b"]
            assert verify_chain(ws.store) is None
