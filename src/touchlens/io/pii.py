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
