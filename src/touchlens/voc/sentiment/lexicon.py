"""Fast mode: lexicon sentiment with word-level explanations (Polish, English).

Per text: folded tokens (:func:`touchlens.voc.text.tokens`) are matched against the
language's lexicon (``data/lexicon_<lang>.tsv``: exact words, ``stem*`` prefixes for Polish
inflection, multi-word phrases first), then modifiers (``data/modifiers.tsv``) adjust them:

- negator ("nie", "bez", "not", "n't"): sentiment words in the next :data:`NEG_WINDOW` tokens of
  the clause are multiplied by :data:`NEG_POS` (a negated positive, "nie polecam") or
  :data:`NEG_NEG` (a negated negative, "not bad", "wcale nie było źle"); a negator with nothing
  to flip adds its own score ("brak kontaktu"). Negative concord negates once;
  A preposition ("o", "about") ends the window; a negator flips only its first sentiment word;
- intensifier / diminisher: × value on the next sentiment word (within 2 tokens);
- contrast ("ale", "but"): words before × 0.5, after × 1.5; concession ("choć", "although"):
  rest of its clause × value; wish ("mogłaby być szybsza"): mutes the next 3 tokens and
  then adds its own score.

score = s / √(s² + :data:`ALPHA`) ∈ (−1, 1), s = sum of contributions (VADER's normalisation,
Hutto & Gilbert 2014); label positive if score ≥ :data:`POS_THRESHOLD`, negative if
≤ −:data:`NEG_THRESHOLD`, else neutral (thresholds tuned on the training set only).
Tokens missing from the language's lexicon fall back to the other language's words (≥ 4
letters: "apka crashuje"); undetermined language ("und") uses both lexicons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

from touchlens.voc.text import BOUNDARY, fold, tokens

ALPHA = 4.0
NEG_WINDOW = 3
NEG_POS = -0.8
NEG_NEG = -0.5
CONTRAST_BEFORE = 0.5
NT_OWN = -0.4  # "didn't", "isn't" … with nothing to flip ("did not work")
POS_THRESHOLD = 0.3
NEG_THRESHOLD = 0.15
_NT_TEXT = """
dont didnt doesnt isnt wasnt werent arent cant cannot wont wouldnt couldnt shouldnt havent
hasnt hadnt aint
"""
_NT = frozenset(_NT_TEXT.split())


@dataclass(frozen=True)
class Hit:
    """One matched lexicon term: base score, applied weight and why."""

    term: str
    base: float
    weight: float
    rule: str = ""

    @property
    def contribution(self) -> float:
        return self.base * self.weight


@dataclass(frozen=True)
class Sentiment:
    """A text's sentiment: label (negative|neutral|positive), score in [−1, 1], matched terms."""

    label: str
    score: float
    hits: tuple[Hit, ...] = field(default=())

    def explain(self) -> str:
        """Matched terms with their contributions: "polecam(+2.0) ×−0.8 nie → −1.6"."""
        parts = []
        for h in self.hits:
            rule = f" {h.rule}" if h.rule else ""
            parts.append(f"{h.term}({h.base:+.1f}){rule} → {h.contribution:+.2f}")
        return "; ".join(parts)


def label_of(score: float) -> str:
    """negative / neutral / positive from a score in [−1, 1]."""
    if score >= POS_THRESHOLD:
        return "positive"
    if score <= -NEG_THRESHOLD:
        return "negative"
    return "neutral"


def _read(name: str) -> list[list[str]]:
    text = files("touchlens.voc").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


class Lexicon:
    """Exact words, prefix stems and phrases of one or more languages, with modifiers."""

    def __init__(self, entries: list[tuple[str, float]], modifiers: dict[str, tuple[str, float]]
                 ) -> None:
        self.words: dict[str, float] = {}
        self.stems: dict[str, float] = {}
        self.phrases: dict[str, list[tuple[tuple[str, ...], float, str]]] = {}
        for term, score in entries:
            parts = tuple(fold(term).split())
            if len(parts) > 1:
                self.phrases.setdefault(parts[0], []).append((parts, score, " ".join(parts)))
            elif parts[0].endswith("*"):
                self.stems[parts[0][:-1]] = score
            else:
                self.words[parts[0]] = score
        for options in self.phrases.values():
            options.sort(key=lambda p: -len(p[0]))
        self.modifiers = modifiers
        self._max_stem = max((len(s) for s in self.stems), default=0)
        self._cache: dict[str, tuple[str, float] | None] = {}

    def lookup(self, token: str) -> tuple[str, float] | None:
        """(matched term, score) of one folded token: exact word, else longest stem."""
        if token in self._cache:
            return self._cache[token]
        found: tuple[str, float] | None = None
        if token in self.words:
            found = (token, self.words[token])
        else:
            for end in range(min(len(token), self._max_stem), 2, -1):
                stem = token[:end]
                if stem in self.stems:
                    found = (stem + "*", self.stems[stem])
                    break
        if len(self._cache) < 200_000:
            self._cache[token] = found
        return found

    def phrase_at(self, toks: list[str], i: int) -> tuple[int, str, float] | None:
        """(length, phrase, score) of the longest phrase starting at ``toks[i]``."""
        for parts, score, text in self.phrases.get(toks[i], ()):
            n = len(parts)
            if i + n <= len(toks) and all(
                toks[i + k] == p or (p.endswith("*") and toks[i + k].startswith(p[:-1]))
                for k, p in enumerate(parts)
            ):
                return n, text, score
        return None

    def modifier(self, token: str) -> tuple[str, float] | None:
        if token in self.modifiers:
            return self.modifiers[token]
        if token.endswith("n't") or token in _NT:
            return ("negator", NT_OWN)
        return None


@lru_cache(maxsize=8)
def lexicon(lang: str) -> Lexicon:
    """The lexicon of ``"pl"``, ``"en"`` or ``"und"`` (both)."""
    langs = ("pl", "en") if lang == "und" else (lang,)
    entries = [(t, float(s)) for lg in langs for t, s in _read(f"lexicon_{lg}.tsv")]
    mods = {fold(t): (k, float(v)) for lg, k, t, v in _read("modifiers.tsv") if lg in langs}
    return Lexicon(entries, mods)


def _fallback(lang: str) -> Lexicon | None:
    return {"pl": lexicon("en"), "en": lexicon("pl")}.get(lang)


def score_text(text: str, lang: str = "pl") -> Sentiment:
    """Sentiment of one text in ``lang`` ("pl", "en" or "und")."""
    lex = lexicon(lang)
    other = _fallback(lang)
    toks = tokens(text, boundaries=True)
    hits: list[tuple[int, Hit]] = []  # (token position, hit)
    neg_until = -1
    neg_by = ""
    neg_own: tuple[int, str, float] | None = None
    mult = 1.0
    mult_until = -1
    mult_by = ""
    mute_until = -1
    wish: tuple[int, Hit] | None = None
    concession = 1.0
    contrast_at = -1
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok == BOUNDARY:
            if neg_own is not None:
                hits.append((neg_own[0], Hit(neg_own[1], neg_own[2], concession)))
            neg_until = mult_until = mute_until = -1
            neg_own, concession, wish = None, 1.0, None
            i += 1
            continue
        phrase = lex.phrase_at(toks, i)
        if phrase is None:
            mod = lex.modifier(tok)
            if mod is not None:
                kind, value = mod
                if kind == "negator":
                    if i > neg_until:  # negative concord: a negator inside a window adds nothing
                        if neg_own is not None:
                            hits.append((neg_own[0], Hit(neg_own[1], neg_own[2], concession)))
                        neg_own = (i, tok, value) if value else None
                        neg_by = tok
                    neg_until = i + NEG_WINDOW
                elif kind in ("intensifier", "diminisher"):
                    mult, mult_until, mult_by = value, i + 2, tok
                elif kind == "contrast":
                    contrast_at = len(hits)
                elif kind == "concession":
                    concession = value
                elif kind == "wish":
                    wish = (i, Hit(tok, value, concession, "wish"))
                    mute_until = i + NEG_WINDOW
                elif kind == "stop":
                    neg_until = min(neg_until, i)
                i += 1
                continue
        if phrase is not None:
            n, term, base = phrase
        else:
            found = lex.lookup(tok)
            if found is None and other is not None and len(tok) >= 4:
                found = other.lookup(tok)
            if found is None:
                i += 1
                continue
            n, (term, base) = 1, found
        weight, rules = concession, []
        if i <= mute_until:
            weight, rules = 0.0, ["muted by wish"]
            if wish is not None:
                hits.append(wish)
                wish = None
        if i <= mult_until:
            weight *= mult
            rules.append(f"×{mult:g} {mult_by}")
        if i <= neg_until and not (phrase is not None and lex.modifier(tok) is not None):
            # a phrase that starts with its own negator ("nikt nie odpowiada") is not flipped
            flip = NEG_POS if base > 0 else NEG_NEG
            weight *= flip
            rules.append(f"×{flip:g} {neg_by}")
            neg_own, neg_until = None, -1  # a negator flips one sentiment word
        hits.append((i, Hit(term, base, weight, " ".join(rules))))
        i += n
    if neg_own is not None:
        hits.append((neg_own[0], Hit(neg_own[1], neg_own[2], concession)))
    ordered = [h for _, h in hits]
    if 0 <= contrast_at < len(ordered):
        ordered = ([_reweigh(h, CONTRAST_BEFORE, "before contrast") for h in ordered[:contrast_at]]
                   + [_reweigh(h, 2 - CONTRAST_BEFORE, "after contrast")
                      for h in ordered[contrast_at:]])
    total = sum(h.contribution for h in ordered)
    score = total / math.sqrt(total * total + ALPHA)
    return Sentiment(label_of(score), round(score, 4), tuple(ordered))


def _reweigh(hit: Hit, factor: float, why: str) -> Hit:
    rule = f"{hit.rule} ×{factor:g} {why}".strip()
    return Hit(hit.term, hit.base, hit.weight * factor, rule)
