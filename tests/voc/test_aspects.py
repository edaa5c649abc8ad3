"""Topics (aspects): keyword rules in Polish and English, extension by YAML."""

from __future__ import annotations

import pytest

from touchlens.errors import ConfigError
from touchlens.voc.aspects import topic_rules

TOPICS = ("delivery", "returns", "price", "staff", "product_quality", "website", "app",
          "payment", "availability", "communication")


def test_builtin_topics_and_touchpoints() -> None:
    rules = topic_rules()
    assert rules.topics == TOPICS
    assert "delivery_courier" in rules.touchpoints["delivery"]
    assert "support_chat" in rules.touchpoints["communication"]


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("Kurier się spóźnił", "pl", {"delivery"}),
    ("kuriera nie bylo, paczki brak", "pl", {"delivery"}),
    ("Zwrot pieniędzy trwa trzy tygodnie", "pl", {"returns"}),
    ("Za drogo, w innych sklepach taniej.", "pl", {"price"}),
    ("Obsługa była niemiła", "pl", {"staff"}),
    ("Aplikacja się zawiesza przy płatności BLIK", "pl", {"app", "payment"}),
    ("aplikacja sie zawiesza przy platnosci blik", "pl", {"app", "payment"}),
    ("Strona długo się ładuje", "pl", {"website"}),
    ("Konsultant nie odpowiada na maile", "pl", {"communication"}),
    ("The courier was late", "en", {"delivery"}),
    ("The refund took weeks", "en", {"returns"}),
    ("Too expensive", "en", {"price"}),
    ("Rude staff", "en", {"staff"}),
    ("The app keeps crashing", "en", {"app"}),
    ("My card payment was declined", "en", {"payment"}),
    ("Out of stock again", "en", {"availability"}),
    ("Poor quality fabric", "en", {"product_quality"}),
    ("The website search does not work", "en", {"website"}),
    ("Nobody answers emails", "en", {"communication"}),
    ("Dziękuję", "pl", set()),
])
def test_topic_detection(text: str, lang: str, expected: set[str]) -> None:
    assert set(topic_rules().topics_of(text, lang)) == expected


def test_aspect_sentiment_follows_the_clause() -> None:
    aspects = {a.topic: a.label for a in topic_rules().aspects(
        "Szybka dostawa, ale aplikacja ciągle się zawiesza.", "pl")}
    assert aspects == {"delivery": "positive", "app": "negative"}


def test_user_yaml_extends_topics(tmp_path) -> None:
    extra = tmp_path / "topics.yaml"
    extra.write_text("loyalty:\n  touchpoints: [loyalty_programme]\n  pl: [punkt*, karta "
                     "stalego klienta]\n  en: [points, loyalty]\ndelivery:\n  en: [van]\n",
                     encoding="utf-8")
    rules = topic_rules(extra)
    assert rules.topics[-1] == "loyalty"
    assert rules.topics_of("Punkty przepadły", "pl") == ["loyalty"]
    assert rules.topics_of("The van never came", "en") == ["delivery"]
    assert "delivery_courier" in rules.touchpoints["delivery"]


def test_bad_yaml_is_a_config_error(tmp_path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        topic_rules(bad)
