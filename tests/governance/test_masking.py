"""Masking of verbatims, and no contact data in clear in the quarantine."""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens import Workspace
from touchlens.io.pii import hash_pii_text, luhn_valid, mask_series, mask_text, pii_hash


def test_masks_emails_phones_and_cards_but_not_dates_or_amounts():
    text = ("Napiszcie na jan.kowalski+x@wp.pl albo dzwońcie +48 600-100-200 / (22) 555 12 34. "
            "Karta 4111 1111 1111 1111, zamówienie 123456 z 2024-03-01 10:15 za 1 234,50 zł.")
    assert mask_text(text) == (
        "Napiszcie na [email] albo dzwońcie [phone] / [phone]. "
        "Karta [card], zamówienie 123456 z 2024-03-01 10:15 za 1 234,50 zł.")
    assert mask_text(None) is None
    assert list(mask_series(pd.Series(["a@b.pl", None, 5]))) == ["[email]", None, 5]


def test_luhn():
    assert luhn_valid("4111 1111 1111 1111") and not luhn_valid("4111 1111 1111 1112")


_local = st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True)
_domain = st.from_regex(r"[a-z][a-z0-9]{1,8}\.(pl|com|eu)", fullmatch=True)
_emails = st.builds(lambda a, b: f"{a}@{b}", _local, _domain)
_phones = st.builds(lambda d, sep: "+48 " + sep.join([d[:3], d[3:6], d[6:]]),
                    st.from_regex(r"[1-9][0-9]{8}", fullmatch=True), st.sampled_from([" ", "-"]))
_words = st.lists(st.sampled_from(["dostawa", "super", "nie", "polecam", "ok,", "2024-03-01",
                                   "12,50", "zł", "zamówienie", "10:15", "#123"]), max_size=6)


@settings(max_examples=60, deadline=None)
@given(_words, st.one_of(_emails, _phones), _words)
def test_any_embedded_contact_is_masked(before, contact, after):
    text = " ".join([*before, contact, *after])
    masked = mask_text(text)
    assert contact not in masked
    assert ("[email]" if "@" in contact else "[phone]") in masked
    digits = "".join(ch for ch in contact if ch.isdigit())
    assert "@" in contact or digits not in "".join(ch for ch in masked if ch.isdigit())


def test_hash_pii_text_uses_the_stored_hash():
    out = hash_pii_text('["c1", "Jan@X.pl", "600 100 200", "4111111111111111"]', "salt")
    assert pii_hash("jan@x.pl", "salt", "email") in out
    assert pii_hash("600100200", "salt", "phone") in out
    assert "[card]" in out and "Jan@X.pl" not in out


def test_quarantine_never_holds_an_email_or_phone_in_clear(tmp_path):
    p = tmp_path / "ev.csv"
    p.write_text("event_id,occurred_at,customer_id,channel,event_type,phone\n"
                 "x1,yesterday,jan@x.pl,web,visit,600100200\n"  # bad timestamp
                 "x2,2026-01-01,ann@x.pl,web\n"  # too few fields: raw kept as a list
                 "x3,2026-01-01,+48 601 100 200,web,visit,,,extra\n", encoding="utf-8")
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest(p, "events")
        raw = " ".join(ws.quarantine().raw)
        salt = ws.store.get_meta("pii_salt")
    for clear in ("jan@x.pl", "ann@x.pl", "600100200", "601 100 200"):
        assert clear not in raw
    assert pii_hash("jan@x.pl", salt, "email") in raw
    assert pii_hash("+48 601 100 200", salt, "phone") in raw
