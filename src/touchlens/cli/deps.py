"""What every command needs: the workspace path (``--db``) and an open Workspace."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
import typer

from touchlens.config import default_db_path
from touchlens.errors import ConfigError

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

class Period(StrEnum):
    """Calendar periods the per-period commands split by (``--period``)."""

    week = "week"
    month = "month"
    quarter = "quarter"


DB_HELP = "Workspace file (DuckDB). Default: $TOUCHLENS_DB, else ./touchlens.duckdb."

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help=DB_HELP, dir_okay=False, show_default=False),
]


def resolve_db(ctx: typer.Context, db: Path | None) -> Path:
    """The workspace path: the command's ``--db``, else the global ``--db``, else the default."""
    if db is not None:
        return db
    root = ctx.find_root().params.get("db")
    return Path(root) if root is not None else default_db_path()


ENGINE_HELP = ("Engine: duckdb (embedded file, default) or spark (then --db is the Spark "
               "warehouse folder). Default: $TOUCHLENS_ENGINE, else duckdb.")
EngineOption = Annotated[
    str | None, typer.Option("--engine", help=ENGINE_HELP, show_default=False)]
MasterOption = Annotated[
    str | None, typer.Option("--spark-master", help="Spark master URL with --engine spark "
                             "(default local[2]; e.g. spark://host:7077).", show_default=False)]


def _engine() -> tuple[str, str]:
    """The engine and Spark master chosen on the command line or in the environment."""
    ctx = click.get_current_context(silent=True)
    params = ctx.find_root().params if ctx is not None else {}
    engine = params.get("engine") or os.environ.get("TOUCHLENS_ENGINE") or "duckdb"
    master = params.get("spark_master") or os.environ.get("TOUCHLENS_SPARK_MASTER") or "local[2]"
    if engine not in ("duckdb", "spark"):
        raise ConfigError(f"--engine must be duckdb or spark, not {engine!r}")
    return engine, master


@contextmanager
def open_workspace(path: Path, *, must_exist: bool = True) -> Iterator[Workspace]:
    """Open the workspace at ``path``; reading commands refuse to create an empty one.

    With ``--engine spark`` the path is the Spark warehouse folder and the session runs on
    ``--spark-master``.
    """
    engine, master = _engine()
    if engine == "spark":
        from touchlens.workspace import Workspace

        ws = Workspace.open_spark(master=master, warehouse=path)
        try:
            yield ws
        finally:
            ws.close()
        return
    if must_exist and not path.exists():
        raise ConfigError(
            f"no workspace at {path}: run `touchlens demo` or `touchlens ingest ...` first, "
            "or point --db / $TOUCHLENS_DB at an existing file"
        )
    from touchlens.workspace import Workspace  # imported late: keeps --help fast

    ws = Workspace.open(path)
    try:
        yield ws
    finally:
        ws.close()

