"""Validation of the kinds besides events and feedback: costs, identities, touchpoints, AI
answers and consent records (registered in :data:`touchlens.io.validate.BUILDERS`). Each
builder maps raw columns to the store's and records a reason per rejected row."""

from __future__ import annotations

import json
import re

import pandas as pd

from touchlens.io import parse as P
from touchlens.io.mapping import Mapping
from touchlens.io.pii import hash_series, pii_kind
from touchlens.io.problems import (
    Problems,
    col,
    content_ids,
    currency_column,
    ids,
    required_timestamps,
)
from touchlens.store import schema as S


def costs(frame: pd.DataFrame, problems: Problems, mapping: Mapping, salt: str,
          default_currency: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["date"], bad = P.dates(col(frame, "date"), mapping.formats.get("date"))
    problems.add("date", bad, "not a date: {value}")
    problems.add("date", out.date.isna() & ~bad, "required, missing")
    out["touchpoint"] = P.snake(col(frame, "touchpoint"))
    out["channel"] = P.snake(col(frame, "channel"))
    problems.add("touchpoint", out.touchpoint.isna() & out.channel.isna(),
                 "a touchpoint or a channel is required")
    out["touchpoint"] = out.touchpoint.fillna(out.channel)  # channel-level spend, as events
    out["spend"], bad = P.numbers(col(frame, "spend"))
    problems.add("spend", bad, "not a number: {value}")
    problems.add("spend", out.spend.isna() & ~bad, "required, missing")
    problems.add("spend", out.spend < 0, "negative spend {value}")
    out["currency"] = currency_column(frame, out.spend.notna(), problems, default_currency)
    return out


def identities(frame: pd.DataFrame, problems: Problems, mapping: Mapping, salt: str,
               default_currency: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["id_type"] = P.snake(col(frame, "id_type"))
    problems.add("id_type", ~out.id_type.isin(S.ID_TYPES),
                 "unknown id type {value}; use one of " + ", ".join(S.ID_TYPES))
    value = P.blank_to_none(col(frame, "id_value"))
    for kind in S.PII_ID_TYPES:
        rows = out.id_type == kind
        value[rows] = hash_series(value[rows], salt, kind)
    out["id_value"] = value
    problems.add("id_value", out.id_value.isna(), "required, missing")
    out["customer_id"] = ids(frame, "customer_id", salt)
    problems.add("customer_id", out.customer_id.isna(), "required, missing")
    return out


def touchpoints(frame: pd.DataFrame, problems: Problems, mapping: Mapping, salt: str,
                default_currency: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["touchpoint"] = P.snake(col(frame, "touchpoint"))
    problems.add("touchpoint", out.touchpoint.isna(), "required, missing")
    out["channel"] = P.snake(col(frame, "channel"))
    problems.add("channel", out.channel.isna(), "required, missing")
    for name, allowed in (("stage", S.STAGES), ("medium", S.MEDIA), ("control", S.CONTROLS),
                          ("cost_type", S.COST_TYPES)):
        out[name] = P.snake(col(frame, name))
        problems.add(name, out[name].notna() & ~out[name].isin(allowed),
                     f"{{value}} is not one of {', '.join(allowed)}")
    out["primary_metric"] = P.blank_to_none(col(frame, "primary_metric"))
    out["description"] = P.blank_to_none(col(frame, "description"))
    return out


def ai_answers(frame: pd.DataFrame, problems: Problems, mapping: Mapping, salt: str,
               default_currency: str) -> pd.DataFrame:
    """Collected AI-assistant answers (see :mod:`touchlens.aivis`)."""
    out = pd.DataFrame(index=frame.index)
    out["collected_at"] = required_timestamps(frame, "collected_at", problems, mapping)
    out["assistant"] = P.snake(col(frame, "assistant"))
    problems.add("assistant", out.assistant.isna(), "required, missing")
    for name in ("prompt", "answer"):
        out[name] = P.blank_to_none(col(frame, name))
        problems.add(name, out[name].isna(), "required, missing")
    out["topic"] = P.blank_to_none(col(frame, "topic"))
    urls = P.omap(P.blank_to_none(col(frame, "cited_urls")), _url_list)
    problems.add("cited_urls", urls == "", "not a list of URLs (a JSON array, or URLs separated "
                 "by spaces, commas, semicolons or |): {value}")
    out["cited_urls"] = urls
    out["market"] = P.umap(P.blank_to_none(col(frame, "market")), str.upper)
    out["language"] = P.umap(P.blank_to_none(col(frame, "language")), str.lower)
    out["answer_id"] = P.blank_to_none(col(frame, "answer_id"))
    content_ids(out, "answer_id", ["collected_at", "assistant", "prompt", "answer"])
    return out


def _url_list(value: str) -> str:
    """URLs as a JSON array text; "" when the value is not a list of URLs."""
    if value.startswith("["):
        try:
            items = json.loads(value)
        except json.JSONDecodeError:
            return ""
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            return ""
    else:
        items = [u for u in re.split(r"[\s,;|]+", value) if u]
    items = [i.strip() for i in items if i.strip()]
    return json.dumps(items, ensure_ascii=False)


_CONSENT_STATUS = {
    "granted": "granted", "grant": "granted", "given": "granted", "yes": "granted",
    "true": "granted", "1": "granted", "opt_in": "granted", "opted_in": "granted",
    "accepted": "granted", "denied": "denied", "deny": "denied", "no": "denied",
    "false": "denied", "0": "denied", "opt_out": "denied", "opted_out": "denied",
    "withdrawn": "denied", "revoked": "denied", "refused": "denied", "rejected": "denied",
}


def consent(frame: pd.DataFrame, problems: Problems, mapping: Mapping, salt: str,
            default_currency: str) -> pd.DataFrame:
    """Consent records (touchlens.governance.consent): who, purpose, granted|denied, when.

    The person is a customer_id, else an email, else a phone (both already hashed)."""
    out = pd.DataFrame(index=frame.index)
    out["occurred_at"] = required_timestamps(frame, "occurred_at", problems, mapping)
    people = {"customer": ids(frame, "customer_id", salt)}
    for column in frame.columns:
        kind = pii_kind(column)
        if kind and kind not in people:
            people[kind] = P.blank_to_none(frame[column])
    out["customer_id"] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    out["id_type"] = out["customer_id"]
    for id_type, values in people.items():
        take = out.customer_id.isna() & values.notna()
        out.loc[take, "customer_id"] = values[take]
        out.loc[take, "id_type"] = id_type
    problems.add("customer_id", out.customer_id.isna(), "a customer_id, email or phone is required")
    purpose = P.snake(col(frame, "purpose")).replace({"personalisation": "personalization"})
    problems.add("purpose", ~purpose.isin(S.CONSENT_PURPOSES),
                 "unknown purpose {value}; use one of " + ", ".join(S.CONSENT_PURPOSES))
    out["purpose"] = purpose
    status = P.snake(col(frame, "status"))
    out["status"] = status.map(_CONSENT_STATUS)
    problems.add("status", out.status.isna(), "{value} is not granted or denied (or yes/no, "
                 "true/false, opt_in/opt_out, withdrawn)")
    out["source"] = P.blank_to_none(col(frame, "source"))
    return out




BUILDERS = {"costs": costs, "identities": identities, "touchpoints": touchpoints,
            "ai_answers": ai_answers, "consent": consent}
EXTRA_OK = {"consent": ("email", "e_mail", "mail", "phone", "phone_number", "telefon",
                        "msisdn")}
