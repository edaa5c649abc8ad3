"""Loyalty commands: ``rfm``, ``cohorts``, ``churn``, ``clv fit|predict`` and
``loyalty drivers`` (``segments`` and ``recommend`` live in :mod:`touchlens.cli.segments`).

``--format json|csv`` writes the ``*_COLUMNS`` below and nothing else on stdout. ``clv fit
--format json`` writes one object: ``{"unit", "bgnbd": {r, alpha, a, b, standard_errors,
log_likelihood, n, converged}, "gamma_gamma": {p, q, v, ...}}``.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer

from touchlens.cli.deps import DbOption, Period, open_workspace, resolve_db
from touchlens.cli.output import (
    Column,
    OutputFormat,
    err_console,
    fmt_int,
    fmt_pct,
    num,
    out_console,
    plain,
    records,
    rich_table,
    write_json_line,
)
from touchlens.cli.views import FormatOption, emit
from touchlens.errors import ConfigError, SchemaError, UnreadableFileError

RFM_COLUMNS = ("customer_id", "recency_days", "frequency", "monetary", "r_score", "f_score",
               "m_score", "rfm_score", "segment")
SEGMENT_COLUMNS = ("segment", "n_customers", "share", "recency_days", "frequency", "monetary",
                   "revenue")
COHORT_COLUMNS = ("cohort", "period", "n_customers", "n_active", "retention")
CHURN_COLUMNS = ("period_start", "n_active_start", "n_retained", "n_churned", "churn_rate",
                 "n_active", "n_new")
PREDICT_COLUMNS = ("customer_id", "frequency", "recency", "T", "monetary_value", "p_alive",
                   "expected_purchases", "expected_spend", "clv")


class Unit(StrEnum):
    day = "day"
    week = "week"
    month = "month"


class CohortBy(StrEnum):
    period = "period"
    channel = "channel"
    touchpoint = "touchpoint"


UnitOption = Annotated[Unit, typer.Option("--unit", help="Time unit of recency and T.")]
SummaryOption = Annotated[
    Path | None,
    typer.Option("--summary", dir_okay=False, help="CSV with frequency, recency, T, "
                 "monetary_value (and optionally customer_id) instead of the workspace."),
]


def _fmt_num(digits: int) -> Any:
    return lambda v: "—" if plain(v) is None else f"{float(v):,.{digits}f}"


# ---------------------------------------------------------------- rfm, cohorts, churn


def rfm(
    ctx: typer.Context,
    segments: Annotated[bool, typer.Option("--segments", help="One row per segment.")] = False,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Last day included "
                                              "(default: latest purchase).")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """RFM per customer (quintile scores 1–5 and named segment), or per segment."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.rfm_segments(as_of=as_of) if segments else ws.rfm(as_of=as_of)
    if segments:
        cols = [Column("segment", "Segment"), num("n_customers", "Customers"),
                num("share", "Share", fmt_pct), num("recency_days", "Recency (days)", _fmt_num(1)),
                num("frequency", "Frequency", _fmt_num(2)),
                num("monetary", "Monetary", _fmt_num(2)), num("revenue", "Revenue", _fmt_num(2))]
        emit(df, SEGMENT_COLUMNS, fmt, lambda: rich_table(records(df, SEGMENT_COLUMNS), cols,
                                                         title="RFM segments"))
        return
    cols = [Column("customer_id", "Customer"), num("recency_days", "Recency (days)"),
            num("frequency", "Frequency"), num("monetary", "Monetary", _fmt_num(2)),
            Column("rfm_score", "RFM"), Column("segment", "Segment")]
    emit(df, RFM_COLUMNS, fmt, lambda: rich_table(records(df, RFM_COLUMNS), cols, title="RFM"))


def cohorts(
    ctx: typer.Context,
    by: Annotated[CohortBy, typer.Option("--by", help="Cohort: first-purchase period or "
                                         "acquisition channel/touchpoint.")] = CohortBy.period,
    period: Annotated[Period, typer.Option("--period")] = Period.month,
    max_periods: Annotated[int | None, typer.Option("--max-periods", min=0)] = 12,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Retention by cohort: share of each cohort buying again k periods after its first purchase."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.cohorts(by=by.value, period=period.value, max_periods=max_periods)
    emit(df, COHORT_COLUMNS, fmt, lambda: _cohort_grid(df, period.value))


def _cohort_grid(df: pd.DataFrame, period: str) -> Any:
    from rich.table import Table

    table = Table(title=f"Retention by cohort (% active, {period}s since first purchase)",
                  title_justify="left")
    offsets = sorted(df["period"].unique()) if not df.empty else []
    table.add_column("Cohort", no_wrap=True)
    table.add_column("Customers", justify="right")
    for k in offsets:
        table.add_column(str(k), justify="right")
    for cohort, rows in df.groupby("cohort", sort=True):
        by_k = dict(zip(rows["period"], rows["retention"], strict=True))
        size = int(rows["n_customers"].iloc[0])
        table.add_row(str(cohort), fmt_int(size),
                      *[fmt_pct(by_k[k]) if k in by_k else "" for k in offsets])
    return table


def churn(
    ctx: typer.Context,
    period: Annotated[Period, typer.Option("--period")] = Period.month,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Churn rate per period: customers active in the previous period who did not buy again."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.churn(period=period.value)
    cols = [Column("period_start", "Period"), num("n_active_start", "Active at start"),
            num("n_churned", "Churned"), num("churn_rate", "Churn rate", fmt_pct),
            num("n_active", "Active"), num("n_new", "New")]
    emit(df, CHURN_COLUMNS, fmt,
         lambda: rich_table(records(df, CHURN_COLUMNS), cols, title=f"Churn by {period.value}"))


# ---------------------------------------------------------------- clv


def read_summary(path: Path) -> pd.DataFrame:
    """A customer-summary CSV (frequency, recency, T, monetary_value; customer_id optional)."""
    try:
        df = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"cannot read {path}: {exc}") from exc
    missing = [c for c in ("frequency", "recency", "T", "monetary_value") if c not in df.columns]
    if missing:
        raise SchemaError(f"{path} lacks required column(s) {missing}; expected "
                          "frequency, recency, T, monetary_value")
    if "customer_id" not in df.columns:
        df.insert(0, "customer_id", [str(i) for i in range(1, len(df) + 1)])
    return df


def _fit(ctx: typer.Context, db: Path | None, summary: Path | None, unit: Unit) -> Any:
    from touchlens.loyalty import CLVModel

    if summary is not None:
        frame = read_summary(summary)
        return CLVModel(unit=unit.value).fit(frame), frame
    with open_workspace(resolve_db(ctx, db)) as ws:
        frame = ws.clv_summary(unit=unit.value)
        return ws.clv_fit(unit=unit.value), frame


def clv_fit(
    ctx: typer.Context,
    summary: SummaryOption = None,
    unit: UnitOption = Unit.week,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Fit BG/NBD (repeat purchases) and Gamma-Gamma (spend) by maximum likelihood."""
    model, _ = _fit(ctx, db, summary, unit)
    result = plain(model.to_dict())
    if fmt is OutputFormat.json:
        write_json_line(result)
        return
    rows = []
    for name, part in (("bgnbd", result["bgnbd"]), ("gamma_gamma", result["gamma_gamma"])):
        for key, se in part["standard_errors"].items():
            rows.append({"model": name, "parameter": key, "estimate": part[key],
                         "standard_error": se, "n": part["n"],
                         "log_likelihood": part["log_likelihood"]})
    df = pd.DataFrame(rows)
    if fmt is OutputFormat.csv:
        emit(df, tuple(df.columns), fmt, lambda: None)
        return
    cols = [Column("model", "Model"), Column("parameter", "Parameter"),
            num("estimate", "Estimate", _fmt_num(4)),
            num("standard_error", "Std. error", _fmt_num(4)), num("n", "n"),
            num("log_likelihood", "Log-likelihood", _fmt_num(2))]
    out_console().print(rich_table(records(df, tuple(df.columns)), cols,
                                   title=f"CLV models (time unit: {unit.value})"))
    for name in ("bgnbd", "gamma_gamma"):
        if not result[name]["converged"]:
            err_console().print(f"warning: {name} did not converge to an interior optimum",
                                style="yellow", highlight=False)


def clv_predict(
    ctx: typer.Context,
    summary: SummaryOption = None,
    unit: UnitOption = Unit.week,
    params: Annotated[Path | None, typer.Option(
        "--params", dir_okay=False, help="JSON from `clv fit --format json` (skip fitting).")
    ] = None,
    horizon_months: Annotated[int, typer.Option("--horizon-months", min=1)] = 12,
    margin: Annotated[float, typer.Option("--margin", min=0.0)] = 1.0,
    discount_rate: Annotated[float, typer.Option(
        "--discount-rate", min=0.0, help="Per month.")] = 0.01,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", dir_okay=False, help="Write all rows as CSV to this file.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, help="Rows shown in the table.")] = 20,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Per customer: P(alive), expected purchases and CLV over the horizon."""
    from touchlens.loyalty import CLVModel

    if params is not None:
        try:
            model = CLVModel.from_dict(json.loads(params.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            if isinstance(exc, ConfigError):
                raise
            raise UnreadableFileError(f"cannot read {params}: {exc}") from exc
        if summary is not None:
            frame = read_summary(summary)
        else:
            with open_workspace(resolve_db(ctx, db)) as ws:
                frame = ws.clv_summary(unit=model.unit)
    else:
        model, frame = _fit(ctx, db, summary, unit)
    df = model.predict(frame, horizon_months=horizon_months, margin=margin,
                       discount_rate=discount_rate)
    df = df.sort_values(["clv", "customer_id"], ascending=[False, True], kind="stable")
    if output is not None:
        df.loc[:, list(PREDICT_COLUMNS)].to_csv(output, index=False)
        if summary is None:  # customers of the workspace: erasure must find this file
            with open_workspace(resolve_db(ctx, db)) as ws:
                ws.register_written_file(output, "export")
        err_console().print(f"wrote {len(df):,} customers to {output}", highlight=False)
        if fmt is OutputFormat.table:
            return
    cols = [Column("customer_id", "Customer"), num("frequency", "Repeat"),
            num("recency", "Recency", _fmt_num(1)), num("T", "T", _fmt_num(1)),
            num("p_alive", "P(alive)", fmt_pct),
            num("expected_purchases", "Exp. purchases", _fmt_num(2)),
            num("expected_spend", "Exp. spend", _fmt_num(2)), num("clv", "CLV", _fmt_num(2))]
    head = df.head(top)
    emit(df, PREDICT_COLUMNS, fmt, lambda: rich_table(
        records(head, PREDICT_COLUMNS), cols,
        title=f"CLV, next {horizon_months} months (top {min(top, len(df))} of {len(df):,})"))


DRIVER_COLUMNS = ("touchpoint", "outcome", "n_exposed", "n_unexposed", "exposed_mean",
                  "unexposed_mean", "naive_effect", "effect", "effect_low", "effect_high",
                  "n_strata", "method")


def drivers(
    ctx: typer.Context,
    index_date: Annotated[str | None, typer.Option(
        "--index-date", help="Split day (default: latest purchase − horizon).")] = None,
    exposure_days: Annotated[int, typer.Option("--exposure-days", min=1)] = 90,
    horizon_days: Annotated[int, typer.Option("--horizon-days", min=1)] = 90,
    min_exposed: Annotated[int, typer.Option("--min-exposed", min=1)] = 30,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Touchpoints followed by more repeat purchases, revenue and NPS, adjusted for RFM segment."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.loyalty_drivers(index_date=index_date, exposure_days=exposure_days,
                                horizon_days=horizon_days, min_exposed=min_exposed)
    cols = [Column("touchpoint", "Touchpoint"), Column("outcome", "Outcome"),
            num("n_exposed", "Exposed"), num("n_unexposed", "Unexposed"),
            num("naive_effect", "Naive diff.", _fmt_num(3)),
            num("effect", "Adjusted effect", _fmt_num(3)),
            num("effect_low", "95% low", _fmt_num(3)), num("effect_high", "95% high",
                                                          _fmt_num(3))]
    title = "Touchpoints and loyalty (effect on the exposed, post-stratified on RFM segment)"
    emit(df, DRIVER_COLUMNS, fmt,
         lambda: rich_table(records(df, DRIVER_COLUMNS), cols, title=title,
                            section_by="outcome"))


def register(cli: typer.Typer) -> None:
    """Add the loyalty commands to the root app."""
    cli.command("rfm")(rfm)
    cli.command("cohorts")(cohorts)
    cli.command("churn")(churn)
    clv = typer.Typer(help="Customer lifetime value: BG/NBD + Gamma-Gamma.",
                      no_args_is_help=True)
    clv.command("fit")(clv_fit)
    clv.command("predict")(clv_predict)
    cli.add_typer(clv, name="clv")
    loyalty = typer.Typer(help="Touchpoints and loyalty.", no_args_is_help=True)
    loyalty.command("drivers")(drivers)
    cli.add_typer(loyalty, name="loyalty")
    from touchlens.cli import segments as personalise

    cli.command("recommend")(personalise.recommend)
    cli.command("segments")(personalise.segments)

