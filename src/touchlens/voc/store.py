"""Per-text results stored as derived tables, so dashboards and insights read them fast.

- ``voc_texts``: one row per feedback response with a text — response_id, language,
  language_confidence, sentiment (negative|neutral|positive|NULL), sentiment_score [−1, 1],
  sentiment_mode (fast|accurate), topics (comma-separated), error, analyzed_at (UTC).
- ``voc_aspects``: one row per response × topic — response_id, topic, aspect_sentiment,
  aspect_score.

:func:`analyze_feedback` is incremental: only responses not yet in ``voc_texts`` (or analysed
with another mode when a mode is forced) are scored; the model runs in Python (a prediction,
not an aggregation), the rest is Ibis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from touchlens.voc.analyze import analyze_texts, choose_mode
from touchlens.voc.aspects import TopicRules

TEXTS = "voc_texts"
ASPECTS = "voc_aspects"
TEXTS_SCHEMA = pa.schema([
    ("response_id", pa.string()), ("language", pa.string()),
    ("language_confidence", pa.float64()), ("sentiment", pa.string()),
    ("sentiment_score", pa.float64()), ("sentiment_mode", pa.string()), ("topics", pa.string()),
    ("error", pa.string()), ("analyzed_at", pa.timestamp("us", tz="UTC")),
])
ASPECTS_SCHEMA = pa.schema([
    ("response_id", pa.string()), ("topic", pa.string()), ("aspect_sentiment", pa.string()),
    ("aspect_score", pa.float64()),
])


def has_table(store: Any, name: str) -> bool:
    return name in store.con.list_tables()


def texts_table(store: Any) -> ir.Table:
    """``voc_texts`` (an empty table of its schema before the first analysis)."""
    if has_table(store, TEXTS):
        return store.table(TEXTS)
    return ibis.memtable(TEXTS_SCHEMA.empty_table())


def aspects_table(store: Any) -> ir.Table:
    """``voc_aspects`` (empty before the first analysis)."""
    if has_table(store, ASPECTS):
        return store.table(ASPECTS)
    return ibis.memtable(ASPECTS_SCHEMA.empty_table())


def pending(store: Any, mode: str | None, force: bool) -> ir.Table:
    """Feedback rows with a text that still need scoring."""
    fb = store.table("feedback")
    fb = fb.filter(fb.text.notnull()).select("response_id", "text", "language")
    if force or not has_table(store, TEXTS):
        return fb
    done = store.table(TEXTS)
    if mode in ("fast", "accurate"):
        done = done.filter(done.sentiment_mode == mode)
    return fb.anti_join(done, "response_id")


def analyze_feedback(store: Any, *, mode: str = "auto", force: bool = False,
                     rules: TopicRules | None = None,
                     progress: Callable[[int], None] | None = None,
                     on_start: Callable[[int, str], None] | None = None) -> dict[str, Any]:
    """Score the pending feedback texts and store them; returns a summary dict
    (n_new, n_total, n_errors, mode)."""
    todo = store.execute(pending(store, mode if mode != "auto" else None, force))
    used = choose_mode(mode, len(todo))
    if on_start is not None:
        on_start(len(todo), used)
    res = analyze_texts(todo.text.tolist(), mode=used,
                        languages=todo.language.tolist(), topics=rules, progress=progress)
    now = dt.datetime.now(dt.UTC)
    new_texts = pa.table({
        "response_id": todo.response_id.astype(str).tolist(),
        "language": res.language.tolist(),
        "language_confidence": pd.to_numeric(res.language_confidence).tolist(),
        "sentiment": res.label.tolist(),
        "sentiment_score": pd.to_numeric(res.score).tolist(),
        "sentiment_mode": [used] * len(res),
        "topics": [",".join(t) for t in res.topics],
        "error": res.error.tolist(),
        "analyzed_at": [now] * len(res),
    }, schema=TEXTS_SCHEMA)
    rows = [(rid, a["topic"], a["label"], a["score"])
            for rid, aspects in zip(todo.response_id.astype(str), res.aspects, strict=True)
            for a in aspects]
    new_aspects = pa.Table.from_pylist(
        [dict(zip(ASPECTS_SCHEMA.names, r, strict=True)) for r in rows], schema=ASPECTS_SCHEMA)
    _merge(store, TEXTS, TEXTS_SCHEMA, new_texts, replace_all=force)
    _merge(store, ASPECTS, ASPECTS_SCHEMA, new_aspects, replace_all=force,
           redone=new_texts.column("response_id").to_pylist())
    total = store.count(TEXTS)
    return {"n_new": len(todo), "n_total": total, "n_errors": int(res.error.notna().sum()),
            "mode": used}


def _merge(store: Any, name: str, schema: pa.Schema, new: pa.Table, *, replace_all: bool,
           redone: list[str] | None = None) -> None:
    """Existing rows (minus re-scored responses) + ``new`` → ``name``."""
    keys = set(redone if redone is not None else new.column("response_id").to_pylist())
    if replace_all or not has_table(store, name):
        store.replace(name, new)
        return
    old = store.table(name).to_pyarrow().cast(schema)
    if keys:
        mask = pa.array([k not in keys for k in old.column("response_id").to_pylist()])
        old = old.filter(mask)
    store.replace(name, pa.concat_tables([old, new]))
