"""Find brands in one AI answer: mentions, citations, first-mention rank, sentences.

An **occurrence** is a brand name or alias in any Polish case form
(:mod:`touchlens.aivis.inflect`), or one of its domains written in the text ("allegro.pl").
Names inside URLs do not count (the URL's host decides instead). An occurrence overlapping a
match of one of the brand's ``exclude`` patterns never counts.

A name that is also an ordinary word (``Brand.is_ambiguous``: Orange, Apple, "allegro" in
music, Temu = "ago" in Polish) counts only when

1. it is capitalised like the brand ("tempo allegro" is music, "dwa lata temu" is time), and
2. something says it is the brand: a ``context`` word in the same sentence or in the prompt;
   another tracked brand in the same sentence; the brand's domain in the answer or its
   citations; a Polish case form or possessive rather than the bare name ("Allegrze",
   "Orange'u", "Apple's": nobody declines a tempo marking); or — only for a brand without
   context words — the name does not open a prose sentence (a capital there proves nothing;
   markdown list items and bold names are not prose).

A domain occurrence always counts. **Cited** = a URL in ``cited_urls`` or in the answer text
whose host is one of the brand's domains or their subdomains. **Position** = rank of the
brand's first counted occurrence among the brands counted in the answer (1 = named first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from touchlens.aivis.brands import Brand, BrandSet
from touchlens.aivis.clauses import brand_part
from touchlens.aivis.inflect import compile_names

_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]]+", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_POLISH = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
_TOKEN = re.compile(r"\w+")


@dataclass
class Reading:
    """What one answer says about one brand."""

    brand: str
    spans: list[tuple[int, int]] = field(default_factory=list)  # counted occurrences
    sentences: list[str] = field(default_factory=list)  # the sentences holding them
    parts: list[str] = field(default_factory=list)  # their clauses about this brand
    cited: bool = False
    position: int | None = None

    @property
    def mentioned(self) -> bool:
        return bool(self.spans)

    @property
    def first(self) -> int | None:
        return min(s for s, _ in self.spans) if self.spans else None


def fold(text: str) -> str:
    return text.translate(_POLISH).lower()


def host_of(url: str) -> str:
    text = url if "://" in url else "https://" + url
    try:
        host = urlsplit(text.strip()).hostname or ""
    except ValueError:
        return ""
    return host[4:] if host.startswith("www.") else host


def on_domain(host: str, domains: list[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: split after . ! ? … followed by space, and at newlines."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.start() > start:
            spans.append((start, match.start()))
        start = match.end()
    if start < len(text):
        spans.append((start, len(text)))
    return spans


class _Compiled:
    """One brand's patterns, compiled once per run."""

    def __init__(self, brand: Brand) -> None:
        self.brand = brand
        self.names = compile_names(brand.names)
        self.domains = brand.all_domains
        self.domain_text = re.compile(
            r"(?<![\w.@-])(?:[\w-]+\.)*(?:" + "|".join(re.escape(d) for d in self.domains)
            + r")(?![\w-])", re.IGNORECASE) if self.domains else None
        self.exclude = [re.compile(p, re.IGNORECASE) for p in brand.exclude]
        self.context = [fold(c) for c in brand.context]
        self.capital = any(n[:1].isupper() for n in brand.names)
        self.bare = {" ".join(n.lower().split()) for n in brand.names}


class BrandMatcher:
    """Reads answers for a :class:`BrandSet` (see the module docstring for the rules)."""

    def __init__(self, brands: BrandSet) -> None:
        self.brands = brands
        self._compiled = [_Compiled(b) for b in brands]

    def read(self, answer: str, cited_urls: list[str] | None = None,
             prompt: str | None = None) -> dict[str, Reading]:
        """One :class:`Reading` per brand (every brand, mentioned or not), ranks set."""
        answer = answer or ""
        urls = [(m.start(), m.end()) for m in _URL.finditer(answer)]
        hosts = [host_of(u) for u in (*(cited_urls or []), *(answer[s:e] for s, e in urls))]
        sents = sentences(answer)
        prompt_tokens = _TOKEN.findall(fold(prompt or ""))
        candidates = {c.brand.name: self._candidates(c, answer, urls) for c in self._compiled}
        readings: dict[str, Reading] = {}
        for c in self._compiled:
            reading = Reading(c.brand.name, cited=on_domain_any(hosts, c.domains))
            domain_in_answer = reading.cited or any(d for d in candidates[c.brand.name] if d[2])
            for start, end, is_domain in candidates[c.brand.name]:
                sent = _sentence_of(sents, start)
                if is_domain or not c.brand.is_ambiguous or self._confirmed(
                        c, answer, sent, start, end, prompt_tokens, candidates,
                        domain_in_answer):
                    reading.spans.append((start, end))
                    text = answer[sent[0]:sent[1]].strip()
                    if text not in reading.sentences:
                        reading.sentences.append(text)
            readings[c.brand.name] = reading
        _set_parts(answer, sents, readings)
        ranked = sorted((r for r in readings.values() if r.mentioned), key=lambda r: r.first)
        for rank, reading in enumerate(ranked, start=1):
            reading.position = rank
        return readings

    def _candidates(self, c: _Compiled, text: str,
                    urls: list[tuple[int, int]]) -> list[tuple[int, int, bool]]:
        """Occurrences that pass exclusion and, for ambiguous names, capitalisation."""
        found: list[tuple[int, int, bool]] = []
        domain_spans = [(m.start(), m.end()) for m in c.domain_text.finditer(text)] \
            if c.domain_text else []
        found += [(s, e, True) for s, e in domain_spans if not _inside(s, e, urls)]
        found += [(s, e, True) for s, e in urls if on_domain(host_of(text[s:e]), c.domains)]
        excluded = [(m.start(), m.end()) for p in c.exclude for m in p.finditer(text)]
        for m in c.names.finditer(text):
            s, e = m.start(), m.end()
            if _inside(s, e, urls) or _overlaps(s, e, domain_spans) or _overlaps(s, e, excluded):
                continue
            if c.brand.is_ambiguous and c.capital and not text[s].isupper():
                continue
            found.append((s, e, False))
        return sorted(set(found))

    def _confirmed(self, c: _Compiled, text: str, sent: tuple[int, int], start: int, end: int,
                   prompt_tokens: list[str], candidates: dict, domain_in_answer: bool) -> bool:
        sentence = fold(text[sent[0]:sent[1]])
        if c.context and (_has_context(c.context, _TOKEN.findall(sentence), sentence)
                          or _has_context(c.context, prompt_tokens, " ".join(prompt_tokens))):
            return True
        others = (s for name, spans in candidates.items() if name != c.brand.name
                  for s, _, _ in spans)
        if any(sent[0] <= s < sent[1] for s in others):
            return True
        if domain_in_answer or " ".join(text[start:end].lower().split()) not in c.bare:
            return True
        if c.context:
            return False
        # a capital that opens a prose sentence proves nothing; "**Orange**" or "- Orange"
        # (markdown) and "… Orange …" mid-sentence do
        return bool(text[sent[0]:start].strip())


def on_domain_any(hosts: list[str], domains: list[str]) -> bool:
    return bool(domains) and any(on_domain(h, domains) for h in hosts if h)


def _has_context(words: list[str], tokens: list[str], text: str) -> bool:
    for word in words:
        if " " in word:
            if word in text:
                return True
        elif any(t.startswith(word) for t in tokens):
            return True
    return False


def _set_parts(answer: str, sents: list[tuple[int, int]], readings: dict[str, Reading]
               ) -> None:
    """Each reading's part of every sentence naming it (:func:`.clauses.brand_part`)."""
    for reading in readings.values():
        seen: set[tuple[int, int]] = set()
        for start, _ in reading.spans:
            s0, s1 = _sentence_of(sents, start)
            if (s0, s1) in seen:
                continue
            seen.add((s0, s1))

            def inside(r: Reading, lo: int = s0, hi: int = s1) -> list[tuple[int, int]]:
                return [(a - lo, b - lo) for a, b in r.spans if lo <= a < hi]

            others = [span for r in readings.values() if r is not reading for span in inside(r)]
            reading.parts.append(brand_part(answer[s0:s1], inside(reading), others))


def _sentence_of(sents: list[tuple[int, int]], pos: int) -> tuple[int, int]:
    for s, e in sents:
        if s <= pos < e:
            return s, e
    return pos, pos + 1


def _inside(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= s and e <= b for a, b in spans)


def _overlaps(s: int, e: int, spans: list[tuple[int, int]]) -> bool:
    return any(s < b and a < e for a, b in spans)
