"""What every command needs: the workspace path (``--db``) and an open Workspace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from touchlens.config import default_db_path
from touchlens.errors import ConfigError

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

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


@contextmanager
def open_workspace(path: Path, *, must_exist: bool = True) -> Iterator[Workspace]:
    """Open the workspace at ``path``; reading commands refuse to create an empty one."""
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

