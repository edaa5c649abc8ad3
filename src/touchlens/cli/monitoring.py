"""Monitoring and experiment commands: ``alerts``, ``watch``, ``abtest`` and
``experiment declare|list|report|sample-size`` (docs/monitoring.md, docs/experiments.md).

``--format json|csv`` writes the ``*_COLUMNS`` below and nothing else on stdout; ``abtest`` and
``experiment sample-size`` with ``--format json`` write one JSON object.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.output import (
    Column,
    OutputFormat,
    err_console,
    fmt_pct,
    fmt_timestamp,
    num,
    out_console,
    plain,
    rich_table,
    write_json_line,
)
from touchlens.cli.views import FormatOption, emit
from touchlens.errors import ConfigError

ALERT_COLUMNS = ("alert_id", "grain", "touchpoint", "metric", "direction", "since",
                 "detected_at", "observed", "expected", "band_low", "band_high", "z",
                 "statistic", "threshold", "method", "message", "created_at")
EXPERIMENT_COLUMNS = ("name", "touchpoint", "variants", "assignment_unit", "metrics", "start",
                      "end", "declared_at")
REPORT_COLUMNS = ("experiment", "metric", "variant", "is_control", "n_units", "successes",
                  "value", "diff", "diff_low", "diff_high", "lift", "lift_low", "lift_high",
                  "test", "p_value", "p_fisher", "prob_beats_control", "p_always_valid",
                  "cs_low", "cs_high", "significant", "srm_p_value", "srm_mismatch",
                  "excluded_units")

GrainOption = Annotated[str, typer.Option("--grain", help="Period of the KPIs: day or hour.")]


def _fmt(digits: int, pct: bool = False) -> Any:
    def fmt(v: Any) -> str:
        if plain(v) is None:
            return "—"
        return f"{100 * float(v):+.{digits}f}%" if pct else f"{float(v):,.{digits}f}"
    return fmt


def _p(v: Any) -> str:
    if plain(v) is None:
        return "—"
    return "<0.0001" if float(v) < 1e-4 else f"{float(v):.4f}"


# ---------------------------------------------------------------- alerts and watch


def alerts(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option(
        "--since", help="Only alerts detected at or after this date/time (UTC).")] = None,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Show stored anomaly alerts with their evidence (newest first)."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.alerts(since=since)
    emit(df, ALERT_COLUMNS, fmt, lambda: alerts_table(df))


def alerts_table(df: pd.DataFrame) -> Table:
    columns = [Column("detected_at", "detected", fmt_timestamp),
               Column("touchpoint", "touchpoint"), Column("metric", "metric"),
               Column("direction", "dir."), Column("since", "since", fmt_timestamp),
               Column("message", "evidence")]
    return rich_table(df.to_dict("records"), columns, title=f"Alerts ({len(df)})")


def watch_table(kpis: pd.DataFrame, found: pd.DataFrame, *, grain: str, iteration: int) -> Table:
    """Latest complete period per touchpoint: KPIs against expected, and active alerts."""
    active = found[found["active"]] if not found.empty else found
    flags: dict[str, list[str]] = {}
    for r in active.itertuples(index=False):
        arrow = "▲" if r.direction == "up" else "▼"
        flags.setdefault(r.touchpoint, []).append(f"{arrow} {r.metric}")
    period = kpis["period_start"].max() if not kpis.empty else None
    latest = kpis[kpis["period_start"] == period] if period is not None else kpis
    title = (f"touchlens watch · {grain} · period {fmt_timestamp(period)} · "
             f"check {iteration} · {len(active)} active alert(s)")
    table = Table(title=title, title_justify="left")
    for header in ("touchpoint", "volume", "expected", "conv. rate", "expected ", "CSAT",
                   "cost", "status"):
        table.add_column(header, justify="left" if header in ("touchpoint", "status")
                         else "right", no_wrap=True)
    for r in latest.sort_values("n_events", ascending=False).itertuples(index=False):
        status = flags.get(r.touchpoint)
        table.add_row(
            Text(str(r.touchpoint)), f"{int(r.n_events):,}", _fmt(1)(r.volume_expected),
            fmt_pct(r.conversion_rate), fmt_pct(r.conversion_rate_expected),
            _fmt(1)(r.csat), _fmt(2)(r.cost),
            Text(", ".join(status), style="bold red") if status else Text("ok", style="green"))
    return table


def watch(
    ctx: typer.Context,
    interval: Annotated[float, typer.Option("--interval", min=0,
                                            help="Seconds between checks.")] = 60.0,
    iterations: Annotated[int, typer.Option("--iterations", min=0,
                                            help="Stop after N checks (0 = run until Ctrl-C).")
                          ] = 0,
    grain: GrainOption = "hour",
    webhook: Annotated[str | None, typer.Option(
        "--webhook", envvar="TOUCHLENS_WEBHOOK_URL",
        help="POST each new alert as JSON to this URL (retried with backoff).")] = None,
    db: DbOption = None,
) -> None:
    """Re-evaluate KPIs and anomalies every --interval seconds on new data (Rich live table).

    The workspace is opened only for each check, so ingestion can write in between; webhook
    delivery runs in a background thread and never delays a check."""
    from touchlens.monitoring import WebhookDispatcher

    path = resolve_db(ctx, db)
    dispatcher = WebhookDispatcher(webhook) if webhook else None
    notify = dispatcher.submit if dispatcher else None
    n = 0
    try:
        with Live(Text("waiting for the first check…"), console=out_console(),
                  auto_refresh=False) as live:
            while True:
                n += 1
                with open_workspace(path) as ws:
                    found = ws.detect_anomalies(grain=grain, notify=notify)
                    latest = ws.kpis(grain=grain, since=_last_period(found, ws, grain))
                live.update(watch_table(latest, found, grain=grain, iteration=n), refresh=True)
                if iterations and n >= iterations:
                    break
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        if dispatcher:
            dispatcher.close()
            if dispatcher.failed:
                err_console().print(f"{len(dispatcher.failed)} alert(s) could not be delivered "
                                    f"to {webhook}", style="yellow", highlight=False)


def _last_period(found: pd.DataFrame, ws: Any, grain: str) -> Any:
    """Start of the latest complete period (where the watch table looks)."""
    from touchlens.monitoring.service import PERIOD, data_clock

    clock = data_clock(ws)
    if clock is None:
        return None
    unit = "h" if grain == "hour" else "D"
    return pd.Timestamp(clock).floor(unit) - PERIOD[grain]


# ---------------------------------------------------------------- abtest (no workspace)


def _counts(text: str, label: str) -> tuple[int, int]:
    try:
        s, n = text.split("/")
        return int(s), int(n)
    except ValueError as exc:
        raise ConfigError(f"--{label} must look like SUCCESSES/TRIALS (e.g. 120/2400), "
                          f"got {text!r}") from exc


def abtest(
    a: Annotated[str, typer.Option("--a", help="Control: SUCCESSES/TRIALS, e.g. 120/2400.")],
    b: Annotated[str, typer.Option("--b", help="Treatment: SUCCESSES/TRIALS.")],
    alpha: Annotated[float, typer.Option("--alpha", help="Significance level.")] = 0.05,
    split: Annotated[str, typer.Option("--split", help="Planned split A/B for the sample-"
                                       "ratio check, e.g. 50/50.")] = "50/50",
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Compare two conversion rates (no workspace needed): z-test, Fisher exact, lift with CI,
    Bayesian P(B > A), always-valid p-value and the sample-ratio check."""
    from touchlens.experiments import (
        beta_binomial,
        fisher_exact,
        msprt,
        relative_lift,
        srm_test,
        two_proportion_ztest,
    )

    (xa, na), (xb, nb) = _counts(a, "a"), _counts(b, "b")
    wa, wb = _counts(split, "split")
    result = {
        "a": {"successes": xa, "trials": na, "rate": xa / na if na else None},
        "b": {"successes": xb, "trials": nb, "rate": xb / nb if nb else None},
        "ztest": two_proportion_ztest(xa, na, xb, nb, alpha=alpha).as_dict(),
        "fisher": fisher_exact(xa, na, xb, nb).as_dict(),
        "lift": relative_lift(xa, na, xb, nb, alpha=alpha).as_dict(),
        "bayes": beta_binomial(xa, na, xb, nb, alpha=alpha).as_dict(),
        "sequential": msprt(xa, na, xb, nb, alpha=alpha),
        "srm": srm_test([na, nb], [wa, wb]).as_dict(),
        "alpha": alpha,
    }
    if fmt is OutputFormat.json:
        write_json_line(plain(result))
        return
    out_console().print(abtest_table(result))
    if result["srm"]["mismatch"]:
        err_console().print("warning: sample-ratio mismatch (p < 0.001): the split differs "
                            "from the plan; check the assignment before trusting the result",
                            style="bold yellow", highlight=False)


def abtest_table(r: dict[str, Any]) -> Table:
    z, lift, bayes, seq = r["ztest"], r["lift"], r["bayes"], r["sequential"]
    table = Table(title="A/B test", title_justify="left", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    conf = f"{100 * (1 - r['alpha']):g}%"
    rows = [
        ("rate A / B", f"{fmt_pct(z['rate_a'])} / {fmt_pct(z['rate_b'])}"),
        ("difference B − A", f"{_fmt(2, True)(z['diff'])}  [{_fmt(2, True)(z['diff_low'])}, "
                             f"{_fmt(2, True)(z['diff_high'])}] {conf}"),
        ("relative lift", f"{_fmt(1, True)(lift['lift'])}  [{_fmt(1, True)(lift['lift_low'])}, "
                          f"{_fmt(1, True)(lift['lift_high'])}] {conf} (delta method)"),
        ("p-value, z-test", _p(z["p_value"])),
        ("p-value, Fisher exact", _p(r["fisher"]["p_value"])),
        ("P(B > A), Beta(1,1) prior", f"{100 * bayes['prob_b_beats_a']:.1f}%"),
        ("always-valid p (mSPRT)", _p(seq["p_value"])),
        ("sample-ratio check p", _p(r["srm"]["p_value"])),
    ]
    for what, value in rows:
        table.add_row(Text(what), Text(value))
    return table


# ---------------------------------------------------------------- experiment …

experiment_app = typer.Typer(help="Declared A/B tests of touchpoint variants.",
                             no_args_is_help=True)


@experiment_app.command("declare")
def declare(ctx: typer.Context,
            file: Annotated[Path, typer.Argument(exists=True, dir_okay=False,
                                                 help="YAML with one or more experiments.")],
            db: DbOption = None) -> None:
    """Declare (or update) experiments from a YAML file."""
    with open_workspace(resolve_db(ctx, db), must_exist=False) as ws:
        names = ws.declare_experiment(file)
    err_console().print(f"declared: {', '.join(names)}", highlight=False)


@experiment_app.command("list")
def list_(ctx: typer.Context, fmt: FormatOption = OutputFormat.table,
          db: DbOption = None) -> None:
    """List declared experiments."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.experiments()
    cols = [Column(c, c) for c in ("name", "touchpoint", "assignment_unit")] + [
        Column("variants", "variants", lambda v: ", ".join(v)),
        Column("metrics", "metrics", lambda v: ", ".join(v)),
        Column("start", "start", fmt_timestamp), Column("end", "end", fmt_timestamp)]
    emit(df, EXPERIMENT_COLUMNS, fmt,
         lambda: rich_table(df.to_dict("records"), cols, title="Experiments"))


@experiment_app.command("report")
def report(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Experiment name.")],
           fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """Analyse a declared experiment: per metric and variant, tests against the control."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.experiment_report(name)
    emit(df, REPORT_COLUMNS, fmt, lambda: report_table(df, name))
    if not df.empty and bool(df["srm_mismatch"].iloc[0]):
        err_console().print(f"warning: sample-ratio mismatch (p = {_p(df['srm_p_value'].iloc[0])}"
                            "): assignment is broken or biased; do not trust the effects",
                            style="bold yellow", highlight=False)


def report_table(df: pd.DataFrame, name: str) -> Table:
    def value(row: dict[str, Any]) -> str:
        v = row.get("value")
        return _fmt(2)(v) if row.get("metric") == "revenue" else fmt_pct(v)

    cols = [Column("metric", "metric"), Column("variant", "variant"),
            num("n_units", "units"), Column("value", "rate / mean", justify="right"),
            num("lift", "lift", _fmt(1, True)),
            Column("lift_low", "lift CI", justify="right"),
            num("p_value", "p", _p), num("p_fisher", "p Fisher", _p),
            num("prob_beats_control", "P(beats A)", fmt_pct),
            num("p_always_valid", "p always-valid", _p)]

    def cells(row: dict[str, Any]) -> dict[str, Any]:
        ci = (f"[{_fmt(1, True)(row['lift_low'])}, {_fmt(1, True)(row['lift_high'])}]"
              if plain(row.get("lift_low")) is not None else "—")
        return {"rate / mean": Text(value(row)), "lift CI": Text(ci)}

    excluded = int(df["excluded_units"].iloc[0]) if not df.empty else 0
    caption = ("p: z-test (rates) or Welch t-test (revenue); lift CI by the delta method; "
               "P(beats A): Beta-Binomial; always-valid p: mSPRT, safe to check daily. "
               f"Units in two variants excluded: {excluded}.")
    return rich_table(df.to_dict("records"), cols, title=f"Experiment {name}", cells=cells,
                      section_by="metric", caption=caption)


@experiment_app.command("sample-size")
def sample_size(
    baseline: Annotated[float, typer.Option("--baseline", help="Control conversion rate.")],
    mde: Annotated[float, typer.Option("--mde", help="Minimum detectable effect (relative, "
                                       "e.g. 0.1 = +10 %; absolute with --absolute).")],
    alpha: Annotated[float, typer.Option("--alpha")] = 0.05,
    power: Annotated[float, typer.Option("--power")] = 0.8,
    absolute: Annotated[bool, typer.Option("--absolute", help="--mde is in rate points.")
                        ] = False,
    ratio: Annotated[float, typer.Option("--ratio", help="Units in B per unit in A.")] = 1.0,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Units per variant needed to detect --mde at --alpha with --power (no workspace)."""
    from touchlens.experiments import sample_size_proportions

    size = sample_size_proportions(baseline, mde, alpha=alpha, power=power,
                                   relative=not absolute, ratio=ratio)
    if fmt is not OutputFormat.table:
        write_json_line(plain(size.as_dict()))
        return
    out_console().print(
        f"{size.n_per_arm:,} units in A and {size.n_b:,} in B ({size.n_total:,} in total) to "
        f"detect {fmt_pct(size.rate_a)} → {fmt_pct(size.rate_b)} with α = {alpha:g} "
        f"(two-sided) and power {power:.0%} [{size.method}]", highlight=False, markup=False)


def register(cli: typer.Typer) -> None:
    """Add ``alerts``, ``watch``, ``abtest`` and ``experiment …`` to the root app."""
    cli.command("alerts")(alerts)
    cli.command("watch")(watch)
    cli.command("abtest")(abtest)
    cli.add_typer(experiment_app, name="experiment")
