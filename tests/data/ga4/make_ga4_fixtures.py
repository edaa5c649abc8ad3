"""Write the GA4 export fixtures ``events.jsonl`` and ``events.parquet`` (run by hand).

The rows are written out below as GA4's BigQuery export holds them (schema:
support.google.com/analytics/answer/7029846): nested ``event_params`` key/value structs,
``collected_traffic_source``, ``traffic_source``, ``device``, ``geo``, ``ecommerce``, ``items``.
The JSON Lines file follows BigQuery's JSON export (INT64 as strings, nulls omitted) and holds
one line that is not JSON; the Parquet file has BigQuery's nested types, with the text
timestamp of row 15 as NULL (an INT64 column cannot hold text).

Row by row (numbers = line numbers; the tests rely on them):

1-8   user A arrives from chatgpt.com (utm_source only), browses, logs in as u-42, buys T-1001
      (revenue in ecommerce.purchase_revenue and in the value param)
9-13  user B: Google Ads click (gclid), home page, a custom event, scroll, a purchase whose
      revenue is only in the value param (ecommerce.transaction_id "(not set)")
14    a page_view without user_pseudo_id or user_id (consent denied) → quarantined
15    event_timestamp "not-a-ts" → quarantined
16    event_timestamp in milliseconds → quarantined
17    no event_name → quarantined
18    not JSON → quarantined (JSONL only)
19    user C: a page_view landing from perplexity.ai (UTM in page_location), no session_start
20    user C: a purchase whose value param is "abc" → quarantined (revenue not a number)
21    u-42 refunds T-1001
22    an exact copy of row 3 → a duplicate
23    user E: session from Google organic (referrer only)
24    user E: a new session after returning from the payment gateway → direct
25    user F in the Android app: a screen_view
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).parent
T0 = 1_709_287_200_000_000  # 2024-03-01T10:00:00Z in µs
SHOP = "https://sklep.example.pl"


def s(key, value):
    return {"key": key, "value": {"string_value": value}}


def i(key, value):
    return {"key": key, "value": {"int_value": value}}


def d(key, value):
    return {"key": key, "value": {"double_value": value}}


def ev(ts, name, pseudo, params, **more):
    row = {"event_date": "20240301", "event_timestamp": ts, "event_name": name,
           "event_params": params, "user_pseudo_id": pseudo, "platform": "WEB",
           "stream_id": "4567890123",
           "device": {"category": "desktop", "operating_system": "Windows",
                      "language": "pl-pl", "web_info": {"browser": "Chrome",
                                                        "hostname": "sklep.example.pl"}},
           "geo": {"country": "Poland", "city": "Kraków", "continent": "Europe"},
           "traffic_source": {"name": "(direct)", "medium": "(none)", "source": "(direct)"}}
    row.update(more)
    return {k: v for k, v in row.items() if v is not None}


A, SA = "1111.1709287000", 1709287200
B, SB = "2222.1709366000", 1709366400
C, SC = "3333.1709400000", 1709400000
E, SE = "5555.1709500000", 1709500000
LAND = f"{SHOP}/produkt/buty-trekkingowe-123?utm_source=chatgpt.com"
CHATGPT = {"manual_source": "chatgpt.com"}
BUTY = [{"item_id": "SKU-123", "item_name": "Buty trekkingowe", "item_category": "Obuwie",
         "price": 249.99, "quantity": 1}]

ROWS = [
    ev(T0, "session_start", A, [s("page_location", LAND), s("page_referrer", "https://chatgpt.com/"),
       i("ga_session_id", SA), i("ga_session_number", 1)], collected_traffic_source=CHATGPT,
       traffic_source={"name": "(referral)", "medium": "referral", "source": "chatgpt.com"}),
    ev(T0, "first_visit", A, [s("page_location", LAND), i("ga_session_id", SA)],
       collected_traffic_source=CHATGPT),
    ev(T0 + 1_000_000, "page_view", A, [s("page_location", LAND),
       s("page_title", "Buty trekkingowe"), i("ga_session_id", SA)],
       collected_traffic_source=CHATGPT),
    ev(T0 + 20_000_000, "view_item", A, [s("page_location", LAND), i("ga_session_id", SA),
       s("currency", "PLN"), d("value", 249.99)], items=BUTY),
    ev(T0 + 60_000_000, "add_to_cart", A, [s("page_location", LAND), i("ga_session_id", SA),
       s("currency", "PLN"), d("value", 249.99)], items=BUTY),
    ev(T0 + 120_000_000, "begin_checkout", A, [s("page_location", f"{SHOP}/koszyk"),
       i("ga_session_id", SA), s("currency", "PLN"), d("value", 249.99)], items=BUTY),
    ev(T0 + 150_000_000, "login", A, [s("page_location", f"{SHOP}/logowanie"),
       i("ga_session_id", SA), s("method", "email")], user_id="u-42"),
    ev(T0 + 300_000_000, "purchase", A, [s("page_location", f"{SHOP}/zamowienie/potwierdzenie"),
       i("ga_session_id", SA), s("currency", "PLN"), d("value", 249.99),
       s("transaction_id", "T-1001"), d("shipping", 0.0)], user_id="u-42",
       ecommerce={"transaction_id": "T-1001", "purchase_revenue": 249.99,
                  "purchase_revenue_in_usd": 62.5, "total_item_quantity": 1,
                  "unique_items": 1}, items=BUTY),
    ev(T0 + 79_200_000_000, "session_start", B, [s("page_location", f"{SHOP}/?gclid=Cj0KCQ1"),
       i("ga_session_id", SB)], collected_traffic_source={"gclid": "Cj0KCQ1",
       "manual_campaign_name": "buty_wiosna"}, device={"category": "mobile",
       "operating_system": "Android"}),
    ev(T0 + 79_201_000_000, "page_view", B, [s("page_location", f"{SHOP}/?gclid=Cj0KCQ1"),
       i("ga_session_id", SB)], device={"category": "mobile"}),
    ev(T0 + 79_210_000_000, "newsletter_popup_shown", B, [s("page_location", f"{SHOP}/"),
       i("ga_session_id", SB), s("popup_variant", "b")], device={"category": "mobile"}),
    ev(T0 + 79_215_000_000, "scroll", B, [s("page_location", f"{SHOP}/"),
       i("ga_session_id", SB), i("percent_scrolled", 90)], device={"category": "mobile"}),
    ev(T0 + 79_500_000_000, "purchase", B, [s("page_location", f"{SHOP}/zamowienie/ok"),
       i("ga_session_id", SB), s("currency", "PLN"), d("value", 99.5),
       s("transaction_id", "T-1002")], device={"category": "mobile"},
       ecommerce={"transaction_id": "(not set)", "total_item_quantity": 2}),
    ev(T0 + 90_000_000_000, "page_view", None, [s("page_location", f"{SHOP}/"),
       i("ga_session_id", 1709377200)], privacy_info={"analytics_storage": "No"}),
    ev("not-a-ts", "page_view", "4444.1", [s("page_location", f"{SHOP}/")]),
    ev(T0 // 1000, "page_view", "4444.1", [s("page_location", f"{SHOP}/")]),
    ev(T0 + 95_000_000_000, None, "4444.1", [s("page_location", f"{SHOP}/")]),
    None,  # line 18: not JSON
    ev(T0 + 112_800_000_000, "page_view", C,
       [s("page_location", f"{SHOP}/blog/jak-dobrac-buty?utm_source=perplexity.ai"
                           "&utm_medium=referral"), i("ga_session_id", SC)]),
    ev(T0 + 113_000_000_000, "purchase", C, [s("page_location", f"{SHOP}/zamowienie/ok"),
       i("ga_session_id", SC), s("currency", "PLN"), s("value", "abc"),
       s("transaction_id", "T-1003")]),
    ev(T0 + 200_000_000_000, "refund", A, [i("ga_session_id", 1709487200), s("currency", "PLN"),
       s("transaction_id", "T-1001")], user_id="u-42",
       ecommerce={"transaction_id": "T-1001", "refund_value": 249.99}),
    None,  # line 22: a copy of line 3
    ev(T0 + 212_800_000_000, "session_start", E, [s("page_location", f"{SHOP}/"),
       s("page_referrer", "https://www.google.com/"), i("ga_session_id", SE)]),
    ev(T0 + 213_000_000_000, "session_start", E, [s("page_location", f"{SHOP}/zamowienie/ok"),
       s("page_referrer", "https://secure.payu.com/pay/?orderId=1"),
       i("ga_session_id", SE + 200)]),
    ev(T0 + 214_000_000_000, "screen_view", "app-6666", [s("firebase_screen", "ProductDetail"),
       i("ga_session_id", 1709501000)], platform="ANDROID", user_id="u-77",
       device={"category": "mobile", "operating_system": "Android"}),
]
ROWS[21] = dict(ROWS[2])


def _bq_json(value):
    """BigQuery's JSON export writes INT64 as strings."""
    if isinstance(value, dict):
        return {k: _bq_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_bq_json(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


VALUE = pa.struct([("string_value", pa.string()), ("int_value", pa.int64()),
                   ("float_value", pa.float64()), ("double_value", pa.float64())])
SCHEMA = pa.schema([
    ("event_date", pa.string()), ("event_timestamp", pa.int64()), ("event_name", pa.string()),
    ("event_params", pa.list_(pa.struct([("key", pa.string()), ("value", VALUE)]))),
    ("user_id", pa.string()), ("user_pseudo_id", pa.string()),
    ("privacy_info", pa.struct([("analytics_storage", pa.string()),
                                ("ads_storage", pa.string())])),
    ("device", pa.struct([("category", pa.string()), ("operating_system", pa.string()),
                          ("language", pa.string()),
                          ("web_info", pa.struct([("browser", pa.string()),
                                                  ("hostname", pa.string())]))])),
    ("geo", pa.struct([("country", pa.string()), ("city", pa.string()),
                       ("continent", pa.string())])),
    ("traffic_source", pa.struct([("name", pa.string()), ("medium", pa.string()),
                                  ("source", pa.string())])),
    ("stream_id", pa.string()), ("platform", pa.string()),
    ("ecommerce", pa.struct([("total_item_quantity", pa.int64()),
                             ("purchase_revenue_in_usd", pa.float64()),
                             ("purchase_revenue", pa.float64()),
                             ("refund_value", pa.float64()), ("unique_items", pa.int64()),
                             ("transaction_id", pa.string())])),
    ("items", pa.list_(pa.struct([("item_id", pa.string()), ("item_name", pa.string()),
                                  ("item_category", pa.string()), ("price", pa.float64()),
                                  ("quantity", pa.int64())]))),
    ("collected_traffic_source", pa.struct([("manual_campaign_name", pa.string()),
                                            ("manual_source", pa.string()),
                                            ("manual_medium", pa.string()),
                                            ("gclid", pa.string())])),
])


def main() -> None:
    lines = ["{\"event_date\": \"20240301\", \"event_timestamp\": " if r is None and n == 17
             else json.dumps(_bq_json(r), ensure_ascii=False) for n, r in enumerate(ROWS)]
    (HERE / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    typed = []
    for r in ROWS:
        if r is None:
            continue
        r = dict(r)
        if not isinstance(r.get("event_timestamp"), int):
            r["event_timestamp"] = None
        for p in r.get("event_params", []):
            p["value"] = {**dict.fromkeys(VALUE.names), **p["value"]}
        typed.append(r)
    pq.write_table(pa.Table.from_pylist(typed, schema=SCHEMA), HERE / "events.parquet")


if __name__ == "__main__":
    main()
