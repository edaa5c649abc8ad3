"""Text normalisation shared by language detection, sentiment and topics.

- :func:`fold`: lower case, Polish letters without diacritics (ą→a, ł→l, ż→z …) and other
  combining marks removed, so "Kurier się spóźnił" and "kurier sie spoznil" match alike.
- :func:`tokens`: words (letters, digits, apostrophes) and emoji, in order, of the folded text.
- :func:`clauses`: the text split at sentence punctuation, so negation and contrast stay inside
  one clause.
- :func:`pseudonymise`: e-mails, phone/order numbers and URLs masked in verbatims.
"""

from __future__ import annotations

import re
import unicodedata

MAX_CHARS = 5_000  # longer texts are cut here: one review, not a book

_POLISH = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ’‘`", "acelnoszzACELNOSZZ'''")
_TOKEN = re.compile(
    r"[a-z0-9]+(?:'[a-z]+)?"
    r"|[\U0001F300-\U0001FAFF\u2600-\u27BF]"  # pictographs, dingbats, hearts
    r"|[:;]-?[()dp]"  # ascii smileys
    r"|[.!?;,\n]+|\s[-–—]\s",  # clause boundaries (see BOUNDARY)
)
BOUNDARY = "|"
_CLAUSE = re.compile(r"[.!?;\n]+|,|\s[-–—]\s")
_EMAIL = re.compile(r"\b[^@\s]+@[^@\s]+\.[a-z]{2,}\b", re.IGNORECASE)
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w])(?:\+?\d[\d\s-]{6,}\d)(?![\w])")
_ID = re.compile(r"\b(?=[a-z]*\d)[a-z0-9]{2,}[-/]?\d{4,}\b", re.IGNORECASE)


def fold(text: str) -> str:
    """Lower-cased text without diacritics: "Spóźnił SIĘ" → "spoznil sie"."""
    text = text.translate(_POLISH).lower()
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def tokens(text: str, *, boundaries: bool = False) -> list[str]:
    """Folded word and emoji tokens: "Nie polecam!!! 👎" → ["nie", "polecam", "👎"]; with
    ``boundaries`` each run of clause punctuation becomes one :data:`BOUNDARY` token."""
    found = _TOKEN.findall(fold(text))
    if boundaries:
        return [BOUNDARY if t[0] in ".!?;,\n -–—" else t for t in found]
    return [t for t in found if t[0] not in ".!?;,\n -–—"]


def clauses(text: str) -> list[str]:
    """Non-empty pieces of ``text`` between sentence punctuation and commas."""
    return [c.strip() for c in _CLAUSE.split(text) if c and c.strip()]


def clean(text: object) -> str | None:
    """A usable text or None: non-strings, empty and whitespace-only values are None; broken
    surrogates are replaced; very long texts are cut at :data:`MAX_CHARS`."""
    if not isinstance(text, str):
        return None
    text = text.encode("utf-8", "replace").decode("utf-8").strip()
    if not text:
        return None
    return text[:MAX_CHARS]


def pseudonymise(text: str) -> str:
    """Mask personal details in a verbatim: e-mail → <email>, URL → <url>, long numbers
    (phones, order ids) → <number>."""
    text = _EMAIL.sub("<email>", text)
    text = _URL.sub("<url>", text)
    text = _ID.sub("<number>", text)
    return _NUMBER.sub("<number>", text)
