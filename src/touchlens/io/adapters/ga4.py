"""GA4 BigQuery export (Parquet or JSON Lines, nested as exported) → touchlens events.

One GA4 row becomes one touchlens event; nothing is dropped. Field by field:

- ``event_timestamp`` (µs since 1970-01-01 UTC; an integer or, in BigQuery's JSON export, a
  digit string) → ``occurred_at``. Missing or outside 1990–2099 → quarantined with a reason.
- ``user_id`` → ``customer_id``; ``user_pseudo_id`` → ``anonymous_id`` (so identity stitching
  links a browser to the customer once they log in). Neither → quarantined.
- ``event_name`` → ``event_type`` and ``touchpoint`` via :data:`~.ga4_events.EVENT_MAP`;
  unknown names → ``other``. The page (``page_location`` param) names the touchpoint where
  the event does not (``/koszyk`` → ``cart``…, see :func:`~.ga4_events.page_touchpoint`).
- Arrival touches: ``session_start`` events (and, in a session whose ``session_start`` is not
  in the file, an event carrying its own campaign source) take ``channel`` and ``touchpoint``
  from the traffic source through GA4's default channel grouping
  (:mod:`touchlens.io.adapters.channels`): ``paid_search``/``search_ad``,
  ``ai_assistant``/``ai_answer``…; other events are ``web`` (or ``app`` on ANDROID/IOS).
- Traffic source of an event, first present wins: ``collected_traffic_source`` (gclid →
  google/cpc, else manual_source/medium/campaign_name); the ``source``/``medium``/``campaign``
  params; UTM parameters (or gclid) in ``page_location``; an external ``page_referrer`` (medium
  ``referral``; payment gateways ignored); ``session_traffic_source_last_click.manual_campaign``;
  for ``first_visit``/``first_open`` the user-level ``traffic_source`` (source/medium/name);
  otherwise ``(direct)/(none)``.
- ``purchase``/``in_app_purchase``: ``revenue`` = ``ecommerce.purchase_revenue``, else the
  ``value`` param; ``refund``: ``revenue`` = −(``ecommerce.refund_value`` or ``value``);
  ``currency`` param → ``currency``; ``ecommerce.transaction_id`` (else the ``transaction_id``
  param; ``(not set)`` ignored) → ``order_id``.
- ``device.category`` → ``device``; ``event_id`` = ``ga4:`` + a hash of the whole row, so an
  exact duplicate row (GA4 exports have them) and a re-ingested file count as duplicates.
- ``attributes``: event_name, event_date, platform, ga_session_id, page_location,
  page_referrer, source, medium, channel_group, traffic_origin, country, the other params and
  the items (id, name, category, price, quantity).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from touchlens.errors import UnreadableFileError
from touchlens.io.adapters.channels import PAYMENT_HOSTS, channel_of, in_list, source_host
from touchlens.io.adapters.ga4_events import REVENUE_EVENTS, event_touchpoint
from touchlens.io.readers import ROW, BadRow, read_file

MIN_US = 631_152_000_000_000  # 1990-01-01 in µs
MAX_US = 4_102_444_800_000_000  # 2100-01-01 in µs
NOT_SET = frozenset({"", "(not set)", "(none)", "(direct)", "(organic)", "(referral)",
                     "(data deleted)"})
_ARRIVAL_EVENTS = frozenset({"session_start"})
_FIRST_EVENTS = frozenset({"first_visit", "first_open"})
_NESTED = ("event_params", "user_properties", "device", "geo", "app_info", "traffic_source",
           "collected_traffic_source", "session_traffic_source_last_click", "ecommerce",
           "items", "privacy_info", "user_ltv", "event_dimensions")
_ITEM_KEYS = ("item_id", "item_name", "item_brand", "item_category", "price", "quantity")
COLUMNS = ["event_id", "occurred_at", "customer_id", "anonymous_id", "channel", "touchpoint",
           "event_type", "order_id", "revenue", "currency", "campaign", "device", "attributes"]

_INT_TEXT = re.compile(r"-?[0-9]+")


def read_ga4(path: Path) -> tuple[pd.DataFrame, list[BadRow]]:
    """Read a GA4 export file and map it to raw event rows (``(frame, bad_rows)`` like
    :func:`touchlens.io.readers.read_file`)."""
    records, bad = _read_records(path)
    sessions = {_session_key(rec) for _, rec in records
                if str(rec.get("event_name")) in _ARRIVAL_EVENTS}
    rows: list[dict[str, Any]] = []
    for number, rec in records:
        mapped = map_event(rec, sessions)
        if isinstance(mapped, tuple):
            field, reason = mapped
            bad.append((number, field, reason, _raw(rec)))
        else:
            rows.append({**mapped, ROW: number})
    bad.sort(key=lambda b: b[0])
    frame = pd.DataFrame(rows, columns=[*COLUMNS, ROW]).astype(object)
    frame["occurred_at"] = pd.to_datetime(
        pd.Series([r["occurred_at"] for r in rows], dtype="int64"), unit="us", utc=True
    ).astype("datetime64[us, UTC]")
    frame[ROW] = frame[ROW].astype("int64")
    return frame, bad


def _read_records(path: Path) -> tuple[list[tuple[int, dict]], list[BadRow]]:
    if not path.exists():
        raise UnreadableFileError(f"{path}: no such file")
    with path.open("rb") as fh:
        parquet = fh.read(4) == b"PAR1"
    if parquet:  # else JSON Lines, whatever the extension (BigQuery writes .json / .json.gz)
        try:
            table = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise UnreadableFileError(f"{path}: not a Parquet file ({exc})") from exc
        return list(enumerate(table.to_pylist(), start=1)), []
    frame, bad = read_file(path, "jsonl")  # gzip, encodings and bad lines handled there
    if len(frame) and not {"event_name", "event_timestamp"} & set(frame.columns):
        raise UnreadableFileError(f"{path}: not a GA4 export (no event_name/event_timestamp)")
    records = []
    for rec in frame.to_dict("records"):
        number = int(rec.pop(ROW))
        records.append((number, {k: _unnest(k, v) for k, v in rec.items() if not _na(v)}))
    return records, bad


def _na(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _unnest(key: str, value: object) -> object:
    """Nested fields arrive from the JSON reader as JSON text: parse them back."""
    if key in _NESTED and isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _raw(rec: dict, limit: int | None = 4000) -> str:
    return json.dumps(rec, ensure_ascii=False, default=str, sort_keys=True)[:limit]


def params(rec: dict) -> dict[str, Any]:
    """``event_params`` as {key: value}: the first non-null of string/int/float/double."""
    out: dict[str, Any] = {}
    for item in rec.get("event_params") or []:
        if not isinstance(item, dict) or not item.get("key"):
            continue
        value = item.get("value") or {}
        if not isinstance(value, dict):
            out[str(item["key"])] = value
            continue
        for kind in ("string_value", "int_value", "double_value", "float_value"):
            v = value.get(kind)
            if not _na(v):
                out[str(item["key"])] = int(v) if kind == "int_value" and _digits(v) else v
                break
    return out


def _digits(v: object) -> bool:
    """An int, or text of ASCII digits with an optional minus (``str.isdigit`` also accepts
    "²" and other digits ``int()`` rejects: a GA4 export row with one crashed the ingest)."""
    return isinstance(v, int) or (isinstance(v, str) and _INT_TEXT.fullmatch(v) is not None)


def _sub(rec: dict, key: str) -> dict:
    value = rec.get(key)
    return value if isinstance(value, dict) else {}


def _text(v: object) -> str | None:
    if _na(v):
        return None
    text = str(v).strip()
    return None if text.lower() in NOT_SET else text


def _session_key(rec: dict, p: dict[str, Any] | None = None) -> tuple[str, object]:
    who = rec.get("user_pseudo_id") or rec.get("user_id") or ""
    return str(who), (params(rec) if p is None else p).get("ga_session_id")


def traffic_source(rec: dict, p: dict[str, Any], name: str) -> tuple[str, str, str | None, str]:
    """(source, medium, campaign, origin) of one event; see the module docstring's order."""
    cts = _sub(rec, "collected_traffic_source")
    if _text(cts.get("gclid")):
        return "google", "cpc", _text(cts.get("manual_campaign_name")), "gclid"
    if _text(cts.get("manual_source")) or _text(cts.get("manual_medium")):
        return (cts.get("manual_source") or "", cts.get("manual_medium") or "",
                _text(cts.get("manual_campaign_name")), "collected_traffic_source")
    if _text(p.get("source")) or _text(p.get("medium")):
        return (str(p.get("source") or ""), str(p.get("medium") or ""),
                _text(p.get("campaign")), "event_params")
    page = str(p.get("page_location") or "")
    query = parse_qs(urlsplit(page).query) if "?" in page else {}
    if "gclid" in query:
        return "google", "cpc", _first(query, "utm_campaign"), "page_location"
    if "utm_source" in query or "utm_medium" in query:
        return (_first(query, "utm_source") or "", _first(query, "utm_medium") or "",
                _first(query, "utm_campaign"), "page_location")
    referrer = source_host(str(p.get("page_referrer") or ""))
    if referrer and referrer != source_host(page) and not in_list(referrer, PAYMENT_HOSTS):
        return referrer, "referral", None, "page_referrer"
    last = _sub(_sub(rec, "session_traffic_source_last_click"), "manual_campaign")
    if _text(last.get("source")) or _text(last.get("medium")):
        return (str(last.get("source") or ""), str(last.get("medium") or ""),
                _text(last.get("campaign_name")), "session_traffic_source_last_click")
    user = _sub(rec, "traffic_source")
    if name in _FIRST_EVENTS and (_text(user.get("source")) or _text(user.get("medium"))):
        return (str(user.get("source") or ""), str(user.get("medium") or ""),
                _text(user.get("name")), "traffic_source")
    return "(direct)", "(none)", None, "none"


def _canonical(value: object) -> object:
    """The same row read from JSON (INT64 as text, nulls omitted) or Parquet looks alike."""
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items() if not _empty(v)}
    if isinstance(value, list | tuple | np.ndarray):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _empty(v: object) -> bool:
    return _na(v) or (isinstance(v, list | tuple | dict) and not v)


def event_id(rec: dict) -> str:
    """``ga4:`` + SHA-1 (24 hex) of the canonical row: equal rows, equal ids."""
    text = json.dumps(_canonical(rec), sort_keys=True, ensure_ascii=False)
    return "ga4:" + hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:24]


def _first(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[0] if values else None


def timestamp_us(value: object) -> int | str:
    """µs since the epoch, or the reason it is not one."""
    if _na(value) or (isinstance(value, str) and not value.strip()):
        return "required, missing"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not _digits(value):
        return f"not microseconds since 1970-01-01 UTC: {str(value)[:40]!r}"
    us = int(value)
    if not MIN_US <= us < MAX_US:
        hint = " (looks like milliseconds or seconds)" if 0 < us < MIN_US else ""
        return f"{us} µs is outside 1990-2099{hint}"
    return us


def map_event(rec: dict, sessions_with_start: set | frozenset = frozenset()
              ) -> dict[str, Any] | tuple[str, str]:
    """One GA4 row → a raw touchlens event row, or ``(field, reason)`` when it cannot be one."""
    us = timestamp_us(rec.get("event_timestamp"))
    if isinstance(us, str):
        return "event_timestamp", us
    name = str(rec.get("event_name") or "").strip()
    if not name:
        return "event_name", "required, missing"
    customer, anonymous = _text(rec.get("user_id")), _text(rec.get("user_pseudo_id"))
    if customer is None and anonymous is None:
        return "user_pseudo_id", ("a user_pseudo_id or user_id is required (GA4 exports events "
                                  "without one when consent was denied)")
    p = params(rec)
    platform = str(rec.get("platform") or "WEB").upper()
    page = _text(p.get("page_location"))
    source, medium, campaign, origin = traffic_source(rec, p, name)
    group, src_channel, src_touchpoint = channel_of(source, medium, campaign)
    event_type, touchpoint = event_touchpoint(name, platform, page)
    explicit = origin not in ("none", "page_referrer", "session_traffic_source_last_click")
    orphan = _session_key(rec, p) not in sessions_with_start
    arrival = name in _ARRIVAL_EVENTS or (orphan and (explicit or name in _FIRST_EVENTS))
    if arrival:
        channel, touchpoint = src_channel, src_touchpoint
        event_type = "visit" if name in _ARRIVAL_EVENTS | _FIRST_EVENTS else event_type
    else:
        channel = "app" if platform in ("ANDROID", "IOS") else "web"
    ecommerce = _sub(rec, "ecommerce")
    revenue = _revenue(name, ecommerce, p)
    order = _text(ecommerce.get("transaction_id")) or _text(p.get("transaction_id"))
    return {
        "event_id": event_id(rec),
        "occurred_at": us, "customer_id": customer, "anonymous_id": anonymous,
        "channel": channel, "touchpoint": touchpoint, "event_type": event_type,
        "order_id": order if name in REVENUE_EVENTS else None, "revenue": revenue,
        "currency": _text(p.get("currency")) if revenue is not None else None,
        "campaign": campaign if arrival else None,
        "device": _text(_sub(rec, "device").get("category")),
        "attributes": _attributes(rec, p, name, platform, page, (source, medium, group, origin),
                                  arrival),
    }


def _revenue(name: str, ecommerce: dict, p: dict[str, Any]) -> object:
    if name not in REVENUE_EVENTS:
        return None
    if name == "refund":
        value = next((v for v in (ecommerce.get("refund_value"), p.get("value"))
                      if not _na(v)), None)
        try:
            return None if value is None else -abs(float(value))
        except (TypeError, ValueError):
            return value  # not a number: validation quarantines it with the reason
    for value in (ecommerce.get("purchase_revenue"), p.get("value")):
        if not _na(value):
            return value
    return None


def _attributes(rec: dict, p: dict[str, Any], name: str, platform: str, page: str | None,
                source: tuple[str, str, str, str], arrival: bool) -> str:
    src, medium, group, origin = source
    skip = {"page_location", "page_referrer", "ga_session_id", "source", "medium", "campaign",
            "currency", "transaction_id"}
    items = [{k: it[k] for k in _ITEM_KEYS if not _na(it.get(k))}
             for it in rec.get("items") or [] if isinstance(it, dict)]
    attrs: dict[str, Any] = {
        "event_name": name, "event_date": rec.get("event_date"), "platform": platform,
        "ga_session_id": p.get("ga_session_id"), "page_location": page,
        "page_referrer": _text(p.get("page_referrer")),
        "country": _text(_sub(rec, "geo").get("country")),
    }
    if arrival or origin != "none":
        attrs.update(source=src or None, medium=medium or None, channel_group=group,
                     traffic_origin=origin)
    rest = {k: v for k, v in p.items() if k not in skip}
    if rest:
        attrs["params"] = rest
    if items:
        attrs["items"] = items
    return json.dumps({k: v for k, v in attrs.items() if not _na(v)}, ensure_ascii=False,
                      default=str)
