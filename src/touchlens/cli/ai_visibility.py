"""``touchlens ai-visibility``: how often AI assistants mention and cite your brand.

On a file of collected answers (JSONL or CSV; read into a throw-away in-memory workspace) or,
without FILE, on the answers stored in the workspace (``touchlens ingest FILE --kind
ai_answers``). ``--format json`` prints one array of rows with :data:`COLUMNS` (the ``--by``
key first); formulas in docs/ai_visibility.md.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.output import (
    Column,
    OutputFormat,
    err_console,
    fmt_pct,
    num,
    out_console,
    records,
    rich_table,
    write_csv,
    write_json,
)

COLUMNS = ("brand", "answers", "mention_rate", "citation_rate", "avg_position",
           "share_of_voice", "sentiment", "mention_rate_low", "mention_rate_high",
           "citation_rate_low", "citation_rate_high", "stability", "repeated_prompts")


class By(StrEnum):
    """Grouping of the AI visibility rows."""

    assistant = "assistant"
    topic = "topic"
    week = "week"
    market = "market"
    language = "language"


def _fmt_float(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):.2f}"


def _table(rows: list[dict[str, Any]], by: str | None) -> Any:
    columns = [Column(by, by)] if by else []
    columns += [
        Column("brand", "brand"), num("answers", "answers"),
        num("mention_rate", "mention rate", fmt_pct),
        num("citation_rate", "citation rate", fmt_pct),
        num("avg_position", "avg position", _fmt_float),
        num("share_of_voice", "share of voice", fmt_pct),
        num("sentiment", "sentiment", _fmt_float),
        num("stability", "stability", _fmt_float),
    ]
    return rich_table(rows, columns, title="AI visibility", section_by=by,
                      caption="mention and citation rates: share of answers; "
                              "stability: run-to-run agreement of repeated prompts")


def ai_visibility(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(help="Collected answers (JSONL or CSV). Without it: the answers "
                       "stored in the workspace.", exists=True, dir_okay=False,
                       show_default=False),
    ] = None,
    brand: Annotated[str | None, typer.Option("--brand", "-b", help="Your brand's name.",
                                              show_default=False)] = None,
    alias: Annotated[list[str] | None, typer.Option(
        "--alias", help="Another name of your brand (repeatable).", show_default=False)] = None,
    domain: Annotated[list[str] | None, typer.Option(
        "--domain", help="Your brand's web domain, e.g. allegro.pl (repeatable).",
        show_default=False)] = None,
    competitor: Annotated[list[str] | None, typer.Option(
        "--competitor", "-c", help="A competitor's name (repeatable).",
        show_default=False)] = None,
    brands: Annotated[Path | None, typer.Option(
        "--brands", exists=True, dir_okay=False,
        help="YAML brand dictionary (aliases, domains, context, exclude).")] = None,
    by: Annotated[By | None, typer.Option("--by", help="One row per brand and this key.",
                                          show_default=False)] = None,
    fmt: Annotated[OutputFormat, typer.Option(
        "--format", "-f", help="table (Rich), json (array of rows) or csv.")] =
        OutputFormat.table,
    alerts: Annotated[bool, typer.Option(
        "--alerts", help="Instead: week-on-week changes of mention/citation rates as alerts "
        "(stored in the workspace's alerts table; see `touchlens alerts`).")] = False,
    db: DbOption = None,
) -> None:
    """Mention rate, citation rate, position, share of voice and tone of your brand in AI
    assistants' answers, against competitors."""
    from touchlens.aivis import BrandSet

    brand_set = BrandSet.build(brand, aliases=alias or (), domains=domain or (),
                               competitors=competitor or (), file=brands)
    key = by.value if by else None
    if alerts:  # on a file: listed only; on the workspace: stored as alerts too
        frame = _on_answers(ctx, file, db, lambda ws: ws.ai_visibility_alerts(
            brand_set, store=file is None))
        _print_alerts(frame, fmt)
        return
    frame = _on_answers(ctx, file, db, lambda ws: ws.ai_visibility(brand_set, by=key))
    if frame.empty:
        err_console().print("no AI answers to analyse: ingest them with "
                            "`touchlens ingest FILE --kind ai_answers`", style="yellow")
    rows = records(frame, ([key] if key else []) + list(COLUMNS))
    if fmt is OutputFormat.json:
        write_json(rows)
    elif fmt is OutputFormat.csv:
        write_csv(rows, ([key] if key else []) + list(COLUMNS))
    else:
        out_console().print(_table(rows, key))


ALERT_COLUMNS = ("metric", "direction", "since", "observed", "expected", "z", "message")


def _on_answers(ctx: typer.Context, file: Path | None, db: Any,
                compute: Callable[[Any], Any]) -> Any:
    """``compute(ws)`` on the answers of ``file`` (read into an in-memory workspace) or, without
    a file, on the workspace's stored answers."""
    if file is None:
        with open_workspace(resolve_db(ctx, db)) as ws:
            return compute(ws)
    from touchlens.workspace import Workspace

    with Workspace.open(":memory:") as ws:
        result = ws.ingest([file], "ai_answers")
        _report_quarantine(ws, int(result.quarantined.sum()))
        return compute(ws)


def _print_alerts(frame: Any, fmt: OutputFormat) -> None:
    """Weekly visibility changes as JSON/CSV rows or one message per line."""
    rows = records(frame, list(ALERT_COLUMNS))
    if fmt is OutputFormat.json:
        write_json(rows)
    elif fmt is OutputFormat.csv:
        write_csv(rows, list(ALERT_COLUMNS))
    elif not rows:
        out_console().print("no week-on-week change in AI visibility")
    else:
        for row in rows:
            out_console().print(row["message"], markup=False, highlight=False)


def _report_quarantine(ws: Any, n: int) -> None:
    """A file read in memory has no quarantine to look at later: show the reasons now."""
    if not n:
        return
    console = err_console()
    console.print(f"{n:,} answer row(s) skipped:", style="yellow", highlight=False)
    for q in ws.quarantine().head(10).itertuples():
        console.print(f"  row {q.row_number}: {q.reason}", style="yellow", markup=False,
                      highlight=False)
