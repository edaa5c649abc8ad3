"""Erase one person everywhere: every table, every file touchlens wrote, with a receipt.

``erase(store, customer=... | email=... | phone=...)``:

1. the given identifier is put in its stored form (emails/phones: the salted hash; a customer
   id that is an email address: hashed like the ingest does) and resolved through the identity
   graph to all the person's identifiers (:func:`touchlens.store.erase.resolve`);
2. quarantined rows written before raw rows were hashed are searched for the person's email or
   phone in clear;
3. registered files are scrubbed (:mod:`touchlens.governance.files`);
4. in one transaction (DuckDB): the rows go from every table
   (:func:`touchlens.store.erase.erase_rows`), the identity map is marked stale, the receipt
   (:mod:`touchlens.governance.receipts`) and an ``erase`` audit entry are written;
5. every table is scanned again for every identifier; hits are reported in
   ``receipt.remaining`` (expected: none).

Erasing is idempotent: running it again finds nothing and deletes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from touchlens.errors import ConfigError
from touchlens.governance import audit
from touchlens.governance.actor import current_actor
from touchlens.governance.files import Matcher, scrub_file, written_files
from touchlens.governance.receipts import (
    ErasureReceipt,
    new_receipt_id,
    store_receipt,
    subject_hash,
)
from touchlens.io.pii import (
    looks_like_email,
    normalise_email,
    pii_hash,
    pii_hashes_in_text,
)
from touchlens.store import Store
from touchlens.store.erase import Identifiers, erase_rows, resolve, scan

_CLEAR_CANDIDATE = r"@|[0-9][0-9 ()-]{8,}"


def subject(salt: str, *, customer: str | None = None, email: str | None = None,
            phone: str | None = None) -> tuple[list[tuple[str, str]], list[str]]:
    """Start nodes ``[(id_type, stored value)]`` and clear forms to search raw text for."""
    given = [(k, v) for k, v in (("customer", customer), ("email", email), ("phone", phone))
             if v is not None]
    if len(given) != 1 or not str(given[0][1]).strip():
        raise ConfigError("erase needs exactly one of --customer, --email or --phone")
    kind, value = given[0][0], str(given[0][1]).strip()
    if kind == "customer":
        if looks_like_email(value):  # ingest stores such ids hashed (io.pii.hash_email_ids)
            hashed = pii_hash(value, salt, "email")
            return [("customer", hashed), ("email", hashed)], [normalise_email(value)]
        return [("customer", value)], []
    hashed = pii_hash(value, salt, kind)
    nodes = [(kind, hashed)] + ([("customer", hashed)] if kind == "email" else [])
    clear = [normalise_email(value)] if kind == "email" else [value]
    return nodes, clear


def _legacy_quarantine(store: Store, ids: Identifiers, clear: list[str], salt: str) -> set[str]:
    """Raw texts of quarantined rows holding the person's email/phone in clear."""
    q = store.table("quarantine")
    rows = store.execute(q.filter(q.raw.re_search(_CLEAR_CANDIDATE)).select("raw"))
    values = ids.values
    found = set()
    for raw in rows["raw"].dropna().unique():
        lowered = str(raw).lower()
        if pii_hashes_in_text(str(raw), salt) & values or any(c.lower() in lowered
                                                               for c in clear):
            found.add(str(raw))
    return found


def erase(store: Store, *, customer: str | None = None, email: str | None = None,
          phone: str | None = None, dry_run: bool = False, verify: bool = True,
          now: datetime | None = None) -> ErasureReceipt:
    """Erase the person (see module docstring); with ``dry_run`` only count."""
    salt = store.get_meta("pii_salt") or ""
    start, clear = subject(salt, customer=customer, email=email, phone=phone)
    ids = resolve(store, start)
    raw_hits = _legacy_quarantine(store, ids, clear, salt)
    matcher = Matcher(ids.values, clear)
    files = {p: scrub_file(p, matcher, dry_run=dry_run) for p in written_files(store)["path"]}
    receipt = ErasureReceipt(
        receipt_id=new_receipt_id(), erased_at=now or datetime.now(UTC),
        subject_hash=subject_hash(salt, *start[0]), id_type=start[0][0],
        actor=current_actor(), n_identifiers=len(ids.values), n_customers=ids.n_customers,
        files=files, dry_run=dry_run,
    )
    with store.transaction():
        receipt.rows_deleted = erase_rows(store, ids, quarantine_raw=raw_hits, dry_run=dry_run)
        if not dry_run:
            store.set_meta("identity_map_stale", "1")
            store_receipt(store, receipt)
            audit.record(store, "erase", target=receipt.receipt_id, details={
                "subject_hash": receipt.subject_hash, "id_type": receipt.id_type,
                "rows_deleted": receipt.total_rows,
                "files_needing_action": len(receipt.files_needing_action),
            }, at=receipt.erased_at)
    if verify and not dry_run:
        receipt.remaining = scan(store, ids)
    return receipt


def is_erased(store: Store, *, customer: str | None = None, email: str | None = None,
              phone: str | None = None) -> bool:
    """Whether a receipt names this identifier (checked by its salted hash)."""
    salt = store.get_meta("pii_salt") or ""
    start, _ = subject(salt, customer=customer, email=email, phone=phone)
    target = subject_hash(salt, *start[0])
    t = store.table("erasure_receipts")
    return bool(len(store.execute(t.filter(t.subject_hash == target).select("receipt_id"))))


__all__ = ["erase", "is_erased", "subject"]
