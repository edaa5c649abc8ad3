"""Experiments over HTTP: declared with a write key, listed and reported with a read key."""

from __future__ import annotations

SPEC = {"name": "checkout-button", "touchpoint": "product_page",
        "variants": ["control", "green"], "metrics": ["conversion", "revenue"],
        "start": "2026-01-01"}


def test_declare_needs_a_write_key_and_a_valid_spec(served) -> None:
    client = served.client
    assert client.post("/v1/experiments", json=SPEC).status_code == 401
    assert client.post("/v1/experiments", json=SPEC, headers=served.read).status_code == 403
    bad = {**SPEC, "variants": ["only-one"]}
    assert client.post("/v1/experiments", json=bad, headers=served.write).status_code == 422
    unknown = {**SPEC, "colour": "green"}
    assert client.post("/v1/experiments", json=unknown, headers=served.write).status_code == 422


def test_declared_experiments_are_listed_reported_and_audited(served) -> None:
    client = served.client
    r = client.post("/v1/experiments", json=SPEC, headers=served.write)
    assert r.status_code == 200, r.text
    assert r.json() == {"declared": ["checkout-button"]}
    listed = client.get("/v1/experiments", headers=served.read).json()
    assert [e["name"] for e in listed["data"]] == ["checkout-button"]
    assert client.get("/v1/experiments", headers=served.write).status_code == 403
    report = client.get("/v1/experiments/checkout-button/report", headers=served.read)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["name"] == "checkout-button" and {"data", "looks"} <= body.keys()
    missing = client.get("/v1/experiments/nope/report", headers=served.read)
    assert missing.status_code == 400 and "checkout-button" in missing.text
    with client.app.state.touchlens.workspace() as ws:
        log = ws.audit_log(action="experiment_declare")
    assert log.target.tolist() == ["checkout-button"] and log.actor.iloc[0].startswith("key:")
