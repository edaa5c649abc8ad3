"""Personal data never reaches the store in clear: emails and phones become salted hashes.

hash = sha256(salt ‖ ":" ‖ normalised value), hex. Normalisation: emails are trimmed and
lower-cased; phones keep their digits only (a leading ``+`` dropped; Polish 9-digit numbers
get the ``48`` prefix) so "+48 600-100-200" and "600100200" hash alike.
"""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

PII_COLUMNS = ("email", "e_mail", "mail", "phone", "phone_number", "telefon", "msisdn")
HASH_PREFIX = "h:"
_EMAIL = re.compile(r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$")
_NON_DIGIT = re.compile(r"\D+")


def normalise_email(value: str) -> str:
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    digits = _NON_DIGIT.sub("", value)
    if len(digits) == 9:
        digits = "48" + digits
    return digits


def pii_hash(value: str, salt: str, kind: str) -> str:
    """The stored form of an email (``kind="email"``) or phone number."""
    norm = normalise_email(value) if kind == "email" else normalise_phone(value)
    return HASH_PREFIX + hashlib.sha256(f"{salt}:{norm}".encode()).hexdigest()


def looks_like_email(value: object) -> bool:
    return isinstance(value, str) and bool(_EMAIL.match(value.strip()))


def pii_kind(column: str) -> str | None:
    """``"email"``/``"phone"`` when a column name holds that kind of personal data."""
    name = column.lower()
    if name in ("email", "e_mail", "mail"):
        return "email"
    if name in ("phone", "phone_number", "telefon", "msisdn"):
        return "phone"
    return None


def hash_series(values: pd.Series, salt: str, kind: str) -> pd.Series:
    """Hash every non-empty value; values already hashed stay as they are."""

    def one(v: object) -> object:
        if v is None or (isinstance(v, float) and pd.isna(v)) or str(v).strip() == "":
            return None
        s = str(v)
        return s if s.startswith(HASH_PREFIX) else pii_hash(s, salt, kind)

    return pd.Series([one(v) for v in values.tolist()], index=values.index, dtype=object)


def hash_email_ids(values: pd.Series, salt: str) -> pd.Series:
    """Customer/anonymous ids that are email addresses are hashed like emails."""
    arr = pa.array(values, type=pa.string(), from_pandas=True)
    hits = pc.fill_null(pc.match_substring_regex(arr, _EMAIL.pattern), False)
    if not pc.any(hits).as_py():
        return values
    out = values.copy()
    mask = hits.to_numpy(zero_copy_only=False)
    out[mask] = [pii_hash(v, salt, "email") for v in values[mask]]
    return out


# -- personal data inside free text (verbatims, quarantined raw rows) ----------------------
# Emails; card-like numbers (13-19 digits, single spaces/dashes between groups); phone-like
# numbers (an optional "+", 9-15 digits with spaces, dashes or brackets between them).
# Dates and times do not match: "2024-03-01" has 8 digits and "10:15" is excluded.
_EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_CARD_IN_TEXT = re.compile(r"(?<![\w+:.,])\d(?:[ -]?\d){12,18}(?![\w:]|[.,]\d)")
_PHONE_IN_TEXT = re.compile(r"(?<![\w:.,])\+?\(?\d(?:[ ()-]{0,2}\d){8,14}(?![\w:]|[.,]\d)")
# "+" and a country code first, so a number followed by another one ("+48 600 100 200 2024")
# is not read as one long card-like number.
_INTL_PHONE_IN_TEXT = re.compile(r"(?<![\w:.,+])\+\d{1,3}(?:[ ()-]{0,2}\d){8,12}(?![\w:]|[.,]\d)")


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def luhn_valid(number: str) -> bool:
    """The Luhn checksum of the digits in ``number`` (payment card numbers pass it)."""
    digits = [int(ch) for ch in number if ch.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for i, d in enumerate(digits))
    return total % 10 == 0


def _replace_pii(text: str, email, card, phone, *, luhn: bool = False) -> str:
    """Apply the replacement callables to emails, international phone numbers, card-like
    numbers, then other phone-like numbers."""
    text = _EMAIL_IN_TEXT.sub(lambda m: email(m.group(0)), text)
    text = _INTL_PHONE_IN_TEXT.sub(lambda m: phone(m.group(0)), text)

    def one_card(m: re.Match) -> str:
        value = m.group(0)
        ok = 13 <= _digits(value) <= 19 and (not luhn or luhn_valid(value))
        return card(value) if ok else value

    text = _CARD_IN_TEXT.sub(one_card, text)
    return _PHONE_IN_TEXT.sub(
        lambda m: phone(m.group(0)) if 9 <= _digits(m.group(0)) <= 15 else m.group(0), text)


def mask_text(text: str | None, *, email: str = "[email]", phone: str = "[phone]",
              card: str = "[card]") -> str | None:
    """``text`` with emails, card-like and phone-like numbers replaced by placeholders.

    For verbatims shown in the dashboard, reports and VoC tables. Over-masking a long number
    (an order number of 13+ digits) is accepted: the masks err on the side of privacy.
    """
    if text is None or not isinstance(text, str):
        return text
    return _replace_pii(text, lambda _: email, lambda _: card, lambda _: phone)


def mask_series(values: pd.Series) -> pd.Series:
    """:func:`mask_text` over a column (non-strings and missing values are kept)."""
    return pd.Series([mask_text(v) if isinstance(v, str) else v for v in values.tolist()],
                     index=values.index, dtype=object)


def hash_pii_text(text: str, salt: str, *, phones: bool = True) -> str:
    """``text`` with emails (and phone-like numbers) replaced by their stored hash and
    Luhn-valid card-like numbers masked. Used on quarantined raw rows, so they hold no contact
    data in clear yet remain findable by :mod:`touchlens.store.erase`."""
    return _replace_pii(text, lambda v: pii_hash(v, salt, "email"), lambda _: "[card]",
                        (lambda v: pii_hash(v, salt, "phone")) if phones else (lambda v: v),
                        luhn=True)


def pii_hashes_in_text(text: str, salt: str) -> set[str]:
    """The stored hashes of every email and phone-like number written in clear in ``text``."""
    found = {pii_hash(m.group(0), salt, "email") for m in _EMAIL_IN_TEXT.finditer(text)}
    found |= {pii_hash(m.group(0), salt, "phone") for m in _INTL_PHONE_IN_TEXT.finditer(text)}
    rest = _INTL_PHONE_IN_TEXT.sub(" ", text)
    found |= {pii_hash(m.group(0), salt, "phone") for m in _PHONE_IN_TEXT.finditer(rest)
              if 9 <= _digits(m.group(0)) <= 15}
    return found
