"""Alerts: stored once per anomaly episode and delivered to a webhook without blocking anyone.

- Identity and de-duplication: ``alert_id`` = first 16 hex digits of SHA-256 over
  (grain, touchpoint, metric, direction, since). Re-running detection on the same or more
  data finds the same episode with the same change point, so :func:`store_alerts` adds only
  alerts whose id is not yet in the ``alerts`` table and returns just those (to notify).
- Delivery: :class:`WebhookDispatcher` keeps a bounded queue and one daemon thread. ``submit``
  never waits (a full queue drops the alert and counts it in ``dropped``); the thread POSTs
  each alert as JSON (``{"type": "touchlens.alert", "alert": {...}}``) and retries failures
  (connection errors, HTTP ≥ 400) with exponential backoff: ``backoff × 2^attempt`` seconds,
  at most ``max_attempts`` tries. Outcomes are kept in ``delivered`` / ``failed``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pyarrow as pa

from touchlens.errors import ConfigError
from touchlens.store.schema import ALERTS

TABLE = "alerts"
COLUMNS = tuple(ALERTS.names)


def alert_id(grain: str, touchpoint: str, metric: str, direction: str, since: Any) -> str:
    """Stable id of an anomaly episode."""
    stamp = pd.Timestamp(since)
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    key = "|".join([grain, touchpoint, metric, direction, stamp.isoformat()])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _fmt(metric: str, value: float) -> str:
    if pd.isna(value):
        return "n/a"
    if metric in ("conversion_rate", "negative_share"):
        return f"{100 * value:.1f}%"
    if metric == "csat":
        return f"{value:.1f}%"
    if metric == "nps":
        return f"{value:+.0f}"
    return f"{value:,.1f}" if metric == "cost" else f"{value:,.0f}"


def message(row: dict[str, Any]) -> str:
    """One-line evidence: "volume at checkout down since 2026-03-10: 15 vs expected 28 …"."""
    m = row["metric"]
    since = pd.Timestamp(row["since"]).strftime("%Y-%m-%d %H:%M" if row["grain"] == "hour"
                                                else "%Y-%m-%d")
    return (f"{m} at {row['touchpoint']} {row['direction']} since {since} UTC: "
            f"{_fmt(m, row['observed'])} vs expected {_fmt(m, row['expected'])} "
            f"(band {_fmt(m, row['band_low'])} – {_fmt(m, row['band_high'])}); "
            f"CUSUM {row['statistic']:.1f} > {row['threshold']:.1f}")


def to_rows(alerts: pd.DataFrame, *, now: datetime | None = None,
            extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Detector output → rows of the ``alerts`` table (id, message, created_at added; a
    detector may bring its own ``message``), plus the ``extra`` detector columns."""
    now = now or datetime.now(UTC)
    if alerts.empty:
        return pd.DataFrame(columns=[*COLUMNS, *extra])
    out = alerts.copy()
    out["alert_id"] = [alert_id(r.grain, r.touchpoint, r.metric, r.direction, r.since)
                       for r in out.itertuples(index=False)]
    out["message"] = [r["message"] if isinstance(r.get("message"), str) and r["message"]
                      else message(r) for r in out.to_dict("records")]
    out["created_at"] = pd.Timestamp(now)
    return out.drop_duplicates("alert_id").loc[:, [*COLUMNS, *extra]]


def store_alerts(store: Any, alerts: pd.DataFrame) -> pd.DataFrame:
    """Append the alerts not stored yet; return those new rows (table columns)."""
    rows = to_rows(alerts)
    if rows.empty:
        return rows
    t = store.table(TABLE)
    known = store.execute(t.filter(t.alert_id.isin(rows["alert_id"].tolist()))
                          .select("alert_id"))["alert_id"]
    new = rows[~rows["alert_id"].isin(set(known))]
    if not new.empty:
        store.append(TABLE, pa.Table.from_pandas(new, schema=ALERTS, preserve_index=False))
    return new.reset_index(drop=True)


def stored_alerts(store: Any, since: datetime | None = None) -> pd.DataFrame:
    """Stored alerts (table columns), newest detection first; ``since`` filters on
    ``detected_at``."""
    t = store.table(TABLE)
    if since is not None:
        t = t.filter(t.detected_at >= since)
    return store.execute(t.order_by([t.detected_at.desc(), t.touchpoint, t.metric]))


# ---------------------------------------------------------------- webhook delivery


def payload(alert: dict[str, Any]) -> bytes:
    """The JSON body POSTed for one alert (timestamps ISO-8601 UTC, NaN → null)."""
    def plain(v: Any) -> Any:
        if isinstance(v, pd.Timestamp | datetime):
            ts = pd.Timestamp(v)
            ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
            return ts.isoformat().replace("+00:00", "Z")
        if isinstance(v, float) and v != v:
            return None
        return v.item() if hasattr(v, "item") else v

    body = {"type": "touchlens.alert", "alert": {k: plain(v) for k, v in alert.items()}}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _post(url: str, body: bytes, timeout: float) -> None:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "User-Agent": "touchlens-alerts"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # URL checked: http(s) only
        resp.read()


class WebhookDispatcher:
    """Background delivery of alerts to ``url`` (see the module docstring)."""

    def __init__(self, url: str, *, max_attempts: int = 5, backoff: float = 0.5,
                 timeout: float = 5.0, max_queue: int = 1000,
                 post: Callable[[str, bytes, float], None] = _post,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"webhook URL must start with http:// or https://, got {url!r}")
        if max_attempts < 1:
            raise ConfigError("max_attempts must be at least 1")
        self.url = url
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.timeout = timeout
        self._post = post
        self._sleep = sleep
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue(maxsize=max_queue)
        self.delivered: list[str] = []
        self.failed: list[tuple[str, str]] = []
        self.dropped = 0
        self.attempts = 0
        self._thread = threading.Thread(target=self._run, name="touchlens-webhook", daemon=True)
        self._thread.start()

    def submit(self, alerts: pd.DataFrame | list[dict[str, Any]]) -> int:
        """Queue alerts for delivery and return at once; returns how many were queued."""
        rows = alerts.to_dict("records") if isinstance(alerts, pd.DataFrame) else list(alerts)
        queued = 0
        for row in rows:
            try:
                self._queue.put_nowait(row)
                queued += 1
            except queue.Full:
                self.dropped += 1
        return queued

    def _deliver(self, alert: dict[str, Any]) -> None:
        body = payload(alert)
        ident = str(alert.get("alert_id", ""))
        error = ""
        for attempt in range(self.max_attempts):
            self.attempts += 1
            try:
                self._post(self.url, body, self.timeout)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                error = str(exc)
                if attempt + 1 < self.max_attempts:
                    self._sleep(self.backoff * 2**attempt)
                continue
            self.delivered.append(ident)
            return
        self.failed.append((ident, error))

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                self._deliver(item)
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait until every queued alert was delivered or gave up (for tests and shutdown)."""
        self._queue.join()

    def close(self) -> None:
        """Deliver what is queued, then stop the thread."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=self.timeout)
        self._thread.join()

    def __enter__(self) -> WebhookDispatcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
