"""``touchlens ingest``: load files into the workspace and summarise each one.

Every file is ingested on its own, so one unreadable file does not stop the others; the
command then exits with 3 (see :mod:`touchlens.cli.errors`).
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.errors import EXIT_DATA, report
from touchlens.cli.output import (
    Column,
    err_console,
    num,
    out_console,
    records,
    rich_table,
    write_json_line,
)
from touchlens.errors import SchemaError, UnreadableFileError
from touchlens.store.schema import KINDS

INGEST_COLUMNS = ("file", "rows_in", "stored", "quarantined", "duplicates")

Kind = StrEnum("Kind", {kind: kind for kind in KINDS})  # type: ignore[misc]


class InputFormat(StrEnum):
    """Input file formats; ``json`` is accepted as a synonym of ``--output json``."""

    csv = "csv"
    parquet = "parquet"
    jsonl = "jsonl"
    ga4 = "ga4"
    json = "json"


class IngestOutput(StrEnum):
    """Summary formats: a Rich table or one JSON object per file per line."""

    table = "table"
    json = "json"


def _summary_table(rows: list[dict[str, Any]]) -> Table:
    """Per-file counts, with a total line when there are several files."""
    columns = [
        Column("file", "file"), num("rows_in", "rows in"), num("stored", "stored"),
        num("quarantined", "quarantined"), num("duplicates", "duplicates"),
    ]
    table = rich_table(rows, columns, title="Ingested")
    if len(rows) > 1:
        total = {c: sum(r[c] or 0 for r in rows) for c in INGEST_COLUMNS[1:]}
        table.add_section()
        table.add_row("total", *(c.fmt(total[c.key]) for c in columns[1:]), style="bold")
    return table


def _output(fmt: InputFormat | None, output: IngestOutput | None) -> IngestOutput:
    """Resolve the summary format; ``--format json`` means ``--output json``."""
    if fmt is InputFormat.json:
        if output is IngestOutput.table:
            raise typer.BadParameter("--format json asks for JSON output; it contradicts "
                                     "--output table", param_hint="'--format'")
        return IngestOutput.json
    return output or IngestOutput.table


def ingest(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="Files to ingest (CSV, Parquet or JSON Lines).",
                                   show_default=False)
    ],
    kind: Annotated[
        Kind | None,
        typer.Option("--kind", "-k", help="What the files hold (required, except with "
                     "--format ga4: events).", show_default=False),
    ] = None,
    fmt: Annotated[
        InputFormat | None,
        typer.Option(
            "--format",
            help="Input format; default from each file's extension. 'ga4': a GA4 BigQuery "
            "export (Parquet or JSON Lines). 'json' is not an input format: it means "
            "--output json.",
            show_default=False,
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option("--mapping", exists=True, dir_okay=False,
                     help="YAML file renaming your columns to touchlens columns."),
    ] = None,
    output: Annotated[
        IngestOutput | None,
        typer.Option("--output", "-o",
                     help="Summary as a table, or as JSON Lines: one object per file "
                     "{file, rows_in, stored, quarantined, duplicates}.  [default: table]",
                     show_default=False),
    ] = None,
    db: DbOption = None,
) -> None:
    """Ingest files of one kind; bad rows are quarantined, re-ingested rows are duplicates.

    For each file: rows_in = stored + quarantined + duplicates. Exit code 3 when a file
    could not be read at all (the other files are still ingested).
    """
    summary = _output(fmt, output)
    if kind is None:
        if fmt is not InputFormat.ga4:
            raise typer.BadParameter("missing --kind (events, feedback, costs, ...)",
                                     param_hint="'--kind'")
        kind = Kind("events")
    input_format = None if fmt in (None, InputFormat.json) else fmt.value
    rows: list[dict[str, Any]] = []
    failed = 0
    with open_workspace(resolve_db(ctx, db), must_exist=False) as ws:
        for file in files:
            try:
                result = ws.ingest([file], kind.value, format=input_format, mapping=mapping)
            except (UnreadableFileError, SchemaError) as error:
                report(error, context=str(file))
                failed += 1
                continue
            for row in records(result, INGEST_COLUMNS):
                rows.append(row)
                if summary is IngestOutput.json:
                    write_json_line(row)
    if summary is IngestOutput.table and rows:
        out_console().print(_summary_table(rows))
    quarantined = sum(r["quarantined"] or 0 for r in rows)
    if quarantined:
        err_console().print(f"{quarantined:,} row(s) quarantined: see `touchlens quarantine`",
                            style="yellow", highlight=False)
    if failed:
        raise typer.Exit(EXIT_DATA)
