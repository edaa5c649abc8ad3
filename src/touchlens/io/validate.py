"""Validation of raw rows into the store's types, kind by kind.

``check(kind, frame, ...)`` returns the rows that conform (as an Arrow table in the store
schema) and one problem row per rejected input row: its row number, the first bad field and
every reason, in words a person can act on. A bad value never raises.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from touchlens.errors import SchemaError
from touchlens.io import parse as P
from touchlens.io import validate_fast as VF
from touchlens.io.mapping import Mapping
from touchlens.io.pii import hash_email_ids, hash_series, pii_kind
from touchlens.io.readers import ROW
from touchlens.store import schema as S


@dataclass
class Checked:
    """Validated rows (store schema) and the rejected rows with reasons."""

    good: pa.Table
    problems: pd.DataFrame  # ROW, field, reason, raw
    ignored_columns: list[str]


class _Problems:
    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.items: list[tuple[str, pd.Series, str]] = []

    def add(self, field: str, mask: pd.Series, reason: str) -> None:
        """Record ``reason`` for rows in ``mask``; ``{value}`` in reason is the raw value."""
        if bool(mask.any()):
            self.items.append((field, mask.fillna(False).astype(bool), reason))

    def bad_mask(self) -> pd.Series:
        mask = pd.Series(False, index=self.frame.index)
        for _, m, _ in self.items:
            mask |= m
        return mask

    def table(self) -> pd.DataFrame:
        bad = self.bad_mask()
        rows: dict[int, tuple[str, list[str]]] = {}
        for field, mask, reason in self.items:
            for idx in mask[mask].index:
                value = self.frame.at[idx, field] if field in self.frame.columns else None
                text = reason.format(value=_show(value))
                _first, reasons = rows.setdefault(idx, (field, []))
                reasons.append(f"{field}: {text}")
        records = []
        for idx in bad[bad].index:
            field, reasons = rows[idx]
            raw = {k: _jsonable(v) for k, v in self.frame.loc[idx].items() if k != ROW}
            records.append((int(self.frame.at[idx, ROW]), field, "; ".join(reasons),
                            json.dumps(raw, ensure_ascii=False, default=str)))
        return pd.DataFrame(records, columns=[ROW, "field", "reason", "raw"])


def _show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _jsonable(v: object) -> object:
    if isinstance(v, np.ndarray):  # a list column of a Parquet/Arrow input
        return [_jsonable(x) for x in v.tolist()]
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    return v


def _require_columns(kind: str, frame: pd.DataFrame, file: str) -> None:
    spec = S.KINDS[kind]
    cols = set(frame.columns)
    missing = [c for c in spec["required"] if c not in cols]
    if spec["one_of"] and not cols & set(spec["one_of"]):
        missing.append(" or ".join(spec["one_of"]))
    if missing:
        have = [c for c in frame.columns if c != ROW]
        raise SchemaError(
            f"{file}: {kind} needs column(s) {missing}; the file has {have}. "
            "Rename them with --mapping (see docs: column mappings)."
        )


def _col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def check(kind: str, frame: pd.DataFrame, *, file: str, salt: str, currency: str,
          mapping: Mapping | None = None, fast: bool = True) -> Checked:
    """Validate raw rows of ``kind`` (events, feedback, costs, identities, touchpoints).

    ``fast``: canonical event rows of small batches skip the column validators
    (:mod:`touchlens.io.validate_fast`; same result)."""
    mapping = mapping or Mapping()
    if kind not in S.KINDS:
        raise SchemaError(f"unknown kind {kind!r}; use one of {sorted(S.KINDS)}")
    _require_columns(kind, frame, file)
    split = VF.split_events(frame, currency, mapping) if kind == "events" and fast else None
    if split is not None and split.slow_positions:  # the other rows: the full validators
        rest = check(kind, frame.iloc[split.slow_positions], file=file, salt=salt,
                     currency=currency, mapping=mapping, fast=False)
        return Checked(VF.merge(split, rest.good, rest.problems),
                       VF.problems(split, rest.problems), [])
    if split is not None:
        return Checked(split.good, VF.problems(split), [])
    frame = frame.reset_index(drop=True)
    for column in frame.columns:  # personal data is hashed before anything is kept
        pii = pii_kind(column)
        if pii:
            frame[column] = hash_series(frame[column], salt, pii)
    problems = _Problems(frame)
    builder = _BUILDERS[kind]
    out = builder(frame, problems, mapping, salt, currency)
    known = set(S.TABLES[kind].names) | {ROW} | set(_EXTRA_OK.get(kind, ()))
    extras = [c for c in frame.columns if c not in known]
    if kind == "events":
        out["attributes"] = _merge_attributes(frame, extras, problems)
        ignored: list[str] = []
    else:
        ignored = extras
    bad = problems.bad_mask()
    good = out[~bad]
    table = pa.Table.from_pandas(good[S.TABLES[kind].names], schema=S.TABLES[kind],
                                 preserve_index=False)
    return Checked(table, problems.table(), ignored)


def _ids(frame: pd.DataFrame, name: str, salt: str) -> pd.Series:
    return hash_email_ids(P.blank_to_none(_col(frame, name)), salt)


def _events(frame, problems, mapping, salt, currency) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["occurred_at"], bad = P.timestamps(_col(frame, "occurred_at"),
                                           mapping.formats.get("occurred_at"), mapping.timezone)
    problems.add("occurred_at", bad, "not a timestamp (ISO-8601 or the mapping's format) "
                 "within 1990-2099: {value}")
    problems.add("occurred_at", out.occurred_at.isna() & ~bad, "required, missing")
    out["customer_id"] = _ids(frame, "customer_id", salt)
    out["anonymous_id"] = _ids(frame, "anonymous_id", salt)
    problems.add("customer_id", out.customer_id.isna() & out.anonymous_id.isna(),
                 "a customer_id or an anonymous_id is required")
    out["channel"] = P.snake(_col(frame, "channel"))
    problems.add("channel", out.channel.isna(), "required, missing")
    out["touchpoint"] = P.snake(_col(frame, "touchpoint")).fillna(out.channel)
    out["event_type"] = P.snake(_col(frame, "event_type"))
    unknown = out.event_type.notna() & ~out.event_type.isin(S.EVENT_TYPES)
    problems.add("event_type", unknown, VF.UNKNOWN_TYPE)
    problems.add("event_type", out.event_type.isna(), "required, missing")
    out["order_id"] = P.blank_to_none(_col(frame, "order_id"))
    out["revenue"], bad = P.numbers(_col(frame, "revenue"))
    problems.add("revenue", bad, "not a number: {value}")
    problems.add("revenue", (out.revenue < 0) & (out.event_type != "return"),
                 "negative revenue {value} (only 'return' events may be negative)")
    out["cost"], bad = P.numbers(_col(frame, "cost"))
    problems.add("cost", bad, "not a number: {value}")
    problems.add("cost", out.cost < 0, "negative cost {value}")
    out["currency"] = _currency(frame, out.revenue.notna() | out.cost.notna(), problems, currency)
    out["campaign"] = P.blank_to_none(_col(frame, "campaign"))
    out["device"] = P.blank_to_none(_col(frame, "device"))
    out["event_id"] = P.blank_to_none(_col(frame, "event_id"))
    missing = out.event_id.isna()
    if missing.any():  # a stable id from the content makes re-ingest idempotent
        basis = out.loc[missing, ["occurred_at", "customer_id", "anonymous_id", "channel",
                                  "touchpoint", "event_type", "order_id", "revenue"]]
        hashed = pd.util.hash_pandas_object(basis.astype(str), index=False)
        out.loc[missing, "event_id"] = "g:" + hashed.map("{:016x}".format)
    return out


_ISO_4217 = re.compile(r"[A-Z]{3}")


def _currency(frame, needed: pd.Series, problems: _Problems, default: str) -> pd.Series:
    cur = P.umap(P.blank_to_none(_col(frame, "currency")), str.upper)
    valid = P.umap(cur, lambda v: bool(_ISO_4217.fullmatch(v))).fillna(False).astype(bool)
    problems.add("currency", cur.notna() & ~valid, "not an ISO 4217 code: {value}")
    return cur.where(cur.notna() | ~needed, default)


def _merge_attributes(frame: pd.DataFrame, extras: list[str], problems: _Problems) -> pd.Series:
    """Their extra columns are kept, as JSON in ``attributes``, never dropped."""
    given = P.blank_to_none(_col(frame, "attributes"))
    parsed = P.umap(given, _load_object)
    problems.add("attributes", given.notna() & parsed.isna(), "not a JSON object: {value}")
    if not extras and given.isna().all():
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    # only rows with something to keep are built one by one (most rows have nothing)
    busy = np.array(given.notna(), dtype=bool)
    for col in extras:
        busy |= _has_value(frame[col])
    rows = np.flatnonzero(busy)
    records = frame[extras].iloc[rows].to_dict("records") if extras else [{}] * len(rows)
    merged = np.full(len(frame), None, dtype=object)
    for i, base, extra in zip(rows, parsed.iloc[rows], records, strict=True):
        obj = dict(base or {})
        obj.update({k: _jsonable(v) for k, v in extra.items() if _jsonable(v) not in (None, "")})
        merged[i] = json.dumps(obj, ensure_ascii=False, default=str) if obj else None
    return pd.Series(merged, index=frame.index, dtype=object)


def _has_value(col: pd.Series) -> np.ndarray:
    """Rows of an extra column that may hold a value worth keeping (not null, not "")."""
    present = np.asarray(col.notna(), dtype=bool)
    if col.dtype == object or pd.api.types.is_string_dtype(col):
        text = col.where(col.notna(), "").astype(str)
        present = present & np.asarray(text != "", dtype=bool)
    return present


def _load_object(v: object) -> dict | None:
    if v is None:
        return None
    try:
        obj = json.loads(str(v))
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def _feedback(frame, problems, mapping, salt, currency) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["occurred_at"], bad = P.timestamps(_col(frame, "occurred_at"),
                                           mapping.formats.get("occurred_at"), mapping.timezone)
    problems.add("occurred_at", bad, "not a timestamp within 1990-2099: {value}")
    problems.add("occurred_at", out.occurred_at.isna() & ~bad, "required, missing")
    out["customer_id"] = _ids(frame, "customer_id", salt)
    out["touchpoint"] = P.snake(_col(frame, "touchpoint"))
    out["channel"] = P.snake(_col(frame, "channel"))
    for name, (low, high) in {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}.items():
        out[name], bad = P.integers(_col(frame, name), low, high)
        problems.add(name, bad, f"must be a whole number {low}-{high}, got {{value}}")
    out["text"] = P.blank_to_none(_col(frame, "text"))
    empty = out[["nps", "csat", "ces"]].isna().all(axis=1) & out.text.isna()
    problems.add("text", empty, "empty response: no nps, csat, ces or text")
    out["language"] = P.umap(P.blank_to_none(_col(frame, "language")), str.lower)
    out["response_id"] = P.blank_to_none(_col(frame, "response_id"))
    missing = out.response_id.isna()
    if missing.any():
        basis = out.loc[missing, ["occurred_at", "customer_id", "touchpoint", "nps", "csat",
                                  "ces", "text"]]
        hashed = pd.util.hash_pandas_object(basis.astype(str), index=False)
        out.loc[missing, "response_id"] = "g:" + hashed.map("{:016x}".format)
    return out


def _costs(frame, problems, mapping, salt, currency) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["date"], bad = P.dates(_col(frame, "date"), mapping.formats.get("date"))
    problems.add("date", bad, "not a date: {value}")
    problems.add("date", out.date.isna() & ~bad, "required, missing")
    out["touchpoint"] = P.snake(_col(frame, "touchpoint"))
    out["channel"] = P.snake(_col(frame, "channel"))
    problems.add("touchpoint", out.touchpoint.isna() & out.channel.isna(),
                 "a touchpoint or a channel is required")
    out["touchpoint"] = out.touchpoint.fillna(out.channel)  # channel-level spend, as events
    out["spend"], bad = P.numbers(_col(frame, "spend"))
    problems.add("spend", bad, "not a number: {value}")
    problems.add("spend", out.spend.isna() & ~bad, "required, missing")
    problems.add("spend", out.spend < 0, "negative spend {value}")
    out["currency"] = _currency(frame, out.spend.notna(), problems, currency)
    return out


def _identities(frame, problems, mapping, salt, currency) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["id_type"] = P.snake(_col(frame, "id_type"))
    problems.add("id_type", ~out.id_type.isin(S.ID_TYPES),
                 "unknown id type {value}; use one of " + ", ".join(S.ID_TYPES))
    value = P.blank_to_none(_col(frame, "id_value"))
    for kind in S.PII_ID_TYPES:
        rows = out.id_type == kind
        value[rows] = hash_series(value[rows], salt, kind)
    out["id_value"] = value
    problems.add("id_value", out.id_value.isna(), "required, missing")
    out["customer_id"] = _ids(frame, "customer_id", salt)
    problems.add("customer_id", out.customer_id.isna(), "required, missing")
    return out


def _touchpoints(frame, problems, mapping, salt, currency) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["touchpoint"] = P.snake(_col(frame, "touchpoint"))
    problems.add("touchpoint", out.touchpoint.isna(), "required, missing")
    out["channel"] = P.snake(_col(frame, "channel"))
    problems.add("channel", out.channel.isna(), "required, missing")
    for name, allowed in (("stage", S.STAGES), ("medium", S.MEDIA), ("control", S.CONTROLS),
                          ("cost_type", S.COST_TYPES)):
        out[name] = P.snake(_col(frame, name))
        problems.add(name, out[name].notna() & ~out[name].isin(allowed),
                     f"{{value}} is not one of {', '.join(allowed)}")
    out["primary_metric"] = P.blank_to_none(_col(frame, "primary_metric"))
    out["description"] = P.blank_to_none(_col(frame, "description"))
    return out


def _ai_answers(frame, problems, mapping, salt, currency) -> pd.DataFrame:
    """Collected AI-assistant answers (see :mod:`touchlens.aivis`)."""
    out = pd.DataFrame(index=frame.index)
    out["collected_at"], bad = P.timestamps(_col(frame, "collected_at"),
                                            mapping.formats.get("collected_at"), mapping.timezone)
    problems.add("collected_at", bad, "not a timestamp within 1990-2099: {value}")
    problems.add("collected_at", out.collected_at.isna() & ~bad, "required, missing")
    out["assistant"] = P.snake(_col(frame, "assistant"))
    problems.add("assistant", out.assistant.isna(), "required, missing")
    for name in ("prompt", "answer"):
        out[name] = P.blank_to_none(_col(frame, name))
        problems.add(name, out[name].isna(), "required, missing")
    out["topic"] = P.blank_to_none(_col(frame, "topic"))
    urls = P.omap(P.blank_to_none(_col(frame, "cited_urls")), _url_list)
    problems.add("cited_urls", urls == "", "not a list of URLs (a JSON array, or URLs separated "
                 "by spaces, commas, semicolons or |): {value}")
    out["cited_urls"] = urls
    out["market"] = P.umap(P.blank_to_none(_col(frame, "market")), str.upper)
    out["language"] = P.umap(P.blank_to_none(_col(frame, "language")), str.lower)
    out["answer_id"] = P.blank_to_none(_col(frame, "answer_id"))
    missing = out.answer_id.isna()
    if missing.any():  # a stable id from the content makes re-ingest idempotent
        basis = out.loc[missing, ["collected_at", "assistant", "prompt", "answer"]]
        hashed = pd.util.hash_pandas_object(basis.astype(str), index=False)
        out.loc[missing, "answer_id"] = "g:" + hashed.map("{:016x}".format)
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


def _consent(frame, problems, mapping, salt, currency) -> pd.DataFrame:
    """Consent records (touchlens.governance.consent): who, purpose, granted|denied, when.

    The person is a customer_id, else an email, else a phone (both already hashed)."""
    out = pd.DataFrame(index=frame.index)
    out["occurred_at"], bad = P.timestamps(_col(frame, "occurred_at"),
                                           mapping.formats.get("occurred_at"), mapping.timezone)
    problems.add("occurred_at", bad, "not a timestamp within 1990-2099: {value}")
    problems.add("occurred_at", out.occurred_at.isna() & ~bad, "required, missing")
    ids = {"customer": _ids(frame, "customer_id", salt)}
    for column in frame.columns:
        kind = pii_kind(column)
        if kind and kind not in ids:
            ids[kind] = P.blank_to_none(frame[column])
    out["customer_id"] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    out["id_type"] = out["customer_id"]
    for id_type, values in ids.items():
        take = out.customer_id.isna() & values.notna()
        out.loc[take, "customer_id"] = values[take]
        out.loc[take, "id_type"] = id_type
    problems.add("customer_id", out.customer_id.isna(), "a customer_id, email or phone is required")
    purpose = P.snake(_col(frame, "purpose")).replace({"personalisation": "personalization"})
    problems.add("purpose", ~purpose.isin(S.CONSENT_PURPOSES),
                 "unknown purpose {value}; use one of " + ", ".join(S.CONSENT_PURPOSES))
    out["purpose"] = purpose
    status = P.snake(_col(frame, "status"))
    out["status"] = status.map(_CONSENT_STATUS)
    problems.add("status", out.status.isna(), "{value} is not granted or denied (or yes/no, "
                 "true/false, opt_in/opt_out, withdrawn)")
    out["source"] = P.blank_to_none(_col(frame, "source"))
    return out


_BUILDERS = {"events": _events, "feedback": _feedback, "costs": _costs,
             "identities": _identities, "touchpoints": _touchpoints, "ai_answers": _ai_answers}
_EXTRA_OK = {"feedback": ("email", "phone")}
_BUILDERS["consent"] = _consent
_EXTRA_OK["consent"] = ("email", "e_mail", "mail", "phone", "phone_number", "telefon",
                        "msisdn")
