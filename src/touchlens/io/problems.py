"""What the validators share: the rejected-rows collector (:class:`Problems`), the result
(:class:`Checked`) and small column helpers (:mod:`touchlens.io.validate` uses them for events
and feedback, :mod:`touchlens.io.validate_tables` for the other kinds)."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from touchlens.io import parse as P
from touchlens.io.mapping import Mapping
from touchlens.io.pii import hash_email_ids
from touchlens.io.readers import ROW


@dataclass
class Checked:
    """Validated rows (store schema) and the rejected rows with reasons."""

    good: pa.Table
    problems: pd.DataFrame  # ROW, field, reason, raw
    ignored_columns: list[str]


class Problems:
    """Reasons per field for the rejected rows of one frame."""

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
                text = reason.format(value=show(value))
                _first, reasons = rows.setdefault(idx, (field, []))
                reasons.append(f"{field}: {text}")
        records = []
        for idx in bad[bad].index:
            field, reasons = rows[idx]
            raw = {k: jsonable(v) for k, v in self.frame.loc[idx].items() if k != ROW}
            records.append((int(self.frame.at[idx, ROW]), field, "; ".join(reasons),
                            json.dumps(raw, ensure_ascii=False, default=str)))
        return pd.DataFrame(records, columns=[ROW, "field", "reason", "raw"])


def show(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "empty"
    text = str(value)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def jsonable(v: object) -> object:
    if isinstance(v, np.ndarray):  # a list column of a Parquet/Arrow input
        return [jsonable(x) for x in v.tolist()]
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
        return None
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, bytes):  # a binary column: its text, else its bytes in base64
        try:
            return v.decode("utf-8")
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(v).decode("ascii")
    return v


def col(frame: pd.DataFrame, name: str) -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series([None] * len(frame), index=frame.index, dtype=object)


def ids(frame: pd.DataFrame, name: str, salt: str) -> pd.Series:
    return hash_email_ids(P.blank_to_none(col(frame, name)), salt)


NOT_A_TIMESTAMP = "not a timestamp within 1990-2099: {value}"


def required_timestamps(frame: pd.DataFrame, name: str, problems: Problems, mapping: Mapping,
                        bad_reason: str = NOT_A_TIMESTAMP) -> pd.Series:
    """Column ``name`` parsed as UTC timestamps (the mapping's format and timezone); rows
    with an unreadable value get ``bad_reason``, rows without one "required, missing"."""
    values, bad = P.timestamps(col(frame, name), mapping.formats.get(name), mapping.timezone)
    problems.add(name, bad, bad_reason)
    problems.add(name, values.isna() & ~bad, "required, missing")
    return values


def content_ids(out: pd.DataFrame, key: str, basis: list[str]) -> None:
    """Fill the missing ``out[key]`` with ``g:<hash of the basis columns>``: a stable id from
    the content makes re-ingesting the same rows idempotent."""
    missing = out[key].isna()
    if missing.any():
        hashed = pd.util.hash_pandas_object(out.loc[missing, basis].astype(str), index=False)
        out.loc[missing, key] = "g:" + hashed.map("{:016x}".format)


_ISO_4217 = re.compile(r"[A-Z]{3}")


def currency_column(frame: pd.DataFrame, needed: pd.Series, problems: Problems,
                    default: str) -> pd.Series:
    """The currency column upper-cased; ISO 4217 codes only; ``default`` where an amount needs
    one and none is given."""
    cur = P.umap(P.blank_to_none(col(frame, "currency")), str.upper)
    valid = P.umap(cur, lambda v: bool(_ISO_4217.fullmatch(v))).fillna(False).astype(bool)
    problems.add("currency", cur.notna() & ~valid, "not an ISO 4217 code: {value}")
    return cur.where(cur.notna() | ~needed, default)


def load_object(v: object) -> dict | None:
    if v is None:
        return None
    try:
        obj = json.loads(str(v))
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


