"""Retention: raw rows older than a per-table period are removed; aggregates stay.

A policy maps a table to a period in days. It comes from, lowest priority first: the policy
stored in the workspace (``touchlens retention set events=730``, meta key
``retention_days``), ``Settings.retention_days``, then explicit arguments. Applying it deletes,
per table, the rows whose time column is before ``now - days``:

=============  ===================  =====================================================
table          time column          note
=============  ===================  =====================================================
events         occurred_at          raw events; the identity map is rebuilt afterwards
feedback       occurred_at          survey answers and verbatims
quarantine     quarantined_at       rejected raw rows
ingest_log     finished_at          per-file ingest records
consent        occurred_at          only *superseded* records: the latest per customer and
                                    purpose is kept, however old, so status never changes
                                    (at the same instant a denial outranks a grant)
=============  ===================  =====================================================

Derived and aggregate tables (costs, scorecards, monitoring aggregates, receipts) are not
touched; the audit log is append-only and refused.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError, StoreError
from touchlens.governance import audit
from touchlens.store import Store

TIME_COLUMNS = {"events": "occurred_at", "feedback": "occurred_at",
                "quarantine": "quarantined_at", "ingest_log": "finished_at",
                "consent": "occurred_at"}
POLICY_KEY = "retention_days"
REFUSED = ("audit_log", "erasure_receipts")
_CONSENT_KEY = ("id_type", "customer_id", "purpose", "occurred_at", "status")


def parse_policy(policy: dict[str, Any] | None) -> dict[str, float]:
    """Validate ``{table: days}``: known tables, positive numbers."""
    out: dict[str, float] = {}
    for table, days in (policy or {}).items():
        if table in REFUSED:
            raise ConfigError(f"{table} is append-only: retention does not apply to it")
        if table not in TIME_COLUMNS:
            raise ConfigError(f"no retention for table {table!r}; use one of "
                              f"{', '.join(TIME_COLUMNS)}")
        try:
            value = float(days)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"retention for {table} must be a number of days, not "
                              f"{days!r}") from exc
        if not value > 0:
            raise ConfigError(f"retention for {table} must be more than 0 days, not {days!r}")
        out[table] = value
    return out


def stored_policy(store: Store) -> dict[str, float]:
    text = store.get_meta(POLICY_KEY)
    return parse_policy(json.loads(text)) if text else {}


def set_policy(store: Store, policy: dict[str, Any], *, replace: bool = False) -> dict[str, float]:
    """Store periods in the workspace (merged into the stored policy unless ``replace``)."""
    merged = {} if replace else stored_policy(store)
    merged.update(parse_policy(policy))
    with store.transaction():
        store.set_meta(POLICY_KEY, json.dumps(merged, sort_keys=True))
        audit.record(store, "retention_policy", details={"days": merged})
    return merged


def effective_policy(store: Store, settings_policy: dict[str, Any] | None = None,
                     override: dict[str, Any] | None = None) -> dict[str, float]:
    """Stored policy < settings < explicit override."""
    policy = stored_policy(store)
    policy.update(parse_policy(settings_policy))
    policy.update(parse_policy(override))
    return policy


def _superseded(t: ir.Table) -> ir.Table:
    """Consent records that are not the latest for their (id, purpose)."""
    w = ibis.window(group_by=[t.id_type, t.customer_id, t.purpose],
                    order_by=[t.occurred_at.desc(), ibis.ifelse(t.status == "denied", 0, 1)])
    ranked = t.mutate(_rank=ibis.row_number().over(w))
    return ranked.filter(ranked._rank > 0).drop("_rank")


def _cutoff(now: datetime, days: float) -> datetime:
    return now - timedelta(days=days)


def apply_retention(store: Store, policy: dict[str, float], *, now: datetime | None = None,
                    dry_run: bool = False) -> pd.DataFrame:
    """Delete rows older than each period: one row per table (table, column, days, cutoff,
    rows_deleted)."""
    now = now or datetime.now(UTC)
    rows = []
    with store.transaction():
        for table, days in sorted(policy.items()):
            column, cutoff = TIME_COLUMNS[table], _cutoff(now, days)
            n = _apply_one(store, table, column, cutoff, dry_run=dry_run)
            rows.append({"table": table, "column": column, "days": days, "cutoff": cutoff,
                         "rows_deleted": n})
        if not dry_run:
            if any(r["table"] == "events" and r["rows_deleted"] for r in rows):
                store.set_meta("identity_map_stale", "1")
            audit.record(store, "retention", details={
                "as_of": now.isoformat(), **{r["table"]: {"days": r["days"], "rows_deleted":
                                                          r["rows_deleted"]} for r in rows}})
    return pd.DataFrame(rows, columns=["table", "column", "days", "cutoff", "rows_deleted"])


def _apply_one(store: Store, table: str, column: str, cutoff: datetime, *,
               dry_run: bool) -> int:
    t = store.table(table)
    if table == "consent":
        old = _superseded(t)
        old = old.filter(old[column] < cutoff)
        doomed = old.select(*_CONSENT_KEY)
    else:
        doomed = t.filter(t[column] < cutoff)
    n = int(store.execute(doomed.count().name("n").as_table()).iloc[0, 0])
    if not n or dry_run:
        return n
    if store.engine == "duckdb":
        newer = ("" if table != "consent" else
                 " AND EXISTS (SELECT 1 FROM consent n WHERE n.id_type IS NOT DISTINCT FROM "
                 "t.id_type AND n.customer_id = t.customer_id AND n.purpose = t.purpose "
                 "AND (n.occurred_at > t.occurred_at OR (n.occurred_at = t.occurred_at "
                 "AND n.status = 'denied' AND t.status <> 'denied')))")
        try:
            store.con.con.execute(f'DELETE FROM "{table}" t WHERE t."{column}" < ?{newer}',
                                  [cutoff])
        except Exception as exc:
            raise StoreError(f"retention on {table} failed: {exc}") from exc
    elif table == "consent":
        store.replace(table, t.anti_join(doomed, list(_CONSENT_KEY)))
    else:
        store.replace(table, t.filter(~(t[column] < cutoff).fill_null(False)))
    return n
