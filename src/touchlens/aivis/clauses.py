"""The part of a sentence that speaks about one brand, when the sentence names several.

"Allegro is cheap, but Amazon delivers slowly" holds a positive clause about Allegro and a
negative one about Amazon; scoring the whole sentence for both blurs them. Rule:

1. the sentence is cut into clauses at ``;``, a dash between spaces, commas, and contrast or
   clause words ("but", "whereas", "while", "however", "although", "ale", "lecz", "jednak",
   "natomiast", "zaś", "choć", "podczas gdy", and the Polish contrastive "a" after a comma);
2. a clause naming brands belongs to those brands; a clause naming none belongs to the brand
   of the nearest clause before it ("Allegro is cheap, and delivery is fast"), or, at the
   start of the sentence, to the first brand after it ("Although delivery is slow, Allegro…");
3. a brand's part is its clauses joined in order. A sentence naming one brand is its part.
"""

from __future__ import annotations

import re

_BOUNDARY = re.compile(
    r"\s*;\s*|\s+[–—-]\s+|,\s*(?:a|ale|lecz|jednak|natomiast|za[śs]|but|whereas|while|"
    r"however|although|though|yet)?\s+|\s+(?:ale|lecz|jednak|natomiast|za[śs]|podczas gdy|"
    r"cho[ćc]|but|whereas|while|however|although|though)\s+",
    re.IGNORECASE)

Span = tuple[int, int]


def clauses(sentence: str) -> list[Span]:
    """(start, end) of each clause of ``sentence`` (see the module docstring, rule 1)."""
    out, start = [], 0
    for m in _BOUNDARY.finditer(sentence):
        if m.start() > start:
            out.append((start, m.start()))
        start = m.end()
    if start < len(sentence):
        out.append((start, len(sentence)))
    return out or [(0, len(sentence))]


def brand_part(sentence: str, own: list[Span], others: list[Span]) -> str:
    """The clauses of ``sentence`` about the brand whose mentions are ``own`` (offsets in the
    sentence), when ``others`` (other brands' mentions) share the sentence."""
    if not others:
        return sentence.strip()
    parts = clauses(sentence)

    def holds(span: Span, mentions: list[Span]) -> bool:
        return any(span[0] <= s < span[1] for s, _ in mentions)

    owner: list[str | None] = ["own" if holds(p, own) else "other" if holds(p, others)
                               else None for p in parts]
    # clauses naming no brand: to the brand before them, else the first brand after them
    last = None
    for i, who in enumerate(owner):
        if who is None:
            owner[i] = last
        else:
            last = who
    nxt = None
    for i in range(len(owner) - 1, -1, -1):
        if owner[i] is None:
            owner[i] = nxt
        elif holds(parts[i], own) or holds(parts[i], others):
            nxt = owner[i]
    mine = [sentence[s:e].strip() for (s, e), who in zip(parts, owner, strict=True)
            if who == "own" or holds((s, e), own)]
    return " ".join(mine) if mine else sentence.strip()
