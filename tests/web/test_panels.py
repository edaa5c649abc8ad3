"""The dashboard's analysis panels over HTTP (TestClient): attribution, alerts and rolling KPIs,
AI-assistant visibility, CLV and cohorts, the insights journey map, masked verbatims."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from touchlens import Workspace
from touchlens.api import ApiSettings, create_app
from touchlens.charts import data as D

DATA = Path(__file__).parents[1] / "data" / "ai_answers"
PII = "Courier lost it, call me +48 600 100 200 or jan@x.pl, card 4111 1111 1111 1111"


def _open(db: Path, key: str) -> TestClient:
    client = TestClient(create_app(ApiSettings(db=db)))
    client.headers["Authorization"] = f"Bearer {key}"
    return client


@pytest.fixture(scope="module")
def module_db(web_db, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the web workspace with a PII verbatim, two alerts and AI answers."""
    from touchlens.monitoring.alerts import store_alerts

    db = tmp_path_factory.mktemp("panels") / "ws.duckdb"
    shutil.copy(web_db.path, db)
    csv = db.parent / "fb.csv"
    pd.DataFrame([{"response_id": "pii-1", "occurred_at": "2026-02-27T10:00:00Z",
                   "customer_id": "pii-customer", "touchpoint": "delivery_courier",
                   "channel": "delivery", "csat": 1, "text": PII, "language": "en"}]
                 ).to_csv(csv, index=False)
    day = pd.Timestamp("2026-02-20", tz="UTC")
    found = pd.DataFrame([
        {"grain": "day", "touchpoint": "product_page", "metric": "volume", "direction": "down",
         "since": day, "detected_at": day + pd.Timedelta(days=2), "observed": 12.0,
         "expected": 80.0, "band_low": 60.0, "band_high": 100.0, "z": -5.1,
         "statistic": 9.0, "threshold": 5.0, "method": "cusum"},
        {"grain": "day", "touchpoint": "checkout", "metric": "conversion_rate",
         "direction": "down", "since": day, "detected_at": day + pd.Timedelta(days=1),
         "observed": 0.05, "expected": 0.2, "band_low": 0.15, "band_high": 0.25, "z": -4.0,
         "statistic": 7.0, "threshold": 5.0, "method": "cusum"}])
    with Workspace.open(db) as ws:
        ws.ingest([csv], "feedback")
        store_alerts(ws.store, found)
    return db


@pytest.fixture(scope="module")
def client(module_db, web_db) -> Iterator[TestClient]:
    with _open(module_db, web_db.read_key) as c:
        yield c


def _figure(client: TestClient, name: str, **params: str) -> dict:
    r = client.get(f"/v1/charts/{name}", params=params)
    assert r.status_code == 200, r.text
    fig = r.json()
    assert "layout" in fig and "data" in fig
    return fig


def test_attribution_models_side_by_side(client) -> None:
    r = client.get("/v1/attribution")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["models"] == list(D.ATTRIBUTION_MODELS)
    rows = [row for row in body["data"] if not str(row["channel"]).startswith("(")]
    assert rows
    for model in D.ATTRIBUTION_MODELS:  # each model's shares sum to one over the channels
        assert sum(row[model] or 0 for row in body["data"]) == pytest.approx(1, abs=1e-6)
    fig = _figure(client, "attribution")
    assert [t["name"] for t in fig["data"]] == list(D.ATTRIBUTION_MODELS)
    assert fig["layout"]["barmode"] == "group"


def test_attribution_models_can_be_chosen(client) -> None:
    r = client.get("/v1/attribution", params={"models": "last,markov"})
    assert r.status_code == 200
    assert r.json()["models"] == ["last", "markov"]
    assert set(r.json()["data"][0]) >= {"channel", "last", "markov", "spread"}
    assert client.get("/v1/attribution", params={"models": "astrology"}).status_code == 400


def test_attribution_roi_and_reallocation(client) -> None:
    body = client.get("/v1/attribution/roi").json()
    assert body["model"] == "markov" and "budget-neutral" in body["assumptions"]
    spent = [r for r in body["data"] if r["spend"] > 0]
    assert spent
    changes = [r["suggested_change"] for r in spent if r["suggested_change"] is not None]
    assert sum(changes) == pytest.approx(0, abs=1e-6)  # budget-neutral
    assert all(abs(r["suggested_change_pct"]) <= 0.2 + 1e-9 for r in spent
               if r["suggested_change_pct"] is not None)
    fig = _figure(client, "reallocation")
    assert fig["data"][0]["orientation"] == "h"


def test_alerts_with_their_evidence(client) -> None:
    body = client.get("/v1/alerts").json()
    assert body["count"] == 2
    first = body["data"][0]  # newest first
    assert first["touchpoint"] == "product_page" and first["metric"] == "volume"
    assert first["band"] == "60.0 – 100.0" and first["observed"] == 12.0
    assert first["since"].startswith("2026-02-20")
    rate = body["data"][1]
    assert rate["band"] == "15.0 – 25.0%"
    assert client.get("/v1/alerts", params={"limit": 1}).json()["count"] == 1


def test_rolling_kpis_and_their_chart(client) -> None:
    body = client.get("/v1/monitoring/kpis", params={"touchpoint": "product_page"}).json()
    assert body["count"] > 30 and {r["touchpoint"] for r in body["data"]} == {"product_page"}
    assert {"n_events", "volume_expected", "conversion_rate"} <= set(body["data"][0])
    fig = _figure(client, "kpi_watch", touchpoint="product_page", metric="volume")
    names = [t["name"] for t in fig["data"]]
    assert names[:2] == ["observed", "expected"] and "alert" in names
    assert "product_page" in fig["layout"]["title"]["text"]
    fig = _figure(client, "kpi_watch", touchpoint="product_page", metric="reach")
    assert "volume" in fig["layout"]["title"]["text"]  # not a KPI: falls back to volume


def test_ai_visibility_says_when_nothing_is_ingested(client) -> None:
    body = client.get("/v1/ai-visibility", params={"brands": "Allegro,Amazon"}).json()
    assert body["count"] == 0 and "No AI answers ingested" in body["note"]
    fig = _figure(client, "ai_visibility")
    assert "No AI answers ingested" in json.dumps(fig["layout"])


def test_ai_visibility_per_brand(web_db, tmp_path: Path, monkeypatch) -> None:
    db = tmp_path / "ws.duckdb"
    shutil.copy(web_db.path, db)
    with Workspace.open(db) as ws:
        ws.ingest([DATA / "answers.jsonl"], "ai_answers")
    monkeypatch.delenv(D.BRANDS_ENV, raising=False)
    with _open(db, web_db.read_key) as c:
        body = c.get("/v1/ai-visibility").json()
        assert body["count"] == 0 and "no brands configured" in body["note"]
        shutil.copy(DATA / "brands.yaml", tmp_path / "brands.yaml")  # next to the workspace
        body = c.get("/v1/ai-visibility").json()
        assert body["data"][0]["brand"] == "Allegro"
        assert body["data"][0]["is_target"] is True
        assert sum(r["share_of_voice"] for r in body["data"]) == pytest.approx(1)
        named = c.get("/v1/ai-visibility", params={"brands": "Amazon, Temu"}).json()
        assert [r["brand"] for r in named["data"]] == ["Amazon", "Temu"]
        fig = _figure(c, "ai_visibility", brands="Amazon,Temu")
        assert list(fig["data"][0]["x"]) == ["Amazon", "Temu"]


def test_clv_and_cohorts(client) -> None:
    body = client.get("/v1/loyalty/clv", params={"limit": 5}).json()
    assert body["count"] == 5 and body["total"] >= 5
    assert {"customer_id", "p_alive", "clv"} <= set(body["data"][0])
    cohorts = client.get("/v1/loyalty/cohorts").json()
    assert cohorts["count"] > 0 and {"cohort", "period", "retention"} <= set(
        cohorts["data"][0])
    fig = _figure(client, "clv")
    assert any(t["type"] == "histogram" and t["name"] == "P(alive)" for t in fig["data"])
    fig = _figure(client, "cohorts")
    assert fig["data"][0]["type"] == "heatmap"


def test_journey_map_is_the_insights_layer_figure(client) -> None:
    fig = _figure(client, "journey_map")
    names = {t.get("name") for t in fig["data"]}
    assert {"stage emotion", "reach (customers)"} <= names
    assert "Journey map from data" in fig["layout"]["title"]["text"]
    channel = _figure(client, "journey_map", channel="email")
    bars = next(t for t in channel["data"] if t.get("name") == "reach (customers)")
    assert len(bars["x"]) < len(next(t for t in fig["data"]
                                     if t.get("name") == "reach (customers)")["x"])


def test_verbatims_are_masked(client) -> None:
    body = client.get("/v1/voc/verbatims", params={"limit": 1000}).json()
    texts = [r["text"] for r in body["data"] if r["text"]]
    mine = [t for t in texts if t.startswith("Courier lost it")]
    assert mine == ["Courier lost it, call me [phone] or [email], card [card]"]
    raw = json.dumps(body)
    for secret in ("jan@x.pl", "600 100 200", "4111 1111 1111 1111"):
        assert secret not in raw
    pains = json.dumps(client.get("/v1/voc/pain-points").json())
    for secret in ("jan@x.pl", "600 100 200", "4111 1111 1111 1111"):
        assert secret not in pains


def test_masked_keeps_lists_and_missing_values() -> None:
    frame = pd.DataFrame({"text": [PII, None], "examples": [[PII, "fine"], None]})
    out = D.masked(frame)
    assert out["text"][0] == "Courier lost it, call me [phone] or [email], card [card]"
    assert out["examples"][0] == [out["text"][0], "fine"]
    assert pd.isna(out["text"][1]) and out["examples"][1] is None
    assert frame["text"][0] == PII  # the input is not changed
