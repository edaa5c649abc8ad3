"""Mentions, citations, positions, and brand names that are ordinary words."""

from __future__ import annotations

from pathlib import Path

import pytest

from touchlens.aivis import Brand, BrandMatcher, BrandSet

DATA = Path(__file__).parents[1] / "data" / "ai_answers"
ALLEGRO = BrandSet.load(DATA / "brands.yaml")
TELECOM = BrandSet.from_dict({
    "brand": {"name": "Orange", "domains": ["orange.pl"],
              "context": ["operator", "siec", "abonament", "zasieg", "5g", "telefon", "network",
                          "mobile", "carrier"],
              "exclude": ["orange juice", "sok z orange"]},
    "competitors": [{"name": "Play", "domains": ["play.pl"]}, {"name": "Plus"}],
})
FRUIT = BrandSet((Brand("Apple", domains=("apple.com",), exclude=("apple pie",),
                        is_target=True),))


def _mentioned(brands: BrandSet, answer: str, prompt: str = "", urls=None) -> dict[str, bool]:
    readings = BrandMatcher(brands).read(answer, urls or [], prompt)
    return {name: r.mentioned for name, r in readings.items()}


@pytest.mark.parametrize("answer, expected", [
    ("Kupisz je na Allegro, gdzie jest wiele ofert.", True),
    ("Na Allegrze znajdziesz tanie buty.", True),  # no context word, but capitalised mid-prose
    ("Allegro to szybkie, żywe tempo w muzyce klasycznej.", False),  # opens prose, no context
    ("Część pierwsza sonaty ma tempo allegro.", False),  # lower case, and excluded
    ("Zagraj to Allegro ma non troppo.", False),  # excluded pattern
    ("Allegro oferuje darmowe dostawy z programem Smart.", True),  # context word "dostaw"
    ("Allegro i Amazon to dwie największe platformy.", True),  # a tracked brand beside it
    ("Sprawdź allegro.pl", True),  # the domain written out
    ("Allegro to dobre miejsce.", True),  # cited below
])
def test_allegro_ambiguity(answer, expected):
    urls = ["https://allegro.pl/x"] if answer == "Allegro to dobre miejsce." else []
    assert _mentioned(ALLEGRO, answer, urls=urls)["Allegro"] is expected


def test_context_in_the_prompt_confirms_the_name():
    answer = "Allegro to dobry wybór."
    assert not _mentioned(ALLEGRO, answer)["Allegro"]
    assert _mentioned(ALLEGRO, answer, prompt="Gdzie kupić buty online?")["Allegro"]


@pytest.mark.parametrize("answer, expected", [
    ("Orange juice is rich in vitamin C.", False),
    ("Mix the orange with sugar.", False),
    ("Orange has the best 5G coverage in Warsaw.", True),
    ("Orange oferuje abonament bez limitu.", True),
    ("Najlepszy zasięg mają Orange i Play.", True),
    ("1. **Orange** – the largest network.", True),
    ("I like the colour Orange. It is warm.", False),  # no context in the sentence
])
def test_orange_the_operator_not_the_fruit(answer, expected):
    assert _mentioned(TELECOM, answer)["Orange"] is expected


def test_play_and_plus_are_words_too():
    got = _mentioned(TELECOM, "Let's play. Plus, it is fun.")
    assert not got["Play"] and not got["Plus"]
    got = _mentioned(TELECOM, "W sieci Play i Plus abonament jest tańszy.")
    assert got["Play"] and got["Plus"]


@pytest.mark.parametrize("answer, expected", [
    ("Apple pie is a classic dessert.", False),  # excluded
    ("An apple a day keeps the doctor away.", False),  # lower case
    ("Apple released a new iPhone this year.", False),  # opens prose, no other evidence
    ("The new iPhone from Apple is expensive.", True),  # mid-sentence capital, no context set
    ("- Apple: premium laptops", True),  # a markdown list item is not prose
])
def test_apple_without_context_words(answer, expected):
    assert _mentioned(FRUIT, answer)["Apple"] is expected


def test_temu_versus_polish_temu_meaning_ago():
    got = _mentioned(ALLEGRO, "Dwa lata temu kupiłem buty na Allegro.")
    assert not got["Temu"] and got["Allegro"]
    assert _mentioned(ALLEGRO, "Tanie buty kupisz też na Temu.")["Temu"]


def test_unambiguous_names_match_any_case():
    assert _mentioned(ALLEGRO, "decathlon ma dobre ceny.")["Decathlon"]


def test_citations_positions_and_urls():
    answer = ("Najwięcej ofert ma Amazon. Drugie jest Allegro, a trzeci Decathlon. "
              "Źródło: https://www.ceneo.pl/ranking-allegro-decathlon i www.decathlon.pl/buty")
    readings = BrandMatcher(ALLEGRO).read(answer, ["https://sklep.allegro.pl/a",
                                                   "https://temu.com/x"], "Gdzie kupić buty?")
    assert [readings[b].position for b in ("Amazon", "Allegro", "Decathlon", "Temu")] == [
        1, 2, 3, None]
    assert readings["Allegro"].cited and readings["Decathlon"].cited  # subdomain; in the text
    assert readings["Temu"].cited and not readings["Temu"].mentioned  # cited without a name
    assert not readings["Amazon"].cited
    assert len(readings["Allegro"].spans) == 1  # "ranking-allegro" inside a URL is not a mention
    assert readings["Decathlon"].sentences[0].startswith("Drugie jest Allegro")


def test_sentences_hold_the_brand():
    readings = BrandMatcher(ALLEGRO).read("Amazon jest drogi. Allegro jest tanie! Koniec.",
                                          [], "zakupy")
    assert readings["Allegro"].sentences == ["Allegro jest tanie!"]
    assert readings["Amazon"].sentences == ["Amazon jest drogi."]


def test_no_answer_text():
    readings = BrandMatcher(ALLEGRO).read("", None, None)
    assert not any(r.mentioned or r.cited for r in readings.values())
