"""Per-text analysis: language, sentiment (fast lexicon mode or accurate embedding mode) and
topics.

:func:`analyze_texts` is the one entry point: per text the language (:mod:`touchlens.voc.
language`), a sentiment label (negative|neutral|positive) with a score in [−1, 1], the topics
and the fast mode's word-level explanation. Aspect sentiment is the fast mode's clause score
(:mod:`touchlens.voc.aspects`); in accurate mode a text with a single topic gives that topic
the accurate label. Mode ``"auto"`` picks ``"accurate"`` for at most
:data:`AUTO_ACCURATE_MAX` texts when its optional dependency is installed, else ``"fast"``.

A bad row never fails the batch: empty or non-text values, and languages other than Polish
and English, get ``label = None`` and a reason in ``error``; texts with no letters (emoji
only, "👍") are scored with both lexicons.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd

from touchlens.errors import ConfigError
from touchlens.voc.aspects import TopicRules, topic_rules
from touchlens.voc.language import SUPPORTED, UNDETERMINED, detect_language
from touchlens.voc.sentiment import accurate
from touchlens.voc.sentiment.lexicon import score_text
from touchlens.voc.text import clean

MODES = ("auto", "fast", "accurate")
AUTO_ACCURATE_MAX = 2_000
RESULT_COLUMNS = ("row", "language", "language_confidence", "label", "score", "mode", "topics",
                  "aspects", "explanation", "error")


def choose_mode(mode: str, n_texts: int) -> str:
    """The mode actually used: ``auto`` → accurate for small volumes when available."""
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {MODES}, not {mode!r}")
    if mode == "auto":
        return "accurate" if n_texts <= AUTO_ACCURATE_MAX and accurate.available() else "fast"
    if mode == "accurate" and not accurate.available():
        raise ConfigError(accurate.INSTALL_HINT)
    return mode


def analyze_texts(texts: Sequence[object], *, mode: str = "auto",
                  languages: Sequence[str | None] | None = None,
                  topics: TopicRules | None = None,
                  progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """One row per input text with :data:`RESULT_COLUMNS` (``row`` = 0-based position).

    ``languages``: known language codes per text (None → detect). ``progress(k)`` is called
    as texts are done. ``aspects``: list of {topic, label, score}.
    """
    rules = topics or topic_rules()
    cleaned = [clean(t) for t in texts]
    used = choose_mode(mode, sum(t is not None for t in cleaned))
    rows: list[dict] = []
    todo: list[int] = []  # rows for the accurate model
    for i, text in enumerate(cleaned):
        row: dict = dict.fromkeys(RESULT_COLUMNS)
        row.update(row=i, topics=[], aspects=[], mode=used)
        rows.append(row)
        if text is None:
            row["error"] = "empty or not a text"
            row["language"] = UNDETERMINED
            continue
        given = languages[i] if languages is not None else None
        try:
            if isinstance(given, str) and given.strip():
                lang, conf = given.strip().lower()[:2], 1.0
            else:
                lang, conf = detect_language(text)
            row["language"], row["language_confidence"] = lang, conf
            if lang not in (*SUPPORTED, UNDETERMINED):
                row["error"] = f"language {lang!r} is not supported (only {', '.join(SUPPORTED)})"
                continue
            fast = score_text(text, lang)
            row["label"], row["score"] = fast.label, fast.score
            row["explanation"] = fast.explain()
            aspects = rules.aspects(text, lang, overall=fast.score)
            row["topics"] = [a.topic for a in aspects]
            row["aspects"] = [{"topic": a.topic, "label": a.label, "score": a.score}
                              for a in aspects]
            if used == "accurate" and lang in SUPPORTED:
                todo.append(i)
            elif progress is not None:
                progress(1)
        except Exception as exc:  # one bad row must not fail the batch
            row["label"] = row["score"] = None
            row["error"] = f"{type(exc).__name__}: {exc}"
    if todo:
        predicted = accurate.predict([cleaned[i] for i in todo],  # type: ignore[misc]
                                     [rows[i]["language"] for i in todo], progress)
        for i, (label, score) in zip(todo, predicted, strict=True):
            rows[i]["label"], rows[i]["score"] = label, score
            if len(rows[i]["aspects"]) == 1:  # one topic: it carries the text's sentiment
                rows[i]["aspects"][0].update(label=label, score=score)
    out = pd.DataFrame(rows, columns=list(RESULT_COLUMNS), dtype=object)  # None stays None
    for col in ("score", "language_confidence"):
        out[col] = pd.to_numeric(out[col]).astype("float64")
    out["row"] = out["row"].astype("int64")
    return out
