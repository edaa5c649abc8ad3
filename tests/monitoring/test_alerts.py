"""Alerts: stored once per episode, delivered to a local webhook with retries, never blocking."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
import pytest

from touchlens.errors import ConfigError
from touchlens.monitoring import WebhookDispatcher, store_alerts
from touchlens.monitoring.alerts import alert_id, payload, to_rows

SINCE = pd.Timestamp("2026-03-10", tz="UTC")


def one_alert(**over: Any) -> pd.DataFrame:
    row = {"grain": "day", "touchpoint": "checkout", "metric": "volume", "direction": "down",
           "since": SINCE, "detected_at": SINCE + pd.Timedelta(days=1), "observed": 15.0,
           "expected": 28.0, "band_low": 20.0, "band_high": 36.0, "z": -3.2, "statistic": 7.5,
           "threshold": 6.1, "method": "CUSUM k=1 h=6.10 on seasonal z-scores", "active": True}
    row.update(over)
    return pd.DataFrame([row])


class Receiver:
    """A webhook receiver on 127.0.0.1: answers ``statuses`` in turn (then 200), optionally
    holding every answer until ``gate`` is set."""

    def __init__(self, statuses: list[int] | None = None, gate: threading.Event | None = None
                 ) -> None:
        self.statuses = list(statuses or [])
        self.bodies: list[dict[str, Any]] = []
        self.calls = 0
        self.gate = gate
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the http.server API names it so
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.calls += 1
                receiver.arrived.set()
                if receiver.gate is not None:
                    receiver.gate.wait(10)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200:
                    receiver.bodies.append(json.loads(body))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(*args: Any, **kw: Any) -> Receiver:
        made.append(Receiver(*args, **kw))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_alert_id_is_stable_and_rows_carry_evidence() -> None:
    rows = to_rows(pd.concat([one_alert(), one_alert()]))
    assert len(rows) == 1  # the same episode twice → one row
    r = rows.iloc[0]
    assert r.alert_id == alert_id("day", "checkout", "volume", "down", "2026-03-10T00:00:00Z")
    assert "volume at checkout down since 2026-03-10 UTC: 15 vs expected 28 (band 20 – 36)" \
        in r.message


def test_store_adds_each_episode_once(make_workspace: Callable[..., Any]) -> None:
    ws = make_workspace()
    first = store_alerts(ws.store, one_alert())
    again = store_alerts(ws.store, pd.concat([one_alert(), one_alert(metric="cost")]))
    assert len(first) == 1 and again["metric"].tolist() == ["cost"]
    stored = ws.alerts()
    assert sorted(stored["metric"]) == ["cost", "volume"]
    assert ws.alerts(since="2026-03-12").empty
    assert len(ws.alerts(since="2026-03-11")) == 2


def test_webhook_retries_with_backoff_until_delivered(receiver: Callable[..., Receiver]) -> None:
    rec = receiver([500, 503])
    waits: list[float] = []
    rows = to_rows(one_alert())
    with WebhookDispatcher(rec.url, backoff=0.25, sleep=waits.append) as hook:
        assert hook.submit(rows) == 1
        hook.flush()
    assert rec.calls == 3 and waits == [0.25, 0.5]
    assert hook.delivered == [rows.alert_id.iloc[0]] and hook.failed == []
    body = rec.bodies[0]
    assert body["type"] == "touchlens.alert"
    alert = body["alert"]
    assert alert["touchpoint"] == "checkout" and alert["expected"] == 28.0
    assert alert["since"] == "2026-03-10T00:00:00Z"
    assert alert["message"].startswith("volume at checkout down")


def test_webhook_gives_up_after_max_attempts(receiver: Callable[..., Receiver]) -> None:
    rec = receiver([500] * 10)
    with WebhookDispatcher(rec.url, max_attempts=3, sleep=lambda s: None) as hook:
        hook.submit(to_rows(one_alert()))
        hook.flush()
    assert rec.calls == 3 and hook.delivered == [] and len(hook.failed) == 1
    dead = WebhookDispatcher("http://127.0.0.1:9/nothing", max_attempts=2, timeout=1,
                             sleep=lambda s: None)
    dead.submit(to_rows(one_alert()))
    dead.close()
    assert len(dead.failed) == 1 and dead.attempts == 2


def test_delivery_never_blocks_detection_or_ingestion(receiver: Callable[..., Receiver],
                                                     make_workspace: Callable[..., Any],
                                                     tiny_events: Any) -> None:
    gate = threading.Event()
    rec = receiver(gate=gate)
    ws = make_workspace()
    with WebhookDispatcher(rec.url, sleep=lambda s: None) as hook:
        new = store_alerts(ws.store, one_alert())
        queued = hook.submit(new)
        assert rec.arrived.wait(10)  # the POST is in flight and held by the receiver …
        # … yet submitting returned, and the workspace keeps ingesting
        assert queued == 1 and hook.delivered == []
        assert ws.ingest_arrow(tiny_events, "events")["stored"].iloc[0] == 20
        assert not gate.is_set()
        gate.set()
        hook.flush()
    assert hook.delivered == new["alert_id"].tolist()


def test_a_full_queue_drops_instead_of_waiting(receiver: Callable[..., Receiver]) -> None:
    gate = threading.Event()
    rec = receiver(gate=gate)
    hook = WebhookDispatcher(rec.url, max_queue=2, sleep=lambda s: None)
    rows = to_rows(pd.concat([one_alert(metric=m) for m in ("volume", "cost", "csat", "nps")]))
    hook.submit(rows.iloc[:1])
    assert rec.arrived.wait(10)  # the worker holds the first one
    assert hook.submit(rows.iloc[1:]) == 2 and hook.dropped == 1
    gate.set()
    hook.close()
    assert len(hook.delivered) == 3


def test_payload_is_json_with_nulls_and_urls_are_checked() -> None:
    body = json.loads(payload({"observed": float("nan"), "since": SINCE, "n": 3}))
    assert body["alert"] == {"observed": None, "since": "2026-03-10T00:00:00Z", "n": 3}
    with pytest.raises(ConfigError, match="http"):
        WebhookDispatcher("ftp://example.org/hook")
