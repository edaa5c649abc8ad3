"""The collector: per-item answers, idempotence, the count invariant, and clean 4xx for bad
requests with nothing stored."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from touchlens import Workspace


def event(i: int | str, **over) -> dict:
    item = {"event_id": f"e{i}", "occurred_at": "2026-02-01T10:00:00Z", "customer_id": "k1",
            "channel": "email", "touchpoint": "newsletter", "event_type": "open"}
    item.update(over)
    return item


def stored_counts(served) -> dict[str, int]:
    with served.client.app.state.touchlens.workspace() as ws:
        return {"events": ws.store.count("events"), "feedback": ws.store.count("feedback"),
                "quarantine": ws.store.count("quarantine")}


def test_items_are_answered_in_order(empty_served) -> None:
    s = empty_served
    batch = [event(1), event(1), event(2, occurred_at="yesterday-ish"),
             event(3, event_type="teleport"), event(4, customer_id=None),
             event(5, revenue=12.5, currency="EUR", event_type="purchase",
                   attributes={"coupon": "X"})]
    r = s.client.post("/v1/events", json=batch, headers=s.write)
    assert r.status_code == 200
    body = r.json()
    assert [i["status"] for i in body["items"]] == [
        "accepted", "duplicate", "rejected", "rejected", "rejected", "accepted"]
    assert [i["index"] for i in body["items"]] == list(range(6))
    fields = [i["field"] for i in body["items"] if i["status"] == "rejected"]
    assert fields == ["occurred_at", "event_type", "customer_id"]
    assert "teleport" in body["items"][3]["reason"]
    assert (body["received"], body["accepted"], body["duplicates"], body["rejected"]) == (6, 2, 1,
                                                                                          3)
    assert stored_counts(s) == {"events": 2, "feedback": 0, "quarantine": 3}


def test_resending_is_idempotent(empty_served) -> None:
    s = empty_served
    batch = [event(1), event(2), event(3, event_type="nope")]
    first = s.client.post("/v1/events", json=batch, headers=s.write).json()
    again = s.client.post("/v1/events", json=batch, headers=s.write).json()
    assert [i["status"] for i in first["items"]] == ["accepted", "accepted", "rejected"]
    assert [i["status"] for i in again["items"]] == ["duplicate", "duplicate", "rejected"]
    assert again["items"][2]["reason"] == first["items"][2]["reason"]
    partly = s.client.post("/v1/events", json=[event(2), event(9)], headers=s.write).json()
    assert [i["status"] for i in partly["items"]] == ["duplicate", "accepted"]
    assert stored_counts(s)["events"] == 3


def test_a_resent_batch_quarantines_its_bad_rows_once(empty_served) -> None:
    s = empty_served
    batch = [event(1), event(2, event_type="nope")]
    first = s.client.post("/v1/events", json=batch, headers=s.write).json()
    again = s.client.post("/v1/events", json=batch, headers=s.write).json()
    other = s.client.post("/v1/events", json=[event(3, event_type="nope")],
                          headers=s.write).json()
    assert [i["status"] for i in first["items"]] == ["accepted", "rejected"]
    assert [i["status"] for i in again["items"]] == ["duplicate", "rejected"]
    assert [i["status"] for i in other["items"]] == ["rejected"]
    assert stored_counts(s) == {"events": 1, "feedback": 0, "quarantine": 2}


def test_concurrent_batches_lose_nothing(empty_served) -> None:
    s = empty_served
    batches = [[event(f"{b}-{i}") for i in range(20)] + [event(f"{b}-0")]
               for b in range(12)]

    def send(batch: list[dict]) -> dict:
        return s.client.post("/v1/events", json=batch, headers=s.write).json()

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, batches))
    assert all(a["received"] == a["accepted"] + a["duplicates"] + a["rejected"]
               for a in answers)
    assert sum(a["accepted"] for a in answers) == 12 * 20
    assert sum(a["duplicates"] for a in answers) == 12
    assert stored_counts(s)["events"] == 12 * 20


def test_feedback_uses_the_file_validators(empty_served) -> None:
    s = empty_served
    batch = [{"response_id": "r1", "occurred_at": "2026-02-01T10:00:00Z", "nps": 9,
              "csat": 5, "touchpoint": "checkout", "text": "Quick and easy"},
             {"response_id": "r2", "occurred_at": "2026-02-01T10:00:00Z", "nps": 11},
             {"response_id": "r3", "occurred_at": "2026-02-01T10:00:00Z"}]
    body = s.client.post("/v1/feedback", json=batch, headers=s.write).json()
    assert [i["status"] for i in body["items"]] == ["accepted", "rejected", "rejected"]
    assert body["items"][1]["field"] == "nps"
    assert "empty response" in body["items"][2]["reason"]
    assert stored_counts(s)["feedback"] == 1


@pytest.mark.parametrize("payload, fragment", [
    ([{"event_id": 5}], "string"),  # wrong JSON type
    ([event(1, revenue="12")], "revenue"),
    ([event(1, colour="red")], "colour"),  # unknown field
    ([event(1, event_id="")], "event_id"),  # the id is required
    ([{"occurred_at": "2026-02-01T10:00:00Z"}], "event_id"),
    ({"events": [event(1)]}, "list"),  # not an array
    ([event(1), "text"], "object"),
])
def test_malformed_requests_get_422_and_store_nothing(empty_served, payload, fragment) -> None:
    s = empty_served
    r = s.client.post("/v1/events", json=payload, headers=s.write)
    assert r.status_code == 422
    assert fragment in json.dumps(r.json()["detail"]).lower()
    assert stored_counts(s) == {"events": 0, "feedback": 0, "quarantine": 0}


def test_invalid_json_gets_422(empty_served) -> None:
    s = empty_served
    r = s.client.post("/v1/events", content=b'[{"event_id": "x",', headers={
        **s.write, "Content-Type": "application/json"})
    assert r.status_code == 422
    assert stored_counts(s)["events"] == 0


def test_too_many_items_gets_413(empty_served) -> None:
    s = empty_served  # max_batch_items=50
    r = s.client.post("/v1/events", json=[event(i) for i in range(51)], headers=s.write)
    assert r.status_code == 413 and "limit is 50" in r.json()["detail"]
    assert stored_counts(s)["events"] == 0


def test_too_many_bytes_gets_413_before_parsing(empty_served) -> None:
    s = empty_served  # max_body_bytes=64 KiB
    big = [event(i, campaign="x" * 3000) for i in range(30)]
    r = s.client.post("/v1/events", json=big, headers=s.write)
    assert r.status_code == 413 and "split the batch" in r.json()["detail"]

    def chunks():  # no Content-Length: the limit applies while streaming
        yield b"["
        for i in range(30):
            yield (json.dumps(event(i, campaign="x" * 3000)) + ",").encode()
        yield b"{}]"

    r = s.client.post("/v1/events", content=chunks(), headers={
        **s.write, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert stored_counts(s)["events"] == 0


def test_empty_batch_is_fine(empty_served) -> None:
    s = empty_served
    body = s.client.post("/v1/events", json=[], headers=s.write).json()
    assert body["received"] == 0 and body["items"] == []


def test_collected_events_show_up_in_the_read_api(empty_served) -> None:
    s = empty_served
    batch = [event(1, event_type="click", channel="paid_search", touchpoint="search_ad"),
             event(2, occurred_at="2026-02-01T10:05:00Z", event_type="purchase",
                   channel="web", touchpoint="checkout", revenue=40.0)]
    s.client.post("/v1/events", json=batch, headers=s.write)
    paths = s.client.get("/v1/paths", headers=s.read).json()["data"]
    assert paths == [{"path": "search_ad", "n_journeys": 1, "n_conversions": 1,
                      "conversion_rate": 1.0, "revenue": 40.0}]
    served_db = s.db
    s.client.close()
    with Workspace.open(served_db) as ws:
        log = ws.ingest_log()
    assert (log["rows_in"] == log["stored"] + log["quarantined"] + log["duplicates"]).all()


@pytest.mark.parametrize("bad", [{"revenue": 2**60}, {"revenue": float("inf")},
                                 {"cost": -(2**54)}])
def test_numbers_a_double_cannot_hold_are_422(empty_served, bad) -> None:
    s = empty_served
    body = json.dumps([event(1, **bad)])  # json.dumps writes inf as Infinity
    r = s.client.post("/v1/events", content=body, headers={**s.write,
                                                           "Content-Type": "application/json"})
    assert r.status_code == 422
    assert stored_counts(s)["events"] == 0


def test_unusual_but_valid_items_are_normalised_like_file_rows(empty_served) -> None:
    """Canonical items take the validators' fast path, the others the full one: both end
    up stored the same way, in request order (the first of a repeated id wins)."""
    s = empty_served
    batch = [event(1, channel="Email", touchpoint="News Letter"), event(2),
             event(3, occurred_at="2026-02-01 11:00:00", customer_id="a@b.co"),
             event(2, channel="web"), event(4, event_type="Teleport")]
    body = s.client.post("/v1/events", json=batch, headers=s.write).json()
    assert [i["status"] for i in body["items"]] == [
        "accepted", "accepted", "accepted", "duplicate", "rejected"]
    with s.client.app.state.touchlens.workspace() as ws:
        rows = ws.store.con.con.execute(
            "SELECT event_id, channel, touchpoint, customer_id, hour(occurred_at) FROM events "
            "ORDER BY event_id").fetchall()
        assert ws.store.get_meta("identity_map_stale") == "1"
    assert [r[:3] for r in rows] == [("e1", "email", "news_letter"),
                                     ("e2", "email", "newsletter"), ("e3", "email", "newsletter")]
    assert rows[2][3].startswith("h:") and rows[2][4] == 11
