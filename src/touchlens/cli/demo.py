"""``touchlens demo``: simulate a retailer, ingest it, and show what touchlens sees."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.output import err_console, out_console, single_currency
from touchlens.cli.views import scorecard_table, top_paths_table, touchpoints_table
from touchlens.config import default_db_path
from touchlens.errors import ConfigError, TouchlensError

DEMO_SOURCE = "demo:"
INGESTED_KINDS = ("events", "feedback", "costs", "identities", "consent")
T = TypeVar("T")


def _is_demo(path: Path) -> bool:
    """True when every file ingested into the workspace at ``path`` came from ``touchlens demo``."""
    try:
        with open_workspace(path) as ws:
            sources = ws.ingest_log()["file"]
    except TouchlensError:
        return False  # not a workspace we can read: treat it as the user's
    return len(sources) > 0 and bool(sources.astype(str).str.startswith(DEMO_SOURCE).all())


def _prepare(path: Path, fresh: bool | None) -> str:
    """Clear ``path`` when allowed; returns what was done (for the log)."""
    if not path.exists():
        return f"new workspace {path}"
    if fresh is False:
        return f"adding to existing workspace {path} (--keep)"
    if fresh is None and not _is_demo(path):
        raise ConfigError(
            f"{path} holds data that did not come from `touchlens demo`: pass --fresh to "
            "replace it, --keep to add the demo to it, or --db to choose another file"
        )
    for file in (path, path.with_name(path.name + ".wal")):
        file.unlink(missing_ok=True)
    return f"replaced {path}"


def _next_steps(path: Path) -> list[str]:
    db = "" if path == default_db_path() else f" --db {path}"
    return [
        f"touchlens serve{db}    # the dashboard in your browser",
        f"touchlens journeys --converting-only --level channel{db}",
        f"touchlens scorecard --format csv{db} > scorecard.csv",
        f"touchlens touchpoints --format json{db}",
        f"touchlens quarantine{db}",
        "touchlens ingest my_events.csv --kind events --db my.duckdb",
    ]


def _consent_line(status: pd.DataFrame) -> str:
    """Customers granting each purpose (latest record), e.g. for the demo's summary."""
    granted = status[status["status"] == "granted"].groupby("purpose")["customer_id"].nunique()
    n = status["customer_id"].nunique()
    parts = [f"{p} {int(granted.get(p, 0)):,}" for p in ("analytics", "personalization",
                                                          "marketing")]
    return (f"Consent granted (of {n:,} customers with a record): {', '.join(parts)}; "
            "segments and recommendations use only personalization consent.")


def _stored(result: pd.DataFrame) -> str:
    stored, quarantined = int(result["stored"].sum()), int(result["quarantined"].sum())
    return f"{stored:,} rows stored, {quarantined:,} quarantined"


@contextmanager
def _steps(console: Console, total: int) -> Iterator[Callable[..., Any]]:
    """A progress bar over ``total`` named steps; ``run(label, fn, describe)`` runs one step,
    logs ``✓ label: describe(result)`` and returns the result."""
    with Progress(SpinnerColumn(), TextColumn("{task.description:<18}"), BarColumn(),
                  MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
        task = progress.add_task("demo", total=total)

        def run(label: str, fn: Callable[[], T], describe: Callable[[T], str]) -> T:
            progress.update(task, description=label)
            result = fn()
            progress.console.print(f"[green]✓[/] {escape(label)}: {escape(describe(result))}",
                                   highlight=False)
            progress.advance(task)
            return result

        yield run


def demo(
    ctx: typer.Context,
    customers: Annotated[
        int, typer.Option("--customers", min=1, help="Number of simulated customers.")
    ] = 20_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same data).")] = 0,
    days: Annotated[int, typer.Option("--days", min=1, help="Days of history.")] = 90,
    db: DbOption = None,
    fresh: Annotated[
        bool | None,
        typer.Option(
            "--fresh/--keep",
            help="--fresh replaces whatever is at --db; --keep adds the demo to it. Default: "
            "create the file, or replace it if it came from an earlier demo (and refuse "
            "otherwise).",
            show_default=False,
        ),
    ] = None,
    serve: Annotated[
        bool | None,
        typer.Option(
            "--serve/--no-serve",
            help="End by serving the dashboard (prints a one-time link; Ctrl+C stops). "
            "Default: serve when run in a terminal, skip when output is piped or in scripts.",
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option("--port", min=1, max=65535,
                                      help="Dashboard port when serving.")] = 8765,
) -> None:
    """Simulate a retailer, ingest it into a workspace, print catalogue, journeys and
    scorecard, then serve the dashboard."""
    started = time.perf_counter()
    path = resolve_db(ctx, db)
    log = err_console()
    log.print(_prepare(path, fresh), style="dim", highlight=False)

    from touchlens.simulate import simulate_retailer  # imported late: keeps --help fast

    with open_workspace(path, must_exist=False) as ws, _steps(log, 3 + len(INGESTED_KINDS)) as run:
        world = run("simulate", lambda: simulate_retailer(customers, seed=seed, days=days),
                    lambda _: f"{customers:,} customers over {days} days (seed {seed})")
        for kind in INGESTED_KINDS:
            table = getattr(world, kind)
            run(f"ingest {kind}",
                partial(ws.ingest_arrow, table, kind, source=f"{DEMO_SOURCE}{kind}"), _stored)
        paths = run("build journeys", lambda: ws.top_paths(top=10, converting_only=True),
                    lambda p: f"top 10 paths cover {int(p['n_journeys'].sum()):,} journeys")
        catalogue, scorecard = run("score touchpoints", lambda: (ws.touchpoints(), ws.scorecard()),
                                   lambda r: f"{len(r[1]):,} touchpoints scored")
        stats = ws.stats()
        consent = ws.consent_status()
    # the simulated events tell the currency; the aggregated results carry none
    currency = single_currency(world.events.column("currency").unique().to_pylist())

    out = out_console()
    out.print(touchpoints_table(catalogue))
    out.print(top_paths_table(paths, currency=currency, title="Top 10 converting journeys"))
    out.print(scorecard_table(scorecard, currency=currency))
    out.print(
        f"Workspace [bold]{escape(str(path))}[/]: {stats['customers']:,} customers, "
        f"{stats['events']:,} events, {stats['feedback']:,} feedback responses, "
        f"{stats['quarantined']:,} quarantined rows.",
        highlight=False,
    )
    out.print(_consent_line(consent), highlight=False)
    out.print("\n[bold]Next steps[/]")
    for command in _next_steps(path):
        out.print(f"  {command}", markup=False, highlight=False)
    out.print(f"\nDone in {time.perf_counter() - started:.1f} s.", highlight=False)
    if should_serve(serve, interactive=sys.stdout.isatty() and sys.stdin.isatty()):
        from touchlens.cli.serve import run_server

        run_server(path, port=port)


def should_serve(flag: bool | None, *, interactive: bool) -> bool:
    """``--serve``/``--no-serve`` when given; otherwise only in an interactive terminal, so
    scripts and CI running ``touchlens demo`` end instead of waiting on a server."""
    return interactive if flag is None else flag
