"""Polish case forms of brand names are matched as whole words."""

from __future__ import annotations

import pytest

from touchlens.aivis.inflect import compile_names, name_pattern


def _found(names: list[str], text: str) -> list[str]:
    return [m.group() for m in compile_names(names).finditer(text)]


@pytest.mark.parametrize("text", [
    "Allegro", "Allegra", "Allegru", "Allegrem", "na Allegrze", "Allegro'wi", "Allegro’wi",
    "Allegrowi", "ALLEGRO", "Allegro's",
])
def test_allegro_forms(text):
    assert _found(["Allegro"], text) == [text.split()[-1]]


@pytest.mark.parametrize("name, text", [
    ("Biedronka", "w Biedronce"), ("Biedronka", "do Biedronki"), ("Biedronka", "Biedronkę"),
    ("Biedronka", "z Biedronką"), ("Orlen", "na Orlenie"), ("Orlen", "z Orlenem"),
    ("Apple", "Apple'a"), ("Apple", "Apple'owi"), ("Castorama", "w Castoramie"),
    ("Empik", "z Empikiem"), ("Empik", "w Empiku"), ("Media Markt", "w Media Marktu"),
    ("Zalando", "na Zalandzie"),
])
def test_other_names_in_their_cases(name, text):
    assert _found([name], text), (name, text)


@pytest.mark.parametrize("name, text", [
    ("Allegro", "Allegrowy"), ("Allegro", "Allegretto"), ("Orlen", "Orlenka"),
    ("Empik", "Empiki2"), ("Temu", "Temat"), ("Allegro", "xAllegro"),
])
def test_only_whole_words(name, text):
    assert _found([name], text) == []


def test_several_names_longest_first():
    assert _found(["Allegro", "Allegro Smart"], "Allegro Smart i Allegro") == [
        "Allegro Smart", "Allegro"]


def test_empty_name_is_an_error():
    with pytest.raises(ValueError):
        name_pattern("  ")
