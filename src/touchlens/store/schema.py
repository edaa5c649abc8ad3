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
- ``consent``: one row per consent record (customer × purpose × time); the latest wins.
- ``audit_log``: append-only; one row per audited action. ``erasure_receipts``: one row per
  erasure. ``written_files``: one row per file touchlens wrote (see docs/privacy.md).
- ``ai_answers``: one row per collected AI-assistant answer (answer_id unique).
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

# One row per API key; only a salted SHA-256 of the secret is kept (touchlens.api.security).
API_KEYS = pa.schema([
    ("key_id", pa.string()),
    ("key_hash", pa.string()),
    ("scope", pa.string()),  # "read" | "write"
    ("created_at", TS),
    ("revoked_at", TS),
    ("label", pa.string()),
])

# One row per collected AI-assistant answer (touchlens.aivis); cited_urls is a JSON array as text.
AI_ANSWERS = pa.schema([
    ("answer_id", pa.string()),
    ("collected_at", TS),
    ("assistant", pa.string()),  # chatgpt, perplexity, google_ai_overviews, claude, ...
    ("prompt", pa.string()),
    ("topic", pa.string()),
    ("answer", pa.string()),
    ("cited_urls", pa.string()),
    ("market", pa.string()),
    ("language", pa.string()),
])

# Governance (touchlens.governance, docs/privacy.md). consent: one row per consent record;
# the latest record per customer and purpose wins. customer_id is the id as given, or the salted
# hash of an email/phone (id_type says which).
CONSENT_PURPOSES = ("analytics", "personalization", "marketing")
CONSENT_STATUSES = ("granted", "denied")
CONSENT = pa.schema([
    ("customer_id", pa.string()),
    ("id_type", pa.string()),  # "customer" | "email" | "phone"
    ("purpose", pa.string()),
    ("status", pa.string()),
    ("occurred_at", TS),
    ("source", pa.string()),
])
# Append-only, hash-chained: hash = sha256(prev_hash ‖ the entry's fields).
AUDIT_LOG = pa.schema([
    ("seq", pa.int64()),
    ("recorded_at", TS),
    ("actor", pa.string()),  # "cli" | "python" | "key:<api key id>"
    ("action", pa.string()),  # ingest | erase | export | key_create | key_revoke | retention ...
    ("target", pa.string()),
    ("details", pa.string()),  # JSON object as text; never an identifier in clear
    ("prev_hash", pa.string()),
    ("hash", pa.string()),
])
# One row per erasure; no identifier in clear (subject_hash is salted).
ERASURE_RECEIPTS = pa.schema([
    ("receipt_id", pa.string()),
    ("erased_at", TS),
    ("subject_hash", pa.string()),
    ("id_type", pa.string()),
    ("actor", pa.string()),
    ("n_identifiers", pa.int64()),
    ("rows_deleted", pa.string()),  # JSON {table: rows}
    ("files", pa.string()),  # JSON {path: outcome}
])
# Files touchlens wrote (exports, reports), so erase can rewrite or list them.
WRITTEN_FILES = pa.schema([
    ("path", pa.string()),
    ("kind", pa.string()),
    ("written_at", TS),
    ("actor", pa.string()),
])

# Experiments and monitoring (touchlens.experiments, touchlens.monitoring; docs/experiments.md,
# docs/monitoring.md). experiments: one row per declared experiment (spec = JSON).
EXPERIMENTS = pa.schema([("name", pa.string()), ("spec", pa.string()), ("declared_at", TS)])
# alerts: one row per anomaly episode (alert_id = hash of grain, touchpoint, metric, direction,
# since), with its evidence: observed value, expected value and band at detection.
ALERTS = pa.schema([
    ("alert_id", pa.string()),
    ("grain", pa.string()),  # "hour" | "day"
    ("touchpoint", pa.string()),
    ("metric", pa.string()),
    ("direction", pa.string()),  # "up" | "down"
    ("since", TS),  # estimated start of the change (CUSUM change point)
    ("detected_at", TS),  # period in which the alarm was raised
    ("observed", pa.float64()),
    ("expected", pa.float64()),
    ("band_low", pa.float64()),
    ("band_high", pa.float64()),
    ("z", pa.float64()),
    ("statistic", pa.float64()),
    ("threshold", pa.float64()),
    ("method", pa.string()),
    ("message", pa.string()),
    ("created_at", TS),
])

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
    "experiments": EXPERIMENTS,
    "alerts": ALERTS,
    "consent": CONSENT,
    "audit_log": AUDIT_LOG,
    "erasure_receipts": ERASURE_RECEIPTS,
    "written_files": WRITTEN_FILES,
    "api_keys": API_KEYS,
    "ai_answers": AI_ANSWERS,
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
    # status is part of the key: a grant and a denial at the same instant are both kept
    # (and resolve to denied)
    "consent": {"key": ("id_type", "customer_id", "purpose", "occurred_at", "status"),
                "required": ("purpose", "status", "occurred_at"),
                "one_of": ("customer_id", "email", "phone")},
    "ai_answers": {"key": ("answer_id",), "required": ("collected_at", "assistant", "prompt",
                                                      "answer"), "one_of": ()},
}

PII_ID_TYPES = ("email", "phone")

# Derived tables: Workspace.journey_events(), its journeys (one row per journey) and its
# counts per customer and touchpoint, materialised on DuckDB, built together and rebuilt
# (or updated in place, journeys.incremental) when stale.
JOURNEY_CACHE = "journey_events_cache"
JOURNEYS_CACHE = "journeys_cache"
CUSTOMER_TOUCHPOINTS_CACHE = "customer_touchpoints_cache"
