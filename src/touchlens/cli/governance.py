"""Governance commands: ``erase``, ``retention show|set|apply``, ``audit``, ``consent``.

Every command runs as actor ``cli`` in the audit log. ``--format json`` writes only the result
on stdout: ``erase`` one receipt object, the others an array of rows (columns below).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

import pandas as pd
import typer

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.errors import EXIT_ERROR
from touchlens.cli.output import (
    Column,
    OutputFormat,
    err_console,
    fmt_int,
    fmt_timestamp,
    num,
    out_console,
    plain,
    rich_table,
    write_json,
)
from touchlens.cli.views import FormatOption, emit
from touchlens.errors import ConfigError

RETENTION_COLUMNS = ("table", "column", "days", "cutoff", "rows_deleted")
AUDIT_COLUMNS = ("seq", "recorded_at", "actor", "action", "target", "details")
RECEIPT_COLUMNS = ("receipt_id", "erased_at", "subject_hash", "id_type", "actor",
                   "n_identifiers", "rows_deleted", "files")
CONSENT_COLUMNS = ("purpose", "granted", "denied")

retention_app = typer.Typer(help="Retention periods per table; apply them.", no_args_is_help=True)

PeriodsArg = Annotated[
    list[str] | None,
    typer.Argument(help="Periods as TABLE=DAYS, e.g. events=730 quarantine=90.",
                   show_default=False),
]


def _periods(items: list[str] | None) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        table, sep, days = item.partition("=")
        if not sep or not table.strip():
            raise ConfigError(f"expected TABLE=DAYS, got {item!r}")
        try:
            out[table.strip()] = float(days)
        except ValueError as exc:
            raise ConfigError(f"{item!r}: DAYS must be a number") from exc
    return out


# ---------------------------------------------------------------- erase


def erase(
    ctx: typer.Context,
    customer: Annotated[str | None, typer.Option("--customer", help="A customer id.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="An email address.")] = None,
    phone: Annotated[str | None, typer.Option("--phone", help="A phone number.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing.")
                       ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")
                   ] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Erase one person from every table and every file touchlens wrote, with a receipt.

    The person is found under all their linked identifiers (identity stitching). The receipt
    names them only by a salted hash. Exit code 1 if anything still matches afterwards.
    """
    if sum(v is not None for v in (customer, email, phone)) != 1:
        raise ConfigError("give exactly one of --customer, --email or --phone")
    if not dry_run and not yes:
        typer.confirm("Erase this person everywhere? This cannot be undone", abort=True,
                      err=True)
    with open_workspace(resolve_db(ctx, db)) as ws:
        receipt = ws.erase(customer=customer, email=email, phone=phone, dry_run=dry_run)
    if fmt is OutputFormat.json:
        write_json(plain(receipt.as_dict()))  # type: ignore[arg-type]
    else:
        rows = [{"table": t, "rows": n} for t, n in sorted(receipt.rows_deleted.items()) if n]
        title = "Would erase" if dry_run else f"Erased (receipt {receipt.receipt_id})"
        out_console().print(rich_table(rows, [Column("table", "table"), num("rows", "rows")],
                                       title=title))
        log = err_console()
        log.print(f"{receipt.total_rows:,} row(s) under {receipt.n_identifiers} identifier(s) "
                  f"of {receipt.n_customers} customer id(s)", highlight=False)
        for path, outcome in sorted(receipt.files.items()):
            log.print(f"file {path}: {outcome}", highlight=False, markup=False)
    if receipt.n_customers > 1:
        err_console().print(f"note: identity stitching linked {receipt.n_customers} customer "
                            "ids; all of them were included", style="yellow", highlight=False)
    if receipt.files_needing_action:
        err_console().print(f"{len(receipt.files_needing_action)} file(s) need action by hand "
                            "(listed above)", style="yellow", highlight=False)
    if receipt.remaining:
        err_console().print(f"error: identifiers still found in {receipt.remaining}",
                            style="bold red", highlight=False)
        raise typer.Exit(EXIT_ERROR)


# ---------------------------------------------------------------- retention


@retention_app.command("show")
def retention_show(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
                   db: DbOption = None) -> None:
    """The effective retention policy (stored, then settings)."""
    from touchlens.governance import retention as R

    with open_workspace(resolve_db(ctx, db)) as ws:
        policy = R.effective_policy(ws.store, ws.settings.retention_days)
    df = pd.DataFrame([{"table": t, "column": R.TIME_COLUMNS[t], "days": d}
                       for t, d in sorted(policy.items())], columns=["table", "column", "days"])
    emit(df, ("table", "column", "days"), fmt, lambda: rich_table(
        df.to_dict("records"), [Column("table", "table"), Column("column", "time column"),
                                num("days", "days", lambda v: f"{v:g}")],
        title="Retention", caption=None if len(df) else "no periods set"))


@retention_app.command("set")
def retention_set(
    ctx: typer.Context,
    periods: PeriodsArg = None,
    replace: Annotated[bool, typer.Option("--replace", help="Forget periods not given.")
                       ] = False,
    db: DbOption = None,
) -> None:
    """Store retention periods in the workspace (TABLE=DAYS ...)."""
    from touchlens.governance import retention as R

    with open_workspace(resolve_db(ctx, db)) as ws:
        policy = R.set_policy(ws.store, _periods(periods), replace=replace)
    err_console().print("retention: " + (", ".join(f"{t}={d:g} days" for t, d in
                                                  sorted(policy.items())) or "none"),
                        highlight=False)


@retention_app.command("apply")
def retention_apply(
    ctx: typer.Context,
    periods: PeriodsArg = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only; change nothing.")
                       ] = False,
    now: Annotated[datetime | None, typer.Option(
        "--now", help="Reference time (ISO, UTC); default: now.")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Delete rows older than their table's period (stored < settings < TABLE=DAYS given)."""
    when = None if now is None else pd.Timestamp(now, tz="UTC").to_pydatetime()  # naive: UTC
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.apply_retention(_periods(periods) or None, now=when, dry_run=dry_run)
    if df.empty:
        err_console().print("no retention periods: set some with `touchlens retention set "
                            "events=730` or pass TABLE=DAYS", style="yellow", highlight=False)
    title = "Retention (dry run)" if dry_run else "Retention applied"
    emit(df, RETENTION_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"),
        [Column("table", "table"), num("days", "days", lambda v: f"{v:g}"),
         Column("cutoff", "older than", fmt_timestamp),
         num("rows_deleted", "would delete" if dry_run else "deleted", fmt_int)],
        title=title))


# ---------------------------------------------------------------- audit, consent


def audit(
    ctx: typer.Context,
    action: Annotated[str | None, typer.Option("--action", help="Only this action.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, help="Last N (0 = all).")
                     ] = 50,
    verify: Annotated[bool, typer.Option("--verify", help="Check the hash chain.")] = False,
    receipts: Annotated[bool, typer.Option("--receipts", help="Show erasure receipts.")
                        ] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """The audit log: who (cli, python, key:ID) did what (ingest, erase, export, keys,
    retention) and when. Append-only; --verify checks that no entry was altered."""
    from touchlens.governance.audit import verify_chain

    with open_workspace(resolve_db(ctx, db)) as ws:
        if receipts:
            df = ws.erasure_receipts()
            emit(df, RECEIPT_COLUMNS, fmt, lambda: rich_table(
                df.to_dict("records"), [Column("receipt_id", "receipt"),
                                        Column("erased_at", "at", fmt_timestamp),
                                        Column("subject_hash", "subject (hashed)"),
                                        Column("actor", "actor"),
                                        Column("rows_deleted", "rows per table")],
                title="Erasure receipts"))
            return
        df = ws.audit_log(action=action, limit=limit or None)
        broken = verify_chain(ws.store) if verify else None
    emit(df, AUDIT_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), [num("seq", "#"), Column("recorded_at", "at", fmt_timestamp),
                                Column("actor", "actor"), Column("action", "action"),
                                Column("target", "target"), Column("details", "details")],
        title="Audit log"))
    if verify:
        if broken is None:
            err_console().print("audit chain intact", style="green", highlight=False)
        else:
            err_console().print(f"error: audit chain broken at entry {broken}",
                                style="bold red", highlight=False)
            raise typer.Exit(EXIT_ERROR)


def consent(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
            db: DbOption = None) -> None:
    """Customers per purpose whose latest consent is granted / denied."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        status = ws.consent_status()
    counts: dict[str, Any] = {p: {"purpose": p, "granted": 0, "denied": 0}
                              for p in ("analytics", "personalization", "marketing")}
    for (purpose, state), n in status.groupby(["purpose", "status"]).size().items():
        counts[purpose][state] = int(n)
    df = pd.DataFrame(list(counts.values()), columns=list(CONSENT_COLUMNS))
    emit(df, CONSENT_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), [Column("purpose", "purpose"), num("granted", "granted"),
                                num("denied", "denied")],
        title="Consent (latest per customer)",
        caption="Customers without a record count as "
                f"{json.dumps(ws.settings.consent_default)}"))


def register(cli: typer.Typer) -> None:
    """Add the governance commands to the root app."""
    cli.command("erase")(erase)
    cli.add_typer(retention_app, name="retention")
    cli.command("audit")(audit)
    cli.command("consent")(consent)
