"""Sentence sentiment: the VoC scorer when present, the documented fallback otherwise."""

from __future__ import annotations

import pytest

from touchlens.aivis.tone import fallback_score, scorer_name, sentence_sentiment


@pytest.mark.parametrize("text, sign", [
    ("Allegro to najlepszy wybór, szybka dostawa.", 1),
    ("Amazon is reliable and popular.", 1),
    ("Temu has many complaints and quality issues.", -1),
    ("Allegro nie jest dobre.", -1),  # negation flips
    ("Sprzedawcy na Allegro bywają nieuczciwi i są problemy z podróbkami.", -1),
    ("Allegro ma siedzibę w Poznaniu.", 0),
    ("Ceny od 10 zł.", 0),
])
def test_fallback_lexicon(text, sign):
    score = fallback_score(text)
    assert -1 < score < 1
    assert (score > 0) - (score < 0) == sign


@pytest.mark.parametrize("text, lang, positive", [
    ("Allegro to najlepszy wybór, świetne ceny.", "pl", True),
    ("Temu has faced complaints about product quality.", "en", False),
])
def test_sentence_sentiment_sign(text, lang, positive):
    assert scorer_name() in ("voc", "fallback")
    assert (sentence_sentiment(text, lang) > 0) is positive
    assert -1 <= sentence_sentiment(text, None) <= 1
