"""The ``touchlens`` command: one Typer app composing the command modules.

Touchlens errors are translated to messages and exit codes in one place
(:class:`touchlens.cli.errors.TranslatingGroup`).
"""

from __future__ import annotations

import typer

from touchlens.cli import demo, ingest, views
from touchlens.cli.deps import DbOption
from touchlens.cli.errors import TranslatingGroup

HELP = """Customer touchpoints: journeys, touchpoint metrics and feedback, from your event files.

Start with `touchlens demo`, then try `touchlens journeys`, `touchlens scorecard` or
`touchlens ingest FILE --kind events`. Results go to stdout (`--format json|csv` for machines);
messages and progress go to stderr. Exit codes: 0 ok, 1 other error, 2 usage, 3 unreadable data.
"""


def create_app() -> typer.Typer:
    """Build the Typer app (a factory, so tests and embedders get a fresh one)."""
    cli = typer.Typer(
        name="touchlens",
        help=HELP,
        cls=TranslatingGroup,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_show_locals=False,  # locals may hold customer data
        rich_markup_mode="markdown",
    )

    @cli.callback()
    def root(db: DbOption = None) -> None:
        """Global options (``--db`` may also follow each command)."""

    cli.command("demo")(demo.demo)
    cli.command("ingest")(ingest.ingest)
    cli.command("quarantine")(views.quarantine)
    cli.command("touchpoints")(views.touchpoints)
    cli.command("journeys")(views.journeys)
    cli.command("scorecard")(views.scorecard)
    return cli


app = create_app()


def main() -> None:
    """Console-script entry point (``touchlens = "touchlens.cli:main"``)."""
    app()
