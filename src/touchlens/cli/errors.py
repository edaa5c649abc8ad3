"""The one place where touchlens errors become messages and exit codes.

Exit codes::

    0  success
    1  another touchlens error (e.g. the storage backend failed or the file is locked)
    2  usage: bad option or argument, bad settings (ConfigError), no workspace at --db
    3  data: a file could not be read at all (UnreadableFileError) or lacks what its kind
       needs (SchemaError, MappingError)

Unexpected exceptions (bugs) are not translated: they propagate with their traceback.
"""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup

from touchlens.cli.output import err_console
from touchlens.errors import ConfigError, SchemaError, TouchlensError, UnreadableFileError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DATA = 3


def exit_code(error: TouchlensError) -> int:
    """The exit code of a touchlens error (see the module docstring)."""
    if isinstance(error, SchemaError | UnreadableFileError):
        return EXIT_DATA
    if isinstance(error, ConfigError):
        return EXIT_USAGE
    return EXIT_ERROR


def report(error: TouchlensError, *, context: str | None = None) -> int:
    """Print ``error`` in red on stderr, naming ``context`` (e.g. the file) unless the message
    already does; return its exit code."""
    prefix = f"{context}: " if context and context not in str(error) else ""
    err_console().print(f"error: {prefix}{error}", style="bold red", markup=False,
                        highlight=False, soft_wrap=True)
    return exit_code(error)


class TranslatingGroup(TyperGroup):
    """Typer group that turns a :class:`TouchlensError` raised by any command into an exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TouchlensError as error:
            raise typer.Exit(report(error)) from error
