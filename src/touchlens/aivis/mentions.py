"""Per answer × brand: mentioned, cited, position, sentiment (text parsing, in Python).

Grain of :func:`answer_mentions`: one row per stored answer and dictionary brand, mentioned
or not — the denominator of every rate. Columns: answer_id, collected_at (UTC), assistant,
topic, prompt, market, language, brand, is_target, mentioned, cited, position (1 = named
first among the brands counted in the answer; NULL when not mentioned), n_mentions,
sentiment (mean score in [−1, 1] of the sentences holding the brand; NULL when not mentioned).
"""

from __future__ import annotations

import json

import ibis
import pandas as pd

from touchlens.aivis.brands import BrandSet
from touchlens.aivis.matching import BrandMatcher
from touchlens.aivis.tone import sentence_sentiment

MENTIONS_SCHEMA = ibis.schema({
    "answer_id": "string", "collected_at": "timestamp('UTC')", "assistant": "string",
    "topic": "string", "prompt": "string", "market": "string", "language": "string",
    "brand": "string", "is_target": "boolean", "mentioned": "boolean", "cited": "boolean",
    "position": "int64", "n_mentions": "int64", "sentiment": "float64",
})


def _urls(value: object) -> list[str]:
    if not isinstance(value, str) or not value.strip():
        return []
    try:
        items = json.loads(value)
    except json.JSONDecodeError:
        return value.split()
    return [str(i) for i in items] if isinstance(items, list) else []


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def answer_mentions(answers: pd.DataFrame, brands: BrandSet) -> pd.DataFrame:
    """Read every answer (columns of the ``ai_answers`` table) for every brand."""
    matcher = BrandMatcher(brands)
    rows = []
    for a in answers.to_dict("records"):
        readings = matcher.read(_text(a.get("answer")) or "", _urls(a.get("cited_urls")),
                                _text(a.get("prompt")))
        language = _text(a.get("language"))
        for brand in brands:
            r = readings[brand.name]
            scores = [sentence_sentiment(s, language) for s in r.parts]
            rows.append({
                "answer_id": a.get("answer_id"), "collected_at": a.get("collected_at"),
                "assistant": a.get("assistant"), "topic": _text(a.get("topic")),
                "prompt": _text(a.get("prompt")), "market": _text(a.get("market")),
                "language": language, "brand": brand.name, "is_target": brand.is_target,
                "mentioned": r.mentioned, "cited": r.cited, "position": r.position,
                "n_mentions": len(r.spans),
                "sentiment": sum(scores) / len(scores) if scores else None,
            })
    frame = pd.DataFrame(rows, columns=list(MENTIONS_SCHEMA.names))
    frame["collected_at"] = pd.to_datetime(frame["collected_at"], utc=True)
    frame["position"] = frame["position"].astype("Int64")
    frame["n_mentions"] = frame["n_mentions"].astype("int64")
    frame["sentiment"] = frame["sentiment"].astype("float64")
    for col in ("is_target", "mentioned", "cited"):
        frame[col] = frame[col].astype(bool)
    return frame
