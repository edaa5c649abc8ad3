"""Table schemas of a touchlens workspace: the one place where columns and types are declared.

Grains:
- ``events``: one row per event (event_id unique); ``occurred_at`` is UTC.
- ``feedback``: one row per survey/review response (response_id unique).
- ``costs``: one row per day × touchpoint × channel (spend in ``currency``).
- ``identities``: one row per link (id_type, id_value) → customer_id.
- ``touchpoints``: one row per touchpoint name (the user's catalogue entries).
- ``quarantine``: one row per rejected input row, with file, row number, field and reason.
- ``ingest_log``: one row per ingested file (batch).
- ``identity_map``: derived; one row per known identifier node → stitched customer_id.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = 1

EVENT_TYPES: tuple[str, ...] = (
    "impression", "click", "visit", "page_view", "open", "delivered", "send", "engagement",
    "add_to_cart", "checkout", "purchase", "signup", "support_contact", "store_visit", "call",
    "chat", "review", "survey", "return", "app_open", "mention", "other",
)
CONVERSION_EVENT_TYPES: tuple[str, ...] = ("purchase", "signup")
ENGAGEMENT_EVENT_TYPES: tuple[str, ...] = ("click", "engagement", "review", "mention")

STAGES = ("awareness", "consideration", "purchase", "retention", "advocacy")
MEDIA = ("digital", "physical", "virtual")
CONTROLS = ("direct", "indirect")
COST_TYPES = ("owned", "paid", "earned")
ID_TYPES = ("customer", "anonymous", "email", "phone", "loyalty_card", "device", "other")

TS = pa.timestamp("us", tz="UTC")

EVENTS = pa.schema([
    ("event_id", pa.string()),
    ("occurred_at", TS),
    ("customer_id", pa.string()),
    ("anonymous_id", pa.string()),
    ("channel", pa.string()),
    ("touchpoint", pa.string()),
    ("event_type", pa.string()),
    ("order_id", pa.string()),
    ("revenue", pa.float64()),
    ("currency", pa.string()),
    ("cost", pa.float64()),
    ("campaign", pa.string()),
    ("device", pa.string()),
    ("attributes", pa.string()),  # JSON object as text: portable across backends
])

FEEDBACK = pa.schema([
    ("response_id", pa.string()),
    ("occurred_at", TS),
    ("customer_id", pa.string()),
    ("touchpoint", pa.string()),
    ("channel", pa.string()),
    ("nps", pa.int32()),
    ("csat", pa.int32()),
    ("ces", pa.int32()),
    ("text", pa.string()),
    ("language", pa.string()),
])

COSTS = pa.schema([
    ("date", pa.date32()),
    ("touchpoint", pa.string()),
    ("channel", pa.string()),
    ("spend", pa.float64()),
    ("currency", pa.string()),
])

IDENTITIES = pa.schema([
    ("id_type", pa.string()),
    ("id_value", pa.string()),
    ("customer_id", pa.string()),
])

TOUCHPOINTS = pa.schema([
    ("touchpoint", pa.string()),
    ("channel", pa.string()),
    ("stage", pa.string()),
    ("medium", pa.string()),
    ("control", pa.string()),
    ("cost_type", pa.string()),
    ("primary_metric", pa.string()),
    ("description", pa.string()),
])

QUARANTINE = pa.schema([
    ("batch_id", pa.string()),
    ("kind", pa.string()),
    ("file", pa.string()),
    ("row_number", pa.int64()),  # 1 = first record after the header
    ("field", pa.string()),
    ("reason", pa.string()),
    ("raw", pa.string()),  # the row as JSON text, PII fields hashed
    ("quarantined_at", TS),
])

INGEST_LOG = pa.schema([
    ("batch_id", pa.string()),
    ("kind", pa.string()),
    ("file", pa.string()),
    ("sha256", pa.string()),
    ("rows_in", pa.int64()),
    ("stored", pa.int64()),
    ("quarantined", pa.int64()),
    ("duplicates", pa.int64()),
    ("started_at", TS),
    ("finished_at", TS),
])

IDENTITY_MAP = pa.schema([
    ("id_type", pa.string()),
    ("id_value", pa.string()),
    ("customer_id", pa.string()),
])

META = pa.schema([("key", pa.string()), ("value", pa.string())])

TABLES: dict[str, pa.Schema] = {
    "events": EVENTS,
    "feedback": FEEDBACK,
    "costs": COSTS,
    "identities": IDENTITIES,
    "touchpoints": TOUCHPOINTS,
    "quarantine": QUARANTINE,
    "ingest_log": INGEST_LOG,
    "identity_map": IDENTITY_MAP,
    "meta": META,
}

# Input kinds a user can ingest, their key (for idempotence) and required columns.
KINDS: dict[str, dict] = {
    "events": {
        "key": ("event_id",),
        "required": ("occurred_at", "channel", "event_type"),
        "one_of": ("customer_id", "anonymous_id"),
    },
    "feedback": {"key": ("response_id",), "required": ("occurred_at",), "one_of": ()},
    "costs": {"key": ("date", "touchpoint", "channel"), "required": ("date", "spend"),
              "one_of": ("touchpoint", "channel")},
    "identities": {"key": ("id_type", "id_value", "customer_id"),
                   "required": ("id_type", "id_value", "customer_id"), "one_of": ()},
    "touchpoints": {"key": ("touchpoint",), "required": ("touchpoint", "channel"), "one_of": ()},
}

PII_ID_TYPES = ("email", "phone")
