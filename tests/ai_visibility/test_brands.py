"""The brand dictionary: YAML, command-line names, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from touchlens import ConfigError
from touchlens.aivis import Brand, BrandSet
from touchlens.aivis.brands import as_domain

DATA = Path(__file__).parents[1] / "data" / "ai_answers"


def test_yaml_file():
    brands = BrandSet.load(DATA / "brands.yaml")
    assert [b.name for b in brands] == ["Allegro", "Amazon", "Temu", "Decathlon"]
    allegro = brands.brands[0]
    assert allegro.is_target and allegro.is_ambiguous
    assert allegro.all_domains == ["allegro.pl"] and allegro.names == ["Allegro"]
    assert not brands.brands[3].is_ambiguous and brands.brands[2].is_ambiguous


def test_aliases_that_are_domains_are_domains():
    b = Brand("Allegro", aliases=("Allegro.pl", "Allegro Smart"), domains=("https://www.x.pl/",))
    assert b.names == ["Allegro", "Allegro Smart"]
    assert b.all_domains == ["x.pl", "allegro.pl"]
    assert as_domain("not a domain") is None


def test_command_line_names_extend_the_file():
    brands = BrandSet.build("Decathlon", aliases=["Decat"], domains=["decathlon.com"],
                            competitors=["Amazon", "Empik"], file=DATA / "brands.yaml")
    names = [b.name for b in brands]
    assert names == ["Decathlon", "Allegro", "Amazon", "Temu", "Empik"]
    target = brands.brands[0]
    assert target.is_target and target.all_domains == ["decathlon.pl", "decathlon.com"]
    assert not brands.brands[1].is_target


def test_coerce_names_and_dicts():
    assert [b.is_target for b in BrandSet.coerce(["A", "B"])] == [True, False]
    assert BrandSet.coerce({"brand": "A"}).brands[0].name == "A"
    assert len(BrandSet.coerce(DATA / "brands.yaml")) == 4


@pytest.mark.parametrize("spec, message", [
    ({}, "no brand"),
    ({"brand": {"name": "A", "colour": "red"}}, "unknown keys"),
    ({"brand": {"name": "A", "exclude": ["("]}}, "exclude pattern"),
    ({"brand": "A", "competitors": "B"}, "must be a list"),
    ({"brand": "A", "competitors": ["a"]}, "listed twice"),
    ({"brand": {"name": "A", "ambiguous": "yes"}}, "true or false"),
    ({"brand": {"aliases": ["x"]}}, "needs a name"),
    ({"brands": []}, "unknown keys"),
])
def test_bad_dictionaries(spec, message):
    with pytest.raises(ConfigError, match=message):
        BrandSet.from_dict(spec)


def test_alias_without_brand_and_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="--brand"):
        BrandSet.build(None, aliases=["x"], competitors=["B"])
    with pytest.raises(ConfigError, match="not found"):
        BrandSet.load(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("brand: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        BrandSet.load(bad)
