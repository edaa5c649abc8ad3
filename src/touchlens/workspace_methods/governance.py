"""Privacy and governance: consent, erasure, retention, audit log, written files
(touchlens.governance; docs/privacy.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


class GovernanceMethods:
    """Workspace methods; mixed into :class:`touchlens.Workspace`."""

    def consent_filter(self, purpose: str) -> Any:
        """A :class:`touchlens.governance.ConsentFilter` for ``purpose`` (analytics,
        personalization, marketing): ``keep(table)``, ``apply(table) -> (kept, n_excluded)``,
        ``filter_frame(df)``, ``note(n)``. Personalising analyses must use it."""
        from touchlens.governance.consent import consent_filter

        self.refresh()
        return consent_filter(self.store, self.store.table("identity_map"), purpose,
                              default=self.settings.consent_default)

    def consent_status(self) -> pd.DataFrame:
        """Latest consent per customer and purpose: customer_id, purpose, status, occurred_at."""
        from touchlens.governance.consent import consent_status

        self.refresh()
        expr = consent_status(self.store.table("consent"), self.store.table("identity_map"))
        return self.store.execute(expr.order_by(["customer_id", "purpose"]))

    def erase(self, *, customer: str | None = None, email: str | None = None,
              phone: str | None = None, dry_run: bool = False) -> Any:
        """Erase one person from every table and registered file; returns the
        :class:`touchlens.governance.ErasureReceipt` (also stored, without the id in clear)."""
        from touchlens.governance.erasure import erase

        return erase(self.store, customer=customer, email=email, phone=phone, dry_run=dry_run)

    def erasure_receipts(self) -> pd.DataFrame:
        """Stored receipts: receipt_id, erased_at, subject_hash, id_type, actor,
        n_identifiers, rows_deleted (JSON), files (JSON)."""
        from touchlens.governance.receipts import receipts

        return receipts(self.store)

    def apply_retention(self, days: dict[str, float] | None = None, *, now: Any = None,
                        dry_run: bool = False) -> pd.DataFrame:
        """Delete rows older than the retention periods (stored policy < settings < ``days``):
        one row per table (table, column, days, cutoff, rows_deleted)."""
        from touchlens.governance import retention as R

        policy = R.effective_policy(self.store, self.settings.retention_days, days)
        return R.apply_retention(self.store, policy, now=now, dry_run=dry_run)

    def audit(self, action: str, target: str = "", details: dict | None = None) -> int:
        """Append an audit entry (e.g. ``key_create``) by the current actor; returns its seq.
        Never put a personal identifier in ``target``/``details``."""
        from touchlens.governance.audit import record

        return record(self.store, action, target, details)

    def audit_log(self, *, action: str | None = None, limit: int | None = None
                  ) -> pd.DataFrame:
        """Audit entries, oldest first: seq, recorded_at, actor, action, target, details,
        prev_hash, hash."""
        from touchlens.governance.audit import audit_log

        return audit_log(self.store, action=action, limit=limit)

    def register_written_file(self, path: str | Path, kind: str = "export") -> None:
        """Faces call this for every file they write with customer data (exports, reports),
        so :meth:`erase` can rewrite or list it."""
        from touchlens.governance.files import register_written_file

        register_written_file(self.store, path, kind)

    def _audit_ingest(self, result: Any) -> None:
        from touchlens.governance.audit import record

        record(self.store, "ingest", result.file, {
            "kind": result.kind, "batch_id": result.batch_id, "rows_in": result.rows_in,
            "stored": result.stored, "quarantined": result.quarantined,
            "duplicates": result.duplicates})
