"""Polish case forms of brand names, as one regular expression per name.

Polish inflects names: "Allegro" is also "Allegra", "Allegru", "Allegrem", "na Allegrze",
"Allegro'wi"; "Biedronka" is "Biedronki", "Biedronce", "Biedronkę", "Biedronką"; "Orlen" is
"Orlenu", "Orlenem", "Orlenie". Rather than a dictionary, :func:`name_pattern` accepts, for the
last word of a name (earlier words stay as written, "Media Markt" → "Media Marktu"):

1. the word itself, optionally followed by an apostrophe and a case ending (foreign names:
   "Apple'a", "Allegro'wi", "Play'u") or by a bare ending ("Amazonu", "Orlenem");
2. the stem — the word without a final vowel — plus a case ending ("Allegra", "Biedronki");
3. the stem with its last consonant softened, plus ``e``/``ie`` (locative and dative:
   r → rz "Allegrze", k → c "Biedronce", g → dz, t → ci, d → dzi, n → ni "Orlenie",
   m → mi "Castoramie", ł → l …).

The forms are generated, so a few never occur in real text; they are harmless because whole
words must match. Stems shorter than 3 letters are not inflected. Matching is case-insensitive
here; :mod:`touchlens.aivis.matching` decides what capitalisation means.
"""

from __future__ import annotations

import re

ENDINGS = ("owi", "ami", "ach", "iem", "em", "om", "ów", "ie", "a", "u", "e", "y", "i", "ę",
           "ą", "o")
# after an apostrophe, vowel-final foreign names take shortened endings ("Allegro'wi",
# "Allegro'm"); "'s" is the English possessive
APOSTROPHE_ENDINGS = (*ENDINGS, "wi", "m", "go", "mu", "s")
VOWELS = "aeiouyąęó"
# hard consonant (cluster) → its soft form before the locative/dative -e
SOFTEN: tuple[tuple[str, str], ...] = (
    ("ch", "sz"), ("st", "ści"), ("sł", "śl"), ("zd", "ździ"), ("sn", "śni"), ("r", "rz"),
    ("k", "c"), ("g", "dz"), ("t", "ci"), ("d", "dzi"), ("ł", "l"), ("n", "ni"), ("s", "si"),
    ("z", "zi"), ("w", "wi"), ("m", "mi"), ("p", "pi"), ("b", "bi"), ("f", "fi"),
)
MIN_STEM = 3
_APOSTROPHE = "['’]"


def _alternatives(endings: tuple[str, ...]) -> str:
    return "(?:" + "|".join(re.escape(e) for e in sorted(endings, key=len, reverse=True)) + ")"


def word_forms(word: str) -> list[str]:
    """Regex alternatives for the case forms of one word (see the module docstring)."""
    ends = _alternatives(ENDINGS)
    after_apostrophe = _alternatives(APOSTROPHE_ENDINGS)
    forms = [re.escape(word) + f"(?:{_APOSTROPHE}{after_apostrophe}|{ends})?"]
    lower = word.lower()
    if not lower[-1:].isalpha():
        return forms
    stem = word[:-1] if lower[-1] in VOWELS else word
    if len(stem) < MIN_STEM:
        return forms
    if stem != word:
        forms.append(re.escape(stem) + ends)
    for hard, soft in SOFTEN:
        if stem.lower().endswith(hard):
            base = stem[: len(stem) - len(hard)]
            forms.append(re.escape(base) + re.escape(soft) + "(?:ie|e)")
            break
    return forms


def name_pattern(name: str) -> str:
    """Regex (no flags, no boundaries) matching ``name`` in any Polish case form."""
    words = name.split()
    if not words:
        raise ValueError("empty brand name")
    head = r"\s+".join(re.escape(w) for w in words[:-1])
    tail = "(?:" + "|".join(word_forms(words[-1])) + ")"
    return (head + r"\s+" + tail) if head else tail


def compile_names(names: list[str]) -> re.Pattern[str]:
    """One case-insensitive pattern for several names, matching whole words only."""
    unique = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    alternatives = [name_pattern(n) for n in unique]  # longer names first: "Allegro Smart"
    return re.compile(r"(?<![\w@])(?:" + "|".join(alternatives) + r")(?!\w)",
                      re.IGNORECASE)
