"""Topics (aspects) of a text and their sentiment: keyword rules per language, mapped to
touchpoints.

Topics and keywords come from ``data/topics.yaml`` (delivery, returns, price, staff,
product_quality, website, app, payment, availability, communication), extendable by a user
YAML of the same shape. Keywords match folded tokens (no diacritics, lower case): exact
words, ``stem*`` prefixes for Polish inflection ("kurier*" → kuriera, kurierem) and phrases —
a stemmer-free way to match inflected Polish typed with or without diacritics.

Aspect sentiment: the fast-mode score of the clauses that mention the topic when they carry
sentiment words ("Szybka dostawa, ale aplikacja się zawiesza": delivery +, app −), else the
whole text's score.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from touchlens.errors import ConfigError
from touchlens.voc.sentiment.lexicon import label_of, score_text
from touchlens.voc.text import BOUNDARY, fold, tokens

LANGS = ("pl", "en")


@dataclass(frozen=True)
class Aspect:
    """One topic found in a text: its sentiment label and score in [−1, 1]."""

    topic: str
    label: str
    score: float


class TopicRules:
    """Keyword rules of every topic, per language."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.touchpoints: dict[str, tuple[str, ...]] = {}
        self._words: dict[str, dict[str, set[str]]] = {lg: {} for lg in LANGS}
        self._stems: dict[str, dict[str, set[str]]] = {lg: {} for lg in LANGS}
        self._phrases: dict[str, dict[str, list[tuple[tuple[str, ...], str]]]] = {
            lg: {} for lg in LANGS}
        for topic, entry in spec.items():
            if not isinstance(entry, dict):
                raise ConfigError(f"topic {topic!r}: expected a mapping with pl/en keyword lists")
            self.touchpoints[str(topic)] = tuple(entry.get("touchpoints") or ())
            for lang in LANGS:
                for keyword in entry.get(lang) or ():
                    self._add(lang, str(topic), str(keyword))
        self._max_stem = {lg: max((len(s) for s in self._stems[lg]), default=0) for lg in LANGS}
        self._cache: dict[tuple[str, str], tuple[frozenset[str], tuple]] = {}

    def _add(self, lang: str, topic: str, keyword: str) -> None:
        parts = tuple(fold(keyword).replace("-", " ").split())
        if not parts:
            return
        if len(parts) > 1:
            self._phrases[lang].setdefault(parts[0].rstrip("*"), []).append((parts, topic))
        elif parts[0].endswith("*"):
            self._stems[lang].setdefault(parts[0][:-1], set()).add(topic)
        else:
            self._words[lang].setdefault(parts[0], set()).add(topic)

    @property
    def topics(self) -> tuple[str, ...]:
        return tuple(self.touchpoints)

    def _lookup(self, lang: str, tok: str) -> tuple[frozenset[str], tuple]:
        """(topics of the word itself, phrases that may start with it), memoised."""
        key = (lang, tok)
        if key not in self._cache:
            found = set(self._words[lang].get(tok, ()))
            for end in range(min(len(tok), self._max_stem[lang]), 1, -1):
                found |= self._stems[lang].get(tok[:end], set())
            phrases = tuple(
                (parts, topic)
                for k in {tok, *(tok[:e] for e in range(2, len(tok)))}
                for parts, topic in self._phrases[lang].get(k, ())
                if parts[0] == tok or (parts[0].endswith("*") and tok.startswith(parts[0][:-1]))
            )
            if len(self._cache) < 200_000:
                self._cache[key] = (frozenset(found), phrases)
            else:
                return frozenset(found), phrases
        return self._cache[key]

    def _token_topics(self, lang: str, toks: list[str], i: int) -> set[str]:
        found, phrases = self._lookup(lang, toks[i])
        if not phrases:
            return set(found)
        out = set(found)
        for parts, topic in phrases:
            if i + len(parts) <= len(toks) and all(
                toks[i + k] == p or (p.endswith("*") and toks[i + k].startswith(p[:-1]))
                for k, p in enumerate(parts[1:], start=1)
            ):
                out.add(topic)
        return out

    def clause_topics(self, text: str, lang: str) -> list[tuple[str, set[str]]]:
        """(clause text, topics mentioned in it) per clause of ``text``."""
        langs = LANGS if lang not in LANGS else (lang,)
        toks = tokens(text, boundaries=True)
        out: list[tuple[str, set[str]]] = []
        clause: list[str] = []
        found: set[str] = set()
        for i, tok in enumerate([*toks, BOUNDARY]):
            if tok == BOUNDARY:
                if clause:
                    out.append((" ".join(clause), found))
                clause, found = [], set()
                continue
            clause.append(tok)
            for lg in langs:
                found |= self._token_topics(lg, toks, i)
        return out

    def topics_of(self, text: str, lang: str) -> list[str]:
        """Topics mentioned in ``text``, in this model's topic order."""
        seen: set[str] = set()
        for _, found in self.clause_topics(text, lang):
            seen |= found
        return [t for t in self.topics if t in seen]

    def aspects(self, text: str, lang: str, overall: float | None = None) -> list[Aspect]:
        """Each mentioned topic with the sentiment of the clauses that mention it."""
        pieces = self.clause_topics(text, lang)
        if overall is None:
            overall = score_text(text, lang).score
        out = []
        for topic in self.topics:
            mentioned = [c for c, found in pieces if topic in found]
            if not mentioned:
                continue
            if len(mentioned) == len(pieces):  # every clause: the text's own score
                score = overall
            else:
                local = score_text(", ".join(mentioned), lang)
                score = local.score if local.hits else overall
            out.append(Aspect(topic, label_of(score), round(score, 4)))
        return out


def _read_yaml(source: str | Path | dict[str, Any]) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    try:
        data = yaml.safe_load(Path(source).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read topics file {source}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"topics file {source} must map topic names to keyword lists")
    return data


@lru_cache(maxsize=1)
def _builtin() -> dict[str, Any]:
    text = files("touchlens.voc").joinpath("data").joinpath("topics.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def topic_rules(extra: str | Path | dict[str, Any] | None = None) -> TopicRules:
    """The built-in topics, extended by ``extra`` (YAML path or dict of the same shape):
    keywords are added to a topic, ``touchpoints`` replace the built-in ones, new topics
    are appended."""
    spec = {k: dict(v) for k, v in _builtin().items()}
    for topic, entry in _read_yaml(extra).items() if extra is not None else ():
        base = spec.setdefault(str(topic), {})
        entry = entry or {}
        if "touchpoints" in entry:
            base["touchpoints"] = list(entry["touchpoints"] or ())
        for lang in LANGS:
            base[lang] = [*(base.get(lang) or ()), *(entry.get(lang) or ())]
    return TopicRules(spec)
