"""The AI-assistant arrival rule for plain event files (CSV, JSONL, Parquet, Arrow).

An event is an arrival from an AI assistant, and becomes ``channel = "ai_assistant"``,
``touchpoint = "ai_answer"``, when all three hold:

1. its source names an assistant (:func:`~.channels.is_ai_source`: chatgpt.com, perplexity.ai,
   gemini.google.com, copilot, claude.ai…), read from the first present of the columns
   ``utm_source``, ``source``, ``referrer``, ``page_referrer``, ``referrer_url``, from
   ``utm_source=`` in ``page_location``/``landing_page``/``page_url``/``url``, or from the
   same keys inside the ``attributes`` JSON;
2. its channel is missing or generic: ``web``, ``referral``, ``direct``, ``unassigned``,
   ``other``, ``organic`` (a channel you set, e.g. ``paid_search``, is never overridden);
3. its event type is an arrival: ``visit``, ``page_view``, ``click``, ``app_open``, ``other``
   or missing (a purchase carrying the session's utm_source stays a purchase).

The original channel and touchpoint and the source found are kept in ``attributes``
(``original_channel``, ``original_touchpoint``, ``ai_source``). GA4 files are not passed
through this rule: their arrivals are classified by the channel grouping itself.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from touchlens.io.adapters.channels import AI_SOURCES, is_ai_source

SOURCE_KEYS = ("utm_source", "source", "referrer", "page_referrer", "referrer_url")
URL_KEYS = ("page_location", "landing_page", "page_url", "url")
GENERIC_CHANNELS = frozenset({"web", "referral", "direct", "unassigned", "other", "organic",
                              "(none)", "none"})
ARRIVAL_TYPES = frozenset({"visit", "page_view", "click", "app_open", "other"})
# a cheap pre-filter: only rows whose text mentions an assistant are parsed
_HINT = "|".join(re.escape(s) for s in sorted(AI_SOURCES))


def _norm(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return re.sub(r"[\s\-/.]+", "_", str(v).strip().lower())


def referral_hits(s: pd.Series) -> np.ndarray:
    try:
        arr = pa.array(s, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # mixed types: compare their text
        arr = pa.array([None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                        for v in s.tolist()], type=pa.string())
    found = pc.fill_null(pc.match_substring_regex(arr, _HINT, ignore_case=True), False)
    return found.to_numpy(zero_copy_only=False)


def _source_of(row: dict) -> str | None:
    """The assistant source of one row, or None (rule 1 of the module docstring)."""
    attrs: dict = {}
    text = row.get("attributes")
    if isinstance(text, str) and text.strip().startswith("{"):
        try:
            loaded = json.loads(text)
            attrs = loaded if isinstance(loaded, dict) else {}
        except json.JSONDecodeError:
            attrs = {}
    for where in (row, attrs):
        for key in SOURCE_KEYS:
            if is_ai_source(_str(where.get(key))):
                return str(where[key]).strip()
        for key in URL_KEYS:
            url = _str(where.get(key))
            if url and "utm_source=" in url:
                utm = parse_qs(urlsplit(url).query).get("utm_source", [""])[0]
                if is_ai_source(utm):
                    return utm
    return None


def _str(v: object) -> str | None:
    return v if isinstance(v, str) and v.strip() else None


def tag_ai_arrivals(frame: pd.DataFrame) -> pd.DataFrame:
    """Apply the AI-assistant arrival rule to raw event rows (returns a new frame)."""
    cols = [c for c in (*SOURCE_KEYS, *URL_KEYS, "attributes") if c in frame.columns]
    if not cols or frame.empty:
        return frame
    candidate = np.zeros(len(frame), dtype=bool)
    for col in cols:
        candidate |= referral_hits(frame[col])
    if not candidate.any():
        return frame
    channel = frame["channel"] if "channel" in frame.columns else pd.Series(None, frame.index)
    etype = frame["event_type"] if "event_type" in frame.columns else pd.Series(None,
                                                                               frame.index)
    out = frame.copy()
    for col in ("ai_source", "original_channel", "original_touchpoint"):
        if col not in out.columns:
            out[col] = pd.Series([None] * len(out), index=out.index, dtype=object)
    out["channel"] = channel.astype(object)
    if "touchpoint" not in out.columns:
        out["touchpoint"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    for pos in np.flatnonzero(candidate):
        idx = frame.index[pos]
        chan, kind = _norm(channel.iloc[pos]), _norm(etype.iloc[pos])
        if chan not in GENERIC_CHANNELS | {""} or kind not in ARRIVAL_TYPES | {""}:
            continue
        source = _source_of({c: frame.at[idx, c] for c in cols})
        if source is None:
            continue
        out.at[idx, "original_channel"] = None if chan == "" else channel.iloc[pos]
        out.at[idx, "original_touchpoint"] = out.at[idx, "touchpoint"]
        out.at[idx, "ai_source"] = source
        out.at[idx, "channel"] = "ai_assistant"
        out.at[idx, "touchpoint"] = "ai_answer"
    return out
