"""Erasure receipts: proof that a person was erased, without the person's identifier.

Grain: one row per erasure (``erasure_receipts``). ``subject_hash`` =
``"s:" + sha256(salt ‖ ":erasure:" ‖ id_type ‖ ":" ‖ stored id)`` (hex): whoever holds the
identifier and the workspace can check that it was erased (:func:`subject_hash`); the receipt
alone does not reveal it. Row counts per table and the outcome per written file are JSON.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime

import pandas as pd
import pyarrow as pa

from touchlens.store import Store
from touchlens.store import schema as S


def subject_hash(salt: str, id_type: str, stored_value: str) -> str:
    """The salted hash a receipt names its subject by."""
    digest = hashlib.sha256(f"{salt}:erasure:{id_type}:{stored_value}".encode()).hexdigest()
    return "s:" + digest


@dataclass
class ErasureReceipt:
    """What an erasure did (or, with ``dry_run``, would do)."""

    receipt_id: str
    erased_at: datetime
    subject_hash: str
    id_type: str
    actor: str
    n_identifiers: int  # identifiers the person was found under
    n_customers: int  # distinct customer ids among them (>1: stitching merged several)
    rows_deleted: dict[str, int] = field(default_factory=dict)  # table -> rows
    files: dict[str, str] = field(default_factory=dict)  # path -> outcome
    remaining: dict[str, int] = field(default_factory=dict)  # table -> rows still matching
    dry_run: bool = False

    @property
    def total_rows(self) -> int:
        return sum(self.rows_deleted.values())

    @property
    def files_needing_action(self) -> dict[str, str]:
        """Files touchlens could not clean itself (unreachable, unverifiable)."""
        return {p: o for p, o in self.files.items()
                if o.startswith(("unreachable", "unverified", "would be unreachable"))}

    def tables(self) -> pd.DataFrame:
        """One row per table: table, rows_deleted (or rows that would be deleted)."""
        return pd.DataFrame(sorted(self.rows_deleted.items()),
                            columns=["table", "rows_deleted"])

    def as_dict(self) -> dict:
        out = asdict(self)
        out["erased_at"] = pd.Timestamp(self.erased_at).isoformat()
        return out


def new_receipt_id() -> str:
    return uuid.uuid4().hex


def store_receipt(store: Store, receipt: ErasureReceipt) -> None:
    """Append the receipt (never the identifier) to ``erasure_receipts``."""
    store.append("erasure_receipts", pa.table({
        "receipt_id": [receipt.receipt_id], "erased_at": [receipt.erased_at],
        "subject_hash": [receipt.subject_hash], "id_type": [receipt.id_type],
        "actor": [receipt.actor], "n_identifiers": [receipt.n_identifiers],
        "rows_deleted": [json.dumps(receipt.rows_deleted, sort_keys=True)],
        "files": [json.dumps(receipt.files, sort_keys=True, ensure_ascii=False)],
    }, schema=S.ERASURE_RECEIPTS))


def receipts(store: Store) -> pd.DataFrame:
    """All receipts, oldest first (columns of the ``erasure_receipts`` table)."""
    t = store.table("erasure_receipts")
    return store.execute(t.order_by("erased_at"))
