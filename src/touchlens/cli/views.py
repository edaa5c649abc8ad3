"""Read-only commands: quarantine, touchpoints, journeys (top paths), scorecard.

Each prints a Rich table, or with ``--format json|csv`` the stable columns listed in the
``*_COLUMNS`` tuples below (docs/cli.md) and nothing else on stdout.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table
from rich.text import Text

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.output import (
    MISSING,
    SMALL_N_NOTE,
    Column,
    OutputFormat,
    err_console,
    fmt_money,
    fmt_pct,
    fmt_text,
    fmt_timestamp,
    num,
    out_console,
    records,
    rich_table,
    score_with_n,
    small_n,
    write_csv,
    write_json,
)
from touchlens.store.schema import STAGES

QUARANTINE_COLUMNS = (
    "batch_id", "kind", "file", "row_number", "field", "reason", "raw", "quarantined_at",
)
TOUCHPOINT_COLUMNS = (
    "touchpoint", "channel", "stage", "medium", "control", "cost_type", "primary_metric",
    "description", "source", "reviewed", "n_events",
)
TOP_PATH_COLUMNS = ("path", "n_journeys", "n_conversions", "conversion_rate", "revenue")
SCORECARD_COLUMNS = (
    "touchpoint", "channel", "stage", "medium", "control", "cost_type", "reach", "touches",
    "impressions", "clicks", "ctr", "engagements", "engagement_rate", "open_rate", "journeys",
    "converting_journeys", "conversion_rate", "cost", "influenced_revenue",
    "cost_per_converting_journey", "csat", "csat_n", "nps", "nps_n", "ces", "ces_n",
)

FormatOption = Annotated[
    OutputFormat,
    typer.Option("--format", "-f", help="table (Rich), json (array of rows) or csv (with header)."),
]


class Level(StrEnum):
    """Granularity of a journey path."""

    touchpoint = "touchpoint"
    channel = "channel"


# ---------------------------------------------------------------- tables (shared with demo)


def _by_stage(df: pd.DataFrame) -> pd.DataFrame:
    """Rows ordered by funnel stage (awareness → advocacy, unknown last), keeping the
    Workspace's order within a stage."""
    order = {stage: i for i, stage in enumerate(STAGES)}
    rank = df["stage"].map(order).fillna(len(STAGES))
    return df.assign(_rank=rank).sort_values("_rank", kind="stable")


def touchpoints_table(df: pd.DataFrame) -> Table:
    """The touchpoint catalogue grouped by stage."""
    columns = [
        Column("touchpoint", "touchpoint"), Column("channel", "channel"),
        Column("stage", "stage"), Column("medium", "medium"), Column("control", "control"),
        Column("cost_type", "cost type"), Column("primary_metric", "primary metric"),
        num("n_events", "events"),
    ]
    rows = _by_stage(df).to_dict("records")
    return rich_table(rows, columns, title="Touchpoint catalogue", section_by="stage")



def top_paths_table(df: pd.DataFrame, *, currency: str | None, title: str) -> Table:
    """Most frequent journey paths with conversions and revenue."""
    columns = [
        Column("path", "path"), num("n_journeys", "journeys"),
        num("n_conversions", "conversions"), num("conversion_rate", "conv. rate", fmt_pct),
        num("revenue", "revenue", fmt_money(currency)),
    ]
    return rich_table(df.to_dict("records"), columns, title=title)


def _csat(value: Any) -> str:
    return f"{float(value):.1f}%"  # already in percent (0–100)


def _nps(value: Any) -> str:
    return f"{float(value):+.0f}"


def scorecard_table(df: pd.DataFrame, *, currency: str | None) -> Table:
    """One row per touchpoint: reach, rates, money and survey scores with their n."""
    money = fmt_money(currency)
    columns = [
        Column("touchpoint", "touchpoint"), Column("channel", "channel"),
        num("reach", "reach"), num("touches", "touches"), num("ctr", "CTR", fmt_pct),
        num("conversion_rate", "conv. rate", fmt_pct), num("cost", "cost", money),
        num("influenced_revenue", "infl. revenue", money),
        num("csat", "CSAT (n)"), num("nps", "NPS (n)"),
    ]

    def cells(row: dict[str, Any]) -> dict[str, Text | str]:
        return {
            "CSAT (n)": score_with_n(row.get("csat"), row.get("csat_n"), _csat),
            "NPS (n)": score_with_n(row.get("nps"), row.get("nps_n"), _nps),
        }

    rows = _by_stage(df).to_dict("records")
    flagged = any(small_n(r.get("csat_n")) or small_n(r.get("nps_n")) for r in rows)
    caption = (
        "infl. revenue = revenue of the converting journeys that contain the touchpoint "
        "(a reach view, not attribution); CSAT = share of 4–5 answers; NPS = % promoters − "
        f"% detractors; {MISSING} = no data."
    )
    if flagged:
        caption += "\n" + SMALL_N_NOTE
    return rich_table(rows, columns, title="Touchpoint scorecard", cells=cells,
                      section_by="stage", caption=caption)


def quarantine_table(df: pd.DataFrame) -> Table:
    """Kept bad rows with the reason they were rejected."""
    columns = [
        Column("file", "file"), num("row_number", "row"), Column("kind", "kind"),
        Column("field", "field"), Column("reason", "reason"),
        Column("raw", "raw", lambda v: _shorten(fmt_text(v), 60)),
        Column("quarantined_at", "quarantined", fmt_timestamp),
    ]
    return rich_table(df.to_dict("records"), columns, title="Quarantined rows")


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# ---------------------------------------------------------------- emitting


def emit(
    df: pd.DataFrame, columns: tuple[str, ...], fmt: OutputFormat, table: Callable[[], Table]
) -> None:
    """Write ``df`` as json/csv (exactly ``columns``) or print the Rich table ``table()``."""
    if fmt is OutputFormat.json:
        write_json(records(df, columns))
    elif fmt is OutputFormat.csv:
        write_csv(records(df, columns), columns)
    else:
        out_console().print(table())


# ---------------------------------------------------------------- commands


def quarantine(
    ctx: typer.Context,
    fmt: FormatOption = OutputFormat.table,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=0, help="Show at most N rows (0 = all).")
    ] = 100,
    db: DbOption = None,
) -> None:
    """Show the bad rows kept aside at ingest, with file, row number, field and reason."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.quarantine()
    total = len(df)
    if limit and total > limit:
        df = df.head(limit)
        err_console().print(f"showing {limit:,} of {total:,} quarantined rows (--limit 0 for all)",
                            style="yellow", highlight=False)
    emit(df, QUARANTINE_COLUMNS, fmt, lambda: quarantine_table(df))


def touchpoints(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
                db: DbOption = None) -> None:
    """Show the touchpoint catalogue: taxonomy (stage, medium, control, cost type) and events."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.touchpoints()
    emit(df, TOUCHPOINT_COLUMNS, fmt, lambda: touchpoints_table(df))


def journeys(
    ctx: typer.Context,
    top: Annotated[int, typer.Option("--top", min=1, help="Number of paths.")] = 10,
    converting_only: Annotated[
        bool, typer.Option("--converting-only", help="Only journeys that end in a conversion.")
    ] = False,
    level: Annotated[
        Level, typer.Option("--level", help="Path of touchpoints or of channels.")
    ] = Level.touchpoint,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
    export_paths: Annotated[Path | None, typer.Option(
        "--export-paths", dir_okay=False, help="Also write every journey path to FILE.csv in "
        "the ChannelAttribution format (path, total_conversions, total_conversion_value, "
        "total_null; docs/attribution.md).")] = None,
) -> None:
    """Show the most frequent journey paths with conversions, conversion rate and revenue."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.top_paths(top=top, converting_only=converting_only, level=level.value)
        if export_paths is not None:
            from touchlens.attribution import write_paths

            table = ws.attribution_paths(level=level.value)
            write_paths(table, export_paths)
            err_console().print(f"wrote {len(table):,} paths to {export_paths}", style="dim",
                                highlight=False)
    kind = "converting journeys" if converting_only else "journeys"
    title = f"Top {top} {kind} ({level.value} paths)"
    emit(df, TOP_PATH_COLUMNS, fmt, lambda: top_paths_table(df, currency=None, title=title))


def scorecard(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
              db: DbOption = None) -> None:
    """Show the touchpoint scorecard: reach, CTR, conversion rate, cost, ROAS, CSAT, NPS."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.scorecard()
    emit(df, SCORECARD_COLUMNS, fmt, lambda: scorecard_table(df, currency=None))
