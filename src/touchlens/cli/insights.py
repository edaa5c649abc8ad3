"""Insights commands: ``funnel``, ``flows``, ``journey-map``, ``moments``, ``revenue-at-risk``,
``consistency``, ``handoffs`` and ``fix-first`` (alias ``insights``).

``--format json|csv`` writes the ``*_COLUMNS`` below and nothing else on stdout.
``journey-map --format json`` writes one object ``{"stages": [...], "touchpoints": [...],
"pain_points": [...], "gaps": [...], "moments": [...]}``; with ``--format csv`` it writes
the table named by ``--table`` (default ``touchpoints``). Formulas: docs/insights.md.
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from typing import Annotated

import pandas as pd
import typer

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.output import (
    Column,
    OutputFormat,
    err_console,
    fmt_money,
    fmt_pct,
    num,
    out_console,
    records,
    rich_table,
    write_csv,
)
from touchlens.cli.views import FormatOption, emit

FUNNEL_COLUMNS = ("step", "step_name", "n", "rate_from_previous", "rate_low", "rate_high",
                  "rate_from_first", "drop_off", "n_dropped", "median_hours", "p90_hours")
FLOW_COLUMNS = ("source_step", "source", "target_step", "target", "n_journeys", "share",
                "conversion_rate")
MOMENT_COLUMNS = ("touchpoint", "stage", "signal", "outcome", "n_bad", "n_good", "mean_bad",
                  "mean_good", "crude_gap", "gap", "gap_low", "gap_high", "p_value", "q_value",
                  "significant", "small_n", "moment_of_truth", "affected_customers", "method")
RISK_COLUMNS = ("touchpoint", "stage", "signal", "affected_customers", "lost_rate",
                "lost_rate_low", "lost_rate_high", "mean_value", "revenue_at_risk",
                "revenue_at_risk_low", "revenue_at_risk_high", "per_month", "per_month_low",
                "per_month_high", "significant", "currency", "estimate", "assumptions")
CONSISTENCY_COLUMNS = ("purpose", "channel", "n_channels", "consistency_index", "customers",
                       "journeys", "conversion_rate", "conversion_rate_gap", "csat", "csat_n",
                       "csat_gap", "sentiment", "sentiment_n", "resolution_hours",
                       "repeat_contact_rate", "episodes", "breaks_experience", "reason")
HANDOFF_COLUMNS = ("from_channel", "to_channel", "journeys", "conversions", "success_rate",
                   "success_low", "success_high", "single_channel_rate", "vs_single_channel")
FIX_COLUMNS = ("rank", "action", "kind", "touchpoint", "customers_affected", "money_per_month",
               "money_low", "money_high", "currency", "confidence", "score", "evidence",
               "metric_to_watch", "estimate")
MAP_TABLES = ("stages", "touchpoints", "pain_points", "gaps", "moments")
OBSERVATIONAL = ("Observational estimates: associations after adjusting for lifecycle stage and "
                 "segment, not measured causal effects.")


class Direction(StrEnum):
    after = "after"
    before = "before"


class MapTable(StrEnum):
    stages = "stages"
    touchpoints = "touchpoints"
    pain_points = "pain_points"
    gaps = "gaps"
    moments = "moments"


def _hours(value: object) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):,.1f} h"


def _num(value: object, fmt: str = "{:+.3f}") -> str:
    return "—" if value is None or pd.isna(value) else fmt.format(float(value))


def _interval(low: object, high: object, fmt: str = "{:+.3f}") -> str:
    if low is None or pd.isna(low):
        return "—"
    return f"{fmt.format(float(low))} … {fmt.format(float(high))}"


def funnel(
    ctx: typer.Context,
    steps: Annotated[str | None, typer.Option(
        "--steps", help="Comma-separated touchpoints or event types, in order; omit for the "
        "stage funnel.")] = None,
    within: Annotated[str | None, typer.Option(
        "--within", help="Window from the first step, e.g. 7d, 12h, 30m.")] = None,
    by: Annotated[str | None, typer.Option(
        "--by", help="Split: channel, touchpoint, device, campaign, period or segment.")] = None,
    per: Annotated[str, typer.Option("--per", help="Count customers or journeys.")
                   ] = "customer",
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Show a funnel: units reaching each step, conversion, drop-off and time between steps."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.funnel(steps, within=within, by=by, per=per)
    columns = ((by,) if by else ()) + FUNNEL_COLUMNS
    title = "Stage funnel" if steps is None else f"Funnel: {steps}"
    if within:
        title += f" (within {within})"

    def table() -> object:
        cols = ([Column(by, by)] if by else []) + [
            Column("step_name", "step"), num("n", f"{per}s"),
            num("rate_from_previous", "from previous", fmt_pct),
            num("rate_from_first", "from first", fmt_pct), num("drop_off", "drop-off", fmt_pct),
            num("median_hours", "median time", _hours), num("p90_hours", "p90 time", _hours)]
        return rich_table(df.to_dict("records"), cols, title=title, section_by=by,
                          caption="drop-off = 1 − next step / this step; times from the "
                                  "previous step.")

    emit(df, columns, fmt, table)


def flows(
    ctx: typer.Context,
    touchpoint: Annotated[str, typer.Option("--touchpoint", "-t", help="The anchor.")],
    direction: Annotated[Direction, typer.Option("--direction")] = Direction.after,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Steps to follow.")] = 3,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Show the flows (Sankey links) after or before a touchpoint."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.flows(touchpoint, direction=direction.value, steps=steps)
    cols = [num("source_step", "step"), Column("source", "from"), Column("target", "to"),
            num("n_journeys", "journeys"), num("share", "share", fmt_pct),
            num("conversion_rate", "conv. rate", fmt_pct)]
    emit(df, FLOW_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), cols, title=f"Flows {direction.value} {touchpoint}",
        section_by="source_step"))


def journey_map(
    ctx: typer.Context,
    table: Annotated[MapTable | None, typer.Option(
        "--table", help="Only this table (csv default: touchpoints).")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Show the journey map built from data: stages, touchpoints, pain points, gaps, moments."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        tables = ws.journey_map().tables()
    names = [table.value] if table else list(MAP_TABLES)
    if fmt is OutputFormat.json:
        out = {n: records(tables[n], tables[n].columns) for n in names}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, allow_nan=False) + "\n")
        return
    if fmt is OutputFormat.csv:
        name = table.value if table else "touchpoints"
        df = tables[name]
        write_csv(records(df, df.columns), tuple(df.columns))
        return
    for name in names:
        df = tables[name]
        shown = [c for c in df.columns if c not in ("method",)][:12]
        out_console().print(rich_table(df.to_dict("records"), [Column(c, c) for c in shown],
                                       title=f"Journey map — {name}"))


def moments(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
            db: DbOption = None) -> None:
    """Show moments of truth: outcomes after a bad vs a good experience, per touchpoint."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.moments_of_truth()
    if fmt is OutputFormat.table:
        err_console().print(OBSERVATIONAL, style="yellow", highlight=False)
    cols = [Column("touchpoint", "touchpoint"), Column("signal", "signal"),
            Column("outcome", "outcome"), num("n_bad", "bad"), num("n_good", "good"),
            num("mean_bad", "after bad", _num), num("mean_good", "after good", _num),
            num("gap", "adjusted gap", _num), Column("gap_low", "95% CI"),
            num("q_value", "q", lambda v: _num(v, "{:.3g}")),
            Column("moment_of_truth", "moment of truth")]

    def cells(row: dict) -> dict:
        return {"95% CI": _interval(row["gap_low"], row["gap_high"])}

    emit(df, MOMENT_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), cols, title="Moments of truth", cells=cells,
        caption="gap = bad − good, stratified (Mantel-Haenszel) by lifecycle stage × segment; "
                "conversion/repeat in rate units, NPS in points."))


def revenue_at_risk(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
                    db: DbOption = None) -> None:
    """Show revenue at risk per pain point, with its interval and assumptions."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.revenue_at_risk()
        currency = ws.settings.currency
    money = fmt_money(currency)
    if fmt is OutputFormat.table and len(df):
        err_console().print("Assumptions: " + str(df["assumptions"].iloc[0]), style="yellow",
                            highlight=False)
    cols = [Column("touchpoint", "touchpoint"), Column("signal", "signal"),
            num("affected_customers", "affected"), num("lost_rate", "lost rate", fmt_pct),
            num("per_month", "at risk / month", money), Column("per_month_low", "95% interval"),
            Column("significant", "significant")]

    def cells(row: dict) -> dict:
        return {"95% interval": f"{money(row['per_month_low'])} … {money(row['per_month_high'])}"}

    emit(df, RISK_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), cols, title="Revenue at risk (observational estimate)",
        cells=cells))


def consistency(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
                db: DbOption = None) -> None:
    """Show omnichannel consistency: the same job across channels, and who breaks it."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.consistency()
    cols = [Column("purpose", "purpose"), Column("channel", "channel"),
            num("consistency_index", "index", lambda v: _num(v, "{:.0f}")),
            num("journeys", "journeys"), num("conversion_rate", "conv. rate", fmt_pct),
            num("csat", "CSAT", fmt_pct), num("csat_n", "n"),
            num("resolution_hours", "resolution", _hours), Column("reason", "breaks because")]
    emit(df, CONSISTENCY_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), cols, title="Omnichannel consistency", section_by="purpose"))


def handoffs(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
             db: DbOption = None) -> None:
    """Show cross-channel hand-offs inside journeys and their success rate."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.handoffs()
    cols = [Column("from_channel", "from"), Column("to_channel", "to"),
            num("journeys", "journeys"), num("success_rate", "success", fmt_pct),
            num("vs_single_channel", "vs single-channel", fmt_pct)]
    emit(df, HANDOFF_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), cols, title="Channel hand-offs"))


def fix_first(
    ctx: typer.Context,
    top: Annotated[int, typer.Option("--top", min=0, help="Show N actions (0 = all).")] = 10,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Show the ranked list of what to fix first, with evidence, impact and metric to watch."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.recommendations()
        currency = ws.settings.currency
    if top:
        df = df.head(top)
    money = fmt_money(currency)
    if fmt is OutputFormat.table:
        err_console().print(OBSERVATIONAL, style="yellow", highlight=False)
    cols = [num("rank", "#"), Column("action", "action"),
            num("customers_affected", "customers"), Column("money_per_month", "at stake / month"),
            Column("evidence", "evidence"), Column("metric_to_watch", "watch")]

    def cells(row: dict) -> dict:
        if pd.isna(row.get("money_per_month")):
            return {"at stake / month": "—"}
        return {"at stake / month": f"{money(row['money_per_month'])} "
                f"({money(row['money_low'])} … {money(row['money_high'])})"}

    emit(df, FIX_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), cols, title="What to fix first", cells=cells,
        caption="ranked by money at stake × confidence; checks without a money figure follow."))


def register(cli: typer.Typer) -> None:
    """Add the insights commands to the root app."""
    cli.command("funnel")(funnel)
    cli.command("flows")(flows)
    cli.command("journey-map")(journey_map)
    cli.command("moments")(moments)
    cli.command("revenue-at-risk")(revenue_at_risk)
    cli.command("consistency")(consistency)
    cli.command("handoffs")(handoffs)
    cli.command("fix-first")(fix_first)
    cli.command("insights", help="Alias of fix-first.")(fix_first)
