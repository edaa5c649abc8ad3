"""Sentiment of the sentences about a brand, as a score in [−1, 1].

touchlens's voice-of-customer lexicon (:func:`touchlens.voc.sentiment.lexicon.score_text`:
Polish and English, negation, intensifiers) scores each sentence when it is installed. Without
it, a small fallback lexicon below is used: score = s / √(s² + 4) where s sums +1 per positive
and −1 per negative word (folded, prefix match), a negator ("nie", "not", "no", "bez") in the
two words before flipping the sign; the same normalisation as VADER (Hutto & Gilbert 2014).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

_POLISH = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
_WORD = re.compile(r"[a-z0-9']+")
POSITIVE = (
    "najlepsz", "najlepiej", "dobr", "swietn", "polec", "solidn", "zaufan", "niezawodn", "tani",
    "korzystn", "szybk", "wygodn", "bezpieczn", "popularn", "ulubion", "atrakcyjn", "rzetel",
    "best", "great", "good", "excellent", "reliable", "trusted", "recommend", "popular", "fast",
    "cheap", "affordable", "convenient", "secure", "wide", "leading", "strong", "easy",
)
NEGATIVE = (
    "najgorsz", "slab", "drozsz", "kosztown", "woln", "problem", "oszust", "reklamac", "opozni",
    "klopot", "niebezpieczn", "podrob", "skarg", "nieuczciw", "awari", "worst", "bad", "poor",
    "slow", "expensive", "scam", "complaint", "issue", "problem", "fake", "counterfeit",
    "unreliable", "risk", "delay", "limited", "lack", "weak", "criticis",
)
NEGATORS = frozenset({"nie", "bez", "brak", "not", "no", "never", "without", "isn't", "aren't",
                      "don't", "doesn't", "wasn't"})
ALPHA = 4.0


def _fold(text: str) -> str:
    return text.translate(_POLISH).lower()


def fallback_score(text: str) -> float:
    """The fallback lexicon's score of one sentence (see the module docstring)."""
    words = _WORD.findall(_fold(text))
    total = 0.0
    for i, word in enumerate(words):
        value = (1.0 if word.startswith(POSITIVE) else 0.0) - (
            1.0 if word.startswith(NEGATIVE) else 0.0)
        if value and any(w in NEGATORS for w in words[max(0, i - 2):i]):
            value = -value
        total += value
    return total / math.sqrt(total * total + ALPHA)


@lru_cache(maxsize=1)
def _voc_scorer() -> Callable[[str, str], float] | None:
    try:
        from touchlens.voc.sentiment.lexicon import score_text
    except ImportError:
        return None
    return lambda text, lang: float(score_text(text, lang).score)


def sentence_sentiment(text: str, language: str | None = None) -> float:
    """Score in [−1, 1] of one sentence; ``language`` "pl"/"en" (else both lexicons)."""
    lang = language if language in ("pl", "en") else "und"
    scorer = _voc_scorer()
    return scorer(text, lang) if scorer else fallback_score(text)


def scorer_name() -> str:
    """Which scorer runs: ``"voc"`` or ``"fallback"`` (reported with the results)."""
    return "voc" if _voc_scorer() else "fallback"
