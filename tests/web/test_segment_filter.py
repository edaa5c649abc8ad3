"""The global segment filter (RFM segment): narrows the customers whose events and feedback
every analysis reads; pages where it would mislead ignore it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from touchlens.api import ApiSettings, create_app
from touchlens.web.pages import PAGES


@pytest.fixture(scope="module")
def client(web_db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("segments") / "ws.duckdb"
    shutil.copy(web_db.path, db)
    with TestClient(create_app(ApiSettings(db=db))) as c:
        c.headers["Authorization"] = f"Bearer {web_db.read_key}"
        yield c


def _customers(client: TestClient, **params: str) -> int:
    r = client.get("/v1/kpis", params=params)
    assert r.status_code == 200, r.text
    return r.json()["current"]["customers"]


def test_segments_are_listed(client) -> None:
    body = client.get("/v1/segments").json()
    assert body["prospect"] == "prospect" and body["count"] >= 2
    assert all(r["n_customers"] > 0 for r in body["data"])


def test_segments_partition_the_customers(client) -> None:
    segments = [r["segment"] for r in client.get("/v1/segments").json()["data"]]
    everyone = _customers(client)
    parts = [_customers(client, segment=s) for s in [*segments, "prospect"]]
    assert all(0 < p < everyone for p in parts)
    assert sum(parts) == everyone


def test_segment_narrows_scorecard_and_journeys_and_says_so(client) -> None:
    segment = client.get("/v1/segments").json()["data"][0]["segment"]
    whole = client.get("/v1/scorecard").json()
    part = client.get("/v1/scorecard", params={"segment": segment}).json()
    reach = {r["touchpoint"]: r["reach"] for r in whole["data"]}
    assert all(r["reach"] <= reach[r["touchpoint"]] for r in part["data"])
    assert sum(r["reach"] for r in part["data"]) < sum(reach.values())
    assert part["scope"]["label"] == f"all time · segment {segment}"
    journeys = client.get("/v1/journeys", params={"segment": segment, "limit": 1}).json()
    assert 0 < journeys["total"] < client.get("/v1/journeys").json()["total"]
    both = _customers(client, segment=segment, channel="email")
    assert both <= _customers(client, segment=segment)


def test_unknown_segment_is_a_clear_400(client) -> None:
    r = client.get("/v1/kpis", params={"segment": "astronauts"})
    assert r.status_code == 400 and "unknown segment" in r.text


def test_pages_declare_whether_the_segment_applies(client, web_db) -> None:
    assert {s for s, p in PAGES.items() if p.segments} >= {
        "overview", "scorecard", "journey-map", "flows", "funnel", "voc", "insights"}
    assert not PAGES["attribution"].segments  # spend is not per customer
    client.post("/login", data={"key": web_db.read_key})
    html = client.get("/attribution").text
    assert 'id="f-segment" disabled' in html and 'data-segments="0"' in html
    assert 'data-segments="1"' in client.get("/scorecard").text


def test_segment_is_part_of_the_cache_key(tmp_path: Path) -> None:
    from touchlens.api.scope import Scope

    a = Scope(segment="loyal", members=frozenset({"c1"}))
    b = Scope(segment="loyal", members=frozenset({"c1", "c2"}))
    assert a.key() == b.key() != Scope().key()
    assert not a.everything and "segment loyal" in a.label()
