"""``touchlens attribution``: who earns the conversions, by model; ``--compare`` and ``--roi``.

Machine formats write exactly these columns (docs/attribution.md):

- default: ``model``, ``channel``|``touchpoint``, ``conversions``, ``revenue``, ``share``,
  ``ci_low``, ``ci_high``;
- ``--compare``: the label, one share column per model, ``min_share``, ``max_share``,
  ``spread``;
- ``--roi``: the label, ``spend``, ``spend_share``, ``conversions``, ``revenue``,
  ``revenue_share``, ``cpa``, ``roas``, ``suggested_spend``, ``suggested_change``,
  ``suggested_change_pct``.

Model notes (Markov removal effects, the Shapley characteristic function, the counterfactual
model's cross-validated log-loss) go under the table, or to stderr with json/csv.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.table import Table

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.output import (
    Column,
    OutputFormat,
    err_console,
    fmt_money,
    fmt_pct,
    num,
    rich_table,
)
from touchlens.cli.views import FormatOption, Level, emit
from touchlens.errors import ConfigError

MODEL_HELP = ("all, first, last, last_non_direct, linear, participation, position, j_curve, "
              "inverse_j, w_shaped, time_decay, markov, shapley, counterfactual (or a comma "
              "list).")
EXCLUDE_HELP = ("Touches left out, comma-separated: 'site' (channels web, app, direct, store: "
                "navigation and checkout that follow the decision to buy), 'service' (touches a "
                "purchase triggers: delivery, surveys, support, returns, review requests), "
                "'none', or channel/touchpoint names. Default: site,service on a workspace, "
                "none with --paths.")
WORKSPACE_EXCLUDE = "site,service"


class ShapleyValue(StrEnum):
    """Characteristic function of the Shapley model."""

    conversions = "conversions"
    rate = "rate"


def _fmt_num(value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    return f"{float(value):,.1f}"


def _fmt_ratio(value: Any) -> str:
    return "—" if value is None or pd.isna(value) else f"{float(value):,.2f}"


def _notes_lines(notes: dict[str, Any]) -> list[str]:
    """One short line per model note (what the numbers rest on)."""
    lines = []
    for model, note in notes.items():
        if model == "scope":
            lines.append(f"journeys of never-identified visitors: {note['anonymous_journeys']}")
        elif model == "markov":
            lines.append(f"markov: order {note['order']}, {note['states']} states, "
                         f"P(conversion) {note['p_conversion']:.4f}; {note['method']}")
        elif model == "shapley":
            line = f"shapley: {note['characteristic_function']}"
            if note.get("sampled_sets"):
                line += (f"; {note['sampled_sets']} sets sampled with {note['permutations']} "
                         f"permutations (max s.e. {note['max_standard_error']:.3g})")
            lines.append(line)
        elif model == "counterfactual":
            lines.append(f"counterfactual: {note['model']} on {note['patterns']:,} journey "
                         f"patterns; cross-validated log-loss {note['cv_log_loss']:.4f} "
                         f"(no features: {note['cv_log_loss_no_features']:.4f}, "
                         f"{note['cv_folds']} folds)")
        elif model == "time_decay":
            lines.append(f"time_decay: half-life {note['half_life_days']:g} days")
    return lines


def _say(lines: list[str]) -> None:
    for line in lines:
        err_console().print(line, style="dim", markup=False, highlight=False)


def attribution_table(df: pd.DataFrame, level: str, caption: str) -> Table:
    columns = [Column("model", "model"), Column(level, level),
               num("conversions", "conversions", _fmt_num),
               num("revenue", "revenue", fmt_money(None)), num("share", "share", fmt_pct),
               num("ci_low", "CI low", _fmt_num), num("ci_high", "CI high", _fmt_num)]
    if df["ci_low"].isna().all():
        columns = columns[:-2]
    return rich_table(df.to_dict("records"), columns, title=f"Attribution by {level}",
                      section_by="model", caption=caption)


def compare_table(df: pd.DataFrame, level: str, caption: str) -> Table:
    models = [c for c in df.columns if c not in (level, "min_share", "max_share", "spread")]
    columns = [Column(level, level)] + [num(m, m, fmt_pct) for m in models] + [
        num("spread", "spread", fmt_pct)]
    return rich_table(df.to_dict("records"), columns,
                      title=f"Attribution models compared ({level} shares)", caption=caption)


def roi_view(df: pd.DataFrame, level: str, title: str, caption: str) -> Table:
    money = fmt_money(None)
    columns = [Column(level, level), num("spend", "spend", money),
               num("spend_share", "spend share", fmt_pct),
               num("conversions", "conversions", _fmt_num), num("revenue", "revenue", money),
               num("revenue_share", "revenue share", fmt_pct), num("cpa", "CPA", money),
               num("roas", "ROAS", _fmt_ratio),
               num("suggested_spend", "suggested spend", money),
               num("suggested_change_pct", "change", fmt_pct)]
    return rich_table(df.to_dict("records"), columns, title=title, caption=caption)


def attribution(
    ctx: typer.Context,
    model: Annotated[str, typer.Option("--model", "-m", help=MODEL_HELP)] = "all",
    level: Annotated[Level, typer.Option("--level", help="Credit channels or touchpoints.")
                     ] = Level.channel,
    bootstrap: Annotated[int, typer.Option(
        "--bootstrap", min=0, help="Bootstrap replicates for 95% intervals of the data-driven "
        "models (0 = none; at least 20).")] = 0,
    paths: Annotated[Path | None, typer.Option(
        "--paths", dir_okay=False, help="Read a ChannelAttribution path CSV (path, "
        "total_conversions, total_conversion_value, total_null) instead of a workspace.")
    ] = None,
    sep: Annotated[str, typer.Option("--sep", help="Step separator of --paths.")] = " > ",
    compare: Annotated[bool, typer.Option(
        "--compare", help="All models side by side with the spread per label.")] = False,
    roi: Annotated[bool, typer.Option(
        "--roi", help="CPA, ROAS and a budget-reallocation suggestion (workspace only; "
        "model: counterfactual unless one model is given).")] = False,
    exclude: Annotated[str | None, typer.Option("--exclude", help=EXCLUDE_HELP,
                                                show_default=False)] = None,
    anonymous: Annotated[bool | None, typer.Option(
        "--anonymous/--no-anonymous", show_default=False, help="Keep / drop journeys of "
        "visitors never linked to a customer. Default: keep them only if one converts.")
    ] = None,
    half_life_days: Annotated[float, typer.Option("--half-life-days", min=0.001,
                                                  help="Half-life of time_decay.")] = 7.0,
    markov_order: Annotated[int, typer.Option(
        "--markov-order", min=1, max=4, help="Markov chain order (states = last k labels).")
    ] = 1,
    shapley_value: Annotated[ShapleyValue, typer.Option(
        "--shapley-value", help="Shapley characteristic function.")] = ShapleyValue.conversions,
    max_change: Annotated[float, typer.Option(
        "--max-change", help="--roi: largest suggested change per label (fraction).")] = 0.2,
    seed: Annotated[int, typer.Option("--seed", help="Seed of bootstrap and CV folds.")] = 0,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Attribute conversions and revenue to channels or touchpoints with 13 models."""
    if compare and roi:
        raise ConfigError("--compare and --roi are separate views: pick one")
    lvl = level.value
    options: dict[str, Any] = {
        "bootstrap": bootstrap, "seed": seed, "half_life_days": half_life_days,
        "markov_order": markov_order, "shapley_value": shapley_value.value}
    if paths is not None:
        if roi:
            raise ConfigError("--roi needs a workspace (spend comes from its costs)")
        from touchlens.attribution import attribute, read_paths
        from touchlens.attribution import compare as compare_models

        result = attribute(read_paths(paths, sep=sep), model, level=lvl,
                           exclude=exclude or "none", **options)
        table = compare_models(result) if compare else result
        table.attrs["notes"] = result.attrs.get("notes", {})
    else:
        with open_workspace(resolve_db(ctx, db)) as ws:
            kw = dict(level=lvl, exclude=exclude or WORKSPACE_EXCLUDE, anonymous=anonymous,
                      **options)
            if roi:
                table = ws.attribution_roi(model, max_change=max_change, **kw)
            elif compare:
                table = ws.attribution_compare(model, **kw)
            else:
                table = ws.attribution(model, **kw)
    _render(table, lvl, fmt, compare=compare, roi=roi,
            excluded=exclude or ("none" if paths is not None else WORKSPACE_EXCLUDE))


def _render(table: pd.DataFrame, level: str, fmt: OutputFormat, *, compare: bool, roi: bool,
            excluded: str) -> None:
    from touchlens.attribution.engine import result_columns
    from touchlens.attribution.roi import ROI_TAIL

    notes = _notes_lines(table.attrs.get("notes", {}))
    scope = f"excluded touches: {excluded}"
    if roi:
        assumptions = table.attrs.get("assumptions", "")
        title = f"ROI by {table.attrs.get('model')} attribution — reallocation SUGGESTION"
        columns = (level, *ROI_TAIL)
        caption = "\n".join([assumptions, scope, *notes])
        render = lambda: roi_view(table, level, title, caption)  # noqa: E731
        if fmt is not OutputFormat.table:
            _say([assumptions])
    elif compare:
        columns = tuple(table.columns)
        caption = "\n".join(["spread = max − min share over the models", scope, *notes])
        render = lambda: compare_table(table, level, caption)  # noqa: E731
    else:
        columns = result_columns(level)
        caption = "\n".join(["(none) = conversions without any touch; (baseline) = "
                             "conversions expected without touches", scope, *notes])
        render = lambda: attribution_table(table, level, caption)  # noqa: E731
    if fmt is not OutputFormat.table:
        _say(notes)
    emit(table, columns, fmt, render)

