"""``touchlens attach``: read a folder of Parquet files in place, without copying it."""

from __future__ import annotations

from typing import Annotated

import typer

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.output import err_console


def attach(
    ctx: typer.Context,
    location: Annotated[str, typer.Argument(help="Folder, glob or URL of Parquet files "
                                            "(hive-partitioned folders are fine).")],
    kind: Annotated[str, typer.Option("--kind", "-k", help="events, feedback, costs or "
                                      "identities")] = "events",
    db: DbOption = None,
) -> None:
    """Attach Parquet files to a table: queries read them in place, nothing is copied.

    The files must use touchlens column names (missing columns read as empty). Rows that
    break the table's rules are counted and reported, not quarantined (the files are not
    touchlens's to change).
    """
    with open_workspace(resolve_db(ctx, db), must_exist=False) as ws:
        problems = ws.attach(location, kind)
    console = err_console()
    rows = problems.pop("rows", 0)
    console.print(f"attached {location} to {kind}: {rows:,} rows readable in place")
    for what, n in problems.items():
        if n:
            console.print(f"[yellow]{n:,} rows with {what.replace('_', ' ')}[/yellow]")
