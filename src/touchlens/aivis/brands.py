"""The brand dictionary: your brand and its competitors, with aliases, domains and context.

YAML (``--brands brands.yaml``)::

    brand:
      name: Allegro
      aliases: [Allegro.pl, Allegro Smart]     # an alias that looks like a domain is a domain
      domains: [allegro.pl]
      context: [zakup, sklep, kupi, marketplace, sprzedaw, ofert]   # word stems, see below
      exclude: ["tempo allegro", "allegro (ma non troppo|moderato|vivace|assai)"]
      ambiguous: true                          # default: auto (see COMMON_WORDS)
    competitors:
      - {name: Amazon, domains: [amazon.pl, amazon.com]}
      - {name: Temu, domains: [temu.com]}

- ``aliases``: other names; each is matched in its Polish case forms like the name.
- ``domains``: a URL on one of them (or a subdomain) is a citation; the domain written in the
  answer ("allegro.pl") is a mention that needs no context.
- ``context``: words that confirm an ambiguous name (a token that starts with a context word
  matches, so ``zakup`` covers "zakupy", "zakupów"; a phrase with spaces must appear as is).
- ``exclude``: regular expressions (case-insensitive); a name occurrence overlapping a match is
  not the brand ("tempo allegro", "orange juice", "apple pie").
- ``ambiguous``: the name is also an ordinary word; see :mod:`touchlens.aivis.matching` for
  what such a name needs to count. Left out, it is true for names in :data:`COMMON_WORDS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from touchlens.errors import ConfigError

# brand names that are also ordinary words (English and Polish): ambiguous unless told otherwise
COMMON_WORDS = frozenset({
    "apple", "orange", "allegro", "play", "plus", "shell", "target", "next", "gap", "jaguar",
    "puma", "mango", "action", "sky", "nest", "square", "corona", "dove", "subway", "visa",
    "oracle", "chase", "temu", "biedronka", "żabka", "zabka", "lotos", "kruk", "media",
    "signal", "slack", "zoom", "snap",
})
_DOMAIN = re.compile(r"^(?:https?://)?(?:www\.)?([a-z0-9-]+(?:\.[a-z0-9-]+)+)/?$", re.IGNORECASE)
_KEYS = {"name", "aliases", "domains", "context", "exclude", "ambiguous"}


def as_domain(text: str) -> str | None:
    """``"https://www.Allegro.pl/"`` → ``"allegro.pl"``; None when it is not a bare domain."""
    match = _DOMAIN.match(text.strip())
    return match.group(1).lower() if match else None


@dataclass(frozen=True)
class Brand:
    """One brand of the dictionary (see the module docstring for each field)."""

    name: str
    aliases: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    context: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    ambiguous: bool | None = None
    is_target: bool = False

    @property
    def names(self) -> list[str]:
        """The name and the aliases that are not domains."""
        return [n for n in (self.name, *self.aliases) if as_domain(n) is None or " " in n]

    @property
    def all_domains(self) -> list[str]:
        """Domains given plus aliases that are domains, lower case, without ``www.``."""
        found = [as_domain(d) or d.lower() for d in self.domains]
        found += [d for d in (as_domain(a) for a in self.aliases) if d]
        return list(dict.fromkeys(found))

    @property
    def is_ambiguous(self) -> bool:
        if self.ambiguous is not None:
            return self.ambiguous
        return any(n.lower() in COMMON_WORDS for n in self.names)


def _strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        raise ConfigError(f"{what}: expected a list of strings, got {value!r}")
    return tuple(str(v).strip() for v in value if str(v).strip())


def brand_from_dict(spec: Mapping[str, Any] | str, *, is_target: bool) -> Brand:
    """A :class:`Brand` from a YAML entry (a mapping or just the name)."""
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, Mapping) or not str(spec.get("name") or "").strip():
        raise ConfigError(f"a brand needs a name, got {spec!r}")
    unknown = set(spec) - _KEYS
    name = str(spec["name"]).strip()
    if unknown:
        raise ConfigError(f"brand {name}: unknown keys {sorted(unknown)}; use {sorted(_KEYS)}")
    ambiguous = spec.get("ambiguous")
    if ambiguous is not None and not isinstance(ambiguous, bool):
        raise ConfigError(f"brand {name}: ambiguous must be true or false")
    brand = Brand(name, _strings(spec.get("aliases"), f"{name}.aliases"),
                  _strings(spec.get("domains"), f"{name}.domains"),
                  _strings(spec.get("context"), f"{name}.context"),
                  _strings(spec.get("exclude"), f"{name}.exclude"), ambiguous, is_target)
    for pattern in brand.exclude:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"brand {name}: exclude pattern {pattern!r}: {exc}") from exc
    return brand


@dataclass(frozen=True)
class BrandSet:
    """The target brand first, then its competitors; names are unique (case-insensitive)."""

    brands: tuple[Brand, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not self.brands:
            raise ConfigError("no brand given: use --brand NAME or --brands brands.yaml")
        seen: set[str] = set()
        for b in self.brands:
            if b.name.lower() in seen:
                raise ConfigError(f"brand {b.name!r} is listed twice")
            seen.add(b.name.lower())

    def __iter__(self):
        return iter(self.brands)

    def __len__(self) -> int:
        return len(self.brands)

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> BrandSet:
        """From the YAML structure ``{brand: ..., competitors: [...]}``."""
        if not isinstance(spec, Mapping):
            raise ConfigError("a brands file holds a mapping with 'brand' and 'competitors'")
        unknown = set(spec) - {"brand", "competitors"}
        if unknown:
            raise ConfigError(f"brands file: unknown keys {sorted(unknown)}; "
                              "use 'brand' and 'competitors'")
        target = [brand_from_dict(spec["brand"], is_target=True)] if spec.get("brand") else []
        rivals = spec.get("competitors") or []
        if not isinstance(rivals, list):
            raise ConfigError("brands file: 'competitors' must be a list")
        return cls(tuple(target + [brand_from_dict(c, is_target=False) for c in rivals]))

    @classmethod
    def load(cls, path: str | Path) -> BrandSet:
        """Read a brands YAML file."""
        path = Path(path)
        try:
            spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"brands file {path} not found") from exc
        except yaml.YAMLError as exc:
            raise ConfigError(f"brands file {path} is not valid YAML: {exc}") from exc
        return cls.from_dict(spec or {})

    @classmethod
    def build(cls, brand: str | None = None, *, aliases: Iterable[str] = (),
              domains: Iterable[str] = (), competitors: Iterable[str] = (),
              file: str | Path | None = None) -> BrandSet:
        """Combine a YAML file with command-line names: ``brand`` becomes (or extends) the
        target, ``competitors`` are added unless the file already lists them."""
        listed = list(cls.load(file).brands) if file else []
        if brand:
            extra = {"aliases": tuple(aliases), "domains": tuple(domains)}
            found = [b for b in listed if b.name.lower() == brand.lower()]
            if found:
                old = found[0]
                new = replace(old, aliases=old.aliases + extra["aliases"],
                              domains=old.domains + extra["domains"], is_target=True)
            else:
                new = Brand(brand.strip(), extra["aliases"], extra["domains"], is_target=True)
            listed = [new] + [replace(b, is_target=False) for b in listed if b is not
                              (found[0] if found else None)]
        elif aliases or domains:
            raise ConfigError("--alias and --domain describe --brand: give --brand NAME too")
        names = {b.name.lower() for b in listed}
        listed += [Brand(c.strip()) for c in competitors if c.strip().lower() not in names]
        return cls(tuple(listed))

    @classmethod
    def coerce(cls, value: BrandSet | Mapping[str, Any] | str | Path | Iterable[str]
               ) -> BrandSet:
        """A BrandSet from itself, a YAML path, its dict, or names (the first is the target)."""
        if isinstance(value, BrandSet):
            return value
        if isinstance(value, Mapping):
            return cls.from_dict(value)
        if isinstance(value, str | Path) and (Path(value).suffix in (".yaml", ".yml")):
            return cls.load(value)
        names = [value] if isinstance(value, str) else [str(v) for v in value]
        return cls.build(names[0] if names else None, competitors=names[1:])
