"""The ``touchlens`` command: one Typer app composing the command modules.

Touchlens errors are translated to messages and exit codes in one place
(:class:`touchlens.cli.errors.TranslatingGroup`).
"""

from __future__ import annotations

import typer

from touchlens.cli import (
    ai_visibility,
    attach,
    attribution,
    demo,
    governance,
    ingest,
    insights,
    loyalty,
    monitoring,
    serve,
    views,
    voc,
)
from touchlens.cli.deps import DbOption, EngineOption, MasterOption
from touchlens.cli.errors import TranslatingGroup
from touchlens.governance.actor import acting_as

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
    def root(ctx: typer.Context, db: DbOption = None, engine: EngineOption = None,
             spark_master: MasterOption = None) -> None:
        """Global options (``--db`` may also follow each command)."""
        ctx.with_resource(acting_as("cli"))  # the audit log names the CLI as the actor

    cli.command("demo")(demo.demo)
    cli.command("ingest")(ingest.ingest)
    cli.command("attach")(attach.attach)
    cli.command("quarantine")(views.quarantine)
    cli.command("touchpoints")(views.touchpoints)
    cli.command("journeys")(views.journeys)
    cli.command("scorecard")(views.scorecard)
    cli.command("attribution")(attribution.attribution)  # docs/attribution.md
    cli.command("ai-visibility")(ai_visibility.ai_visibility)  # docs/ai_visibility.md
    loyalty.register(cli)  # rfm, cohorts, churn, clv, loyalty drivers, segments, recommend
    insights.register(cli)  # funnel, flows, journey-map, moments, fix-first … (docs/insights.md)
    cli.command("serve")(serve.serve)  # the web face: API, collector, dashboard
    cli.add_typer(serve.keys_app, name="keys")
    cli.command("report")(serve.report)
    governance.register(cli)  # erase, retention show|set|apply, audit, consent
    monitoring.register(cli)  # alerts, watch, abtest, experiment … (docs/monitoring.md)
    voc.register(cli)  # voc scores|changes|sentiment|analyze|topics|pain-points (docs/voc.md)
    return cli


app = create_app()


def main() -> None:
    """Console-script entry point (``touchlens = "touchlens.cli:main"``)."""
    app()
