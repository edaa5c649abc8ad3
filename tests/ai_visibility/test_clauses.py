"""Per-brand sentiment inside sentences naming several brands."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchlens.aivis import BrandMatcher, BrandSet
from touchlens.aivis.clauses import brand_part, clauses
from touchlens.aivis.mentions import answer_mentions

DATA = Path(__file__).parents[1] / "data" / "ai_answers"
ALLEGRO = BrandSet.load(DATA / "brands.yaml")


def _span(sentence: str, word: str) -> list[tuple[int, int]]:
    i = sentence.index(word)
    return [(i, i + len(word))]


@pytest.mark.parametrize("sentence, brand, other, expected", [
    ("Allegro is cheap, but Amazon delivers slowly.", "Allegro", "Amazon", "Allegro is cheap"),
    ("Allegro is cheap, but Amazon delivers slowly.", "Amazon", "Allegro",
     "Amazon delivers slowly."),
    ("Allegro ma niskie ceny, a Temu bywa zawodne.", "Temu", "Allegro", "Temu bywa zawodne."),
    ("Allegro ma niskie ceny, natomiast Temu bywa zawodne.", "Allegro", "Temu",
     "Allegro ma niskie ceny"),
    # a clause naming no brand belongs to the brand before it
    ("Allegro is cheap, delivery is fast; Amazon is pricey.", "Allegro", "Amazon",
     "Allegro is cheap delivery is fast"),
    # … or, at the start, to the first brand after it
    ("Although delivery is slow, Allegro is cheap, whereas Amazon is fast.", "Allegro",
     "Amazon", "Although delivery is slow Allegro is cheap"),
    # both brands in one clause: both get it
    ("Allegro and Amazon are both reliable.", "Amazon", "Allegro",
     "Allegro and Amazon are both reliable."),
])
def test_brand_part(sentence, brand, other, expected):
    assert brand_part(sentence, _span(sentence, brand), _span(sentence, other)) == expected


def test_one_brand_keeps_the_whole_sentence():
    s = "Allegro is cheap, but delivery can be slow."
    assert brand_part(s, _span(s, "Allegro"), []) == s


@given(st.text(max_size=200))
def test_clauses_cover_the_sentence_in_order(text):
    spans = clauses(text)
    assert all(0 <= s <= e <= len(text) for s, e in spans)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_each_brand_gets_the_tone_of_its_own_clause():
    answer = "Allegro oferuje świetne ceny i szybką dostawę, ale Amazon ma słabą obsługę klienta."
    readings = BrandMatcher(ALLEGRO).read(answer, [], "gdzie kupić elektronikę")
    names = [n for n, r in readings.items() if r.mentioned]
    assert "Allegro" in names and "Amazon" in names
    frame = answer_mentions(pd.DataFrame([{
        "answer_id": "a1", "collected_at": "2026-11-01", "assistant": "chatgpt",
        "prompt": "gdzie kupić elektronikę", "answer": answer, "language": "pl",
        "cited_urls": None, "topic": None, "market": None}]), ALLEGRO)
    tone = frame.set_index("brand").sentiment
    assert tone["Allegro"] > 0 > tone["Amazon"]
