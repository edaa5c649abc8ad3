"""Validation of raw rows into the store's types, kind by kind.

``check(kind, frame, ...)`` returns the rows that conform (as an Arrow table in the store
schema) and one problem row per rejected input row: its row number, the first bad field and
every reason, in words a person can act on. A bad value never raises.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa

from touchlens.errors import SchemaError
from touchlens.io import parse as P
from touchlens.io import validate_fast as VF
from touchlens.io import validate_tables as T
from touchlens.io.mapping import Mapping
from touchlens.io.pii import hash_series, pii_kind
from touchlens.io.problems import (
    Checked,
    Problems,
    col,
    content_ids,
    currency_column,
    ids,
    jsonable,
    load_object,
    required_timestamps,
)
from touchlens.io.readers import ROW
from touchlens.store import schema as S


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
    problems = Problems(frame)
    builder = BUILDERS[kind]
    out = builder(frame, problems, mapping, salt, currency)
    known = set(S.TABLES[kind].names) | {ROW} | set(EXTRA_OK.get(kind, ()))
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


def _events(frame: pd.DataFrame, problems: Problems, mapping: Mapping, salt: str,
            default_currency: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["occurred_at"] = required_timestamps(
        frame, "occurred_at", problems, mapping,
        "not a timestamp (ISO-8601 or the mapping's format) within 1990-2099: {value}")
    out["customer_id"] = ids(frame, "customer_id", salt)
    out["anonymous_id"] = ids(frame, "anonymous_id", salt)
    problems.add("customer_id", out.customer_id.isna() & out.anonymous_id.isna(),
                 "a customer_id or an anonymous_id is required")
    out["channel"] = P.snake(col(frame, "channel"))
    problems.add("channel", out.channel.isna(), "required, missing")
    out["touchpoint"] = P.snake(col(frame, "touchpoint")).fillna(out.channel)
    out["event_type"] = P.snake(col(frame, "event_type"))
    unknown = out.event_type.notna() & ~out.event_type.isin(S.EVENT_TYPES)
    problems.add("event_type", unknown, VF.UNKNOWN_TYPE)
    problems.add("event_type", out.event_type.isna(), "required, missing")
    out["order_id"] = P.blank_to_none(col(frame, "order_id"))
    out["revenue"], bad = P.numbers(col(frame, "revenue"))
    problems.add("revenue", bad, "not a number: {value}")
    problems.add("revenue", (out.revenue < 0) & (out.event_type != "return"),
                 "negative revenue {value} (only 'return' events may be negative)")
    out["cost"], bad = P.numbers(col(frame, "cost"))
    problems.add("cost", bad, "not a number: {value}")
    problems.add("cost", out.cost < 0, "negative cost {value}")
    out["currency"] = currency_column(frame, out.revenue.notna() | out.cost.notna(), problems,
                               default_currency)
    out["campaign"] = P.blank_to_none(col(frame, "campaign"))
    out["device"] = P.blank_to_none(col(frame, "device"))
    out["event_id"] = P.blank_to_none(col(frame, "event_id"))
    content_ids(out, "event_id", ["occurred_at", "customer_id", "anonymous_id", "channel",
                                  "touchpoint", "event_type", "order_id", "revenue"])
    return out


def _merge_attributes(frame: pd.DataFrame, extras: list[str], problems: Problems) -> pd.Series:
    """Their extra columns are kept, as JSON in ``attributes``, never dropped."""
    given = P.blank_to_none(col(frame, "attributes"))
    parsed = P.umap(given, load_object)
    problems.add("attributes", given.notna() & parsed.isna(), "not a JSON object: {value}")
    if not extras and given.isna().all():
        return pd.Series([None] * len(frame), index=frame.index, dtype=object)
    # only rows with something to keep are built one by one (most rows have nothing)
    busy = np.array(given.notna(), dtype=bool)
    for name in extras:
        busy |= _has_value(frame[name])
    rows = np.flatnonzero(busy)
    records = frame[extras].iloc[rows].to_dict("records") if extras else [{}] * len(rows)
    merged = np.full(len(frame), None, dtype=object)
    for i, base, extra in zip(rows, parsed.iloc[rows], records, strict=True):
        obj = dict(base or {})
        obj.update({k: jsonable(v) for k, v in extra.items() if jsonable(v) not in (None, "")})
        merged[i] = json.dumps(obj, ensure_ascii=False, default=str) if obj else None
    return pd.Series(merged, index=frame.index, dtype=object)


def _has_value(column: pd.Series) -> np.ndarray:
    """Rows of an extra column that may hold a value worth keeping (not null, not "")."""
    present = np.asarray(column.notna(), dtype=bool)
    if pd.api.types.is_string_dtype(column) and column.dtype != object:
        return present & np.asarray(column.fillna("") != "", dtype=bool)
    if column.dtype == object:  # any Python values, bytes of a binary column too
        empty = np.fromiter((isinstance(v, str | bytes) and not v for v in column),
                            dtype=bool, count=len(column))
        present = present & ~empty
    return present


def _feedback(frame: pd.DataFrame, problems: Problems, mapping: Mapping, salt: str,
              default_currency: str) -> pd.DataFrame:
    out = pd.DataFrame(index=frame.index)
    out["occurred_at"] = required_timestamps(frame, "occurred_at", problems, mapping)
    out["customer_id"] = ids(frame, "customer_id", salt)
    out["touchpoint"] = P.snake(col(frame, "touchpoint"))
    out["channel"] = P.snake(col(frame, "channel"))
    for name, (low, high) in {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}.items():
        out[name], bad = P.integers(col(frame, name), low, high)
        problems.add(name, bad, f"must be a whole number {low}-{high}, got {{value}}")
    out["text"] = P.blank_to_none(col(frame, "text"))
    empty = out[["nps", "csat", "ces"]].isna().all(axis=1) & out.text.isna()
    problems.add("text", empty, "empty response: no nps, csat, ces or text")
    out["language"] = P.umap(P.blank_to_none(col(frame, "language")), str.lower)
    out["response_id"] = P.blank_to_none(col(frame, "response_id"))
    content_ids(out, "response_id", ["occurred_at", "customer_id", "touchpoint", "nps", "csat",
                                     "ces", "text"])
    return out


BUILDERS = {"events": _events, "feedback": _feedback, **T.BUILDERS}
EXTRA_OK = {"feedback": ("email", "phone"), **T.EXTRA_OK}
