"""Voice-of-customer commands: ``touchlens voc scores|changes|sentiment|analyze|topics|
pain-points`` (docs/voc.md).

``--format json|csv`` writes the documented columns and nothing else on stdout;
``voc sentiment --format json`` writes JSON Lines: one object per input text
(``{row, language, label, score, topics}``, plus ``explanation`` with ``--explain`` and
``error`` when the row could not be scored). ``voc sentiment`` needs no workspace.
"""

from __future__ import annotations

import io
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from touchlens.cli.deps import DbOption, Period, open_workspace, resolve_db
from touchlens.cli.output import (
    SMALL_N_NOTE,
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
    score_with_n,
    small_n,
    write_json_line,
)
from touchlens.cli.views import FormatOption, emit
from touchlens.errors import ConfigError, SchemaError, UnreadableFileError

SCORE_METRICS = ("nps", "nps_low", "nps_high", "nps_n", "nps_small_n", "csat", "csat_low",
                 "csat_high", "csat_mean", "csat_n", "csat_small_n", "ces", "ces_low",
                 "ces_high", "ces_agree", "ces_n", "ces_small_n")
CHANGE_COLUMNS = ("metric", "period", "previous_period", "value", "previous_value", "delta",
                  "n", "previous_n", "test", "statistic", "p_value", "significant", "small_n")
SENTIMENT_COLUMNS = ("row", "language", "label", "score", "topics")
PERIODS = ("week", "month", "quarter")


class By(StrEnum):
    """Grouping of survey scores: a dimension, or a period alone."""

    touchpoint = "touchpoint"
    channel = "channel"
    stage = "stage"
    segment = "segment"
    language = "language"
    sentiment = "sentiment"
    week = "week"
    month = "month"
    quarter = "quarter"
    all = "all"


class Mode(StrEnum):
    auto = "auto"
    fast = "fast"
    accurate = "accurate"


ByOption = Annotated[By, typer.Option("--by", help="Group by a dimension or a period.")]
PeriodOption = Annotated[
    Period | None, typer.Option("--period", help="Also split by week, month or quarter.")]
ModeOption = Annotated[
    Mode, typer.Option("--mode", help="fast (lexicon), accurate (embeddings; touchlens[voc]) "
                       "or auto (accurate for up to 2,000 texts when installed).")]


def _num(digits: int, suffix: str = "") -> Any:
    return lambda v: "—" if plain(v) is None else f"{float(v):,.{digits}f}{suffix}"


def _split(by: By, period: Period | None) -> tuple[list[str], str | None]:
    if by.value in PERIODS:
        return [], by.value
    return ([] if by is By.all else [by.value]), (period.value if period else None)


# ---------------------------------------------------------------- scores and changes


def _scores_table(df: pd.DataFrame, keys: list[str]) -> Any:
    columns = [Column(k, k) for k in keys] + [num("nps", "NPS (n)"), num("csat", "CSAT (n)"),
                                               num("ces", "CES (n)")]

    def ci(row: dict, name: str, fmt: Any) -> Text:
        cell = score_with_n(row.get(name), row.get(f"{name}_n"), fmt)
        if plain(row.get(f"{name}_low")) is not None and plain(row.get(name)) is not None:
            cell.append(f" [{fmt(row[f'{name}_low'])}, {fmt(row[f'{name}_high'])}]",
                        style="dim")
        return cell

    def cells(row: dict) -> dict:
        return {"NPS (n)": ci(row, "nps", _num(0)), "CSAT (n)": ci(row, "csat", _num(1, "%")),
                "CES (n)": ci(row, "ces", _num(2))}

    rows = df.to_dict("records")
    caption = "95% CI in brackets. NPS −100..100; CSAT = share of 4–5; CES mean 1–7."
    if any(small_n(r.get("nps_n")) or small_n(r.get("csat_n")) or small_n(r.get("ces_n"))
           for r in rows):
        caption += "\n" + SMALL_N_NOTE
    return rich_table(rows, columns, title="Survey scores", cells=cells, caption=caption)


def scores(ctx: typer.Context, by: ByOption = By.touchpoint, period: PeriodOption = None,
           fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """Show NPS, CSAT and CES with n and 95% CI by touchpoint, channel, stage, … or period."""
    keys, per = _split(by, period)
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.voc.scores(keys, period=per)
    cols = (*keys, *(["period"] if per else []), *SCORE_METRICS)
    emit(df, cols, fmt, lambda: _scores_table(df, [*keys, *(["period"] if per else [])]))


def changes(ctx: typer.Context, by: ByOption = By.all, period: Period = Period.month,
            fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """Show score changes between consecutive periods and whether they are significant."""
    keys, per = _split(by, period)
    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.voc.changes(keys, period=per or period.value)
    columns = [Column(k, k) for k in keys] + [
        Column("metric", "metric"), Column("period", "period"),
        num("previous_value", "before", _num(1)), num("value", "now", _num(1)),
        num("delta", "change", _num(1)), num("n", "n"), num("p_value", "p", _num(3)),
        Column("significant", "significant", lambda v: "yes" if v else "no"),
        Column("small_n", "small n", lambda v: "yes" if v else "")]
    emit(df, (*keys, *CHANGE_COLUMNS), fmt, lambda: rich_table(
        df.to_dict("records"), columns, title=f"Score changes ({per or period.value})",
        caption="Tests: NPS z-test (variance of +1/0/−1), CSAT pooled two-proportion z-test, "
                "CES Welch t-test; significant = p < 0.05."))


# ---------------------------------------------------------------- sentiment (no workspace)


def _read_csv(path: Path, column: str) -> list[Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1250", errors="replace")  # Polish Windows exports
        err_console().print(f"{path}: not UTF-8, read as Windows-1250", style="yellow")
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnreadableFileError(f"{path} is not a readable CSV: {exc}") from exc
    if column not in frame.columns:
        raise SchemaError(f"{path} has no column {column!r}; columns: {list(frame.columns)}")
    return frame[column].tolist()


def _progress_bar(total: int, label: str) -> tuple[Progress, Any]:
    bar = Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                   console=err_console(), transient=True)
    return bar, bar.add_task(label, total=total)


def sentiment(
    file: Annotated[Path | None, typer.Argument(dir_okay=False, help="CSV of texts.")] = None,
    text: Annotated[list[str] | None, typer.Option("--text", "-t",
                                                   help="A text (repeatable).")] = None,
    text_column: Annotated[str, typer.Option("--text-column", help="Column of FILE.")] = "text",
    mode: ModeOption = Mode.auto,
    explain: Annotated[bool, typer.Option("--explain", help="Add the matched words.")] = False,
    topics: TopicsOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Score the sentiment, language and topics of texts: a CSV file or --text (no workspace)."""
    from touchlens.voc.analyze import analyze_texts
    from touchlens.voc.aspects import topic_rules

    if file is None and not text:
        raise ConfigError("give a CSV file or at least one --text")
    texts: list[Any] = list(text or [])
    if file is not None:
        texts += _read_csv(file, text_column)
    bar, task = _progress_bar(len(texts), "sentiment")
    with bar:
        df = analyze_texts(texts, mode=mode.value, topics=topic_rules(topics),
                           progress=lambda k: bar.advance(task, k) if len(texts) > 200 else None)
    cols = (*SENTIMENT_COLUMNS, *(["explanation"] if explain else []))
    if fmt is OutputFormat.json:
        for row in records(df, (*cols, "error")):
            if row["error"] is None:
                row.pop("error")
            write_json_line(row)
        return
    if fmt is OutputFormat.csv:
        emit(df, (*cols, "error"), fmt, lambda: None)
        return
    shown = df.assign(text=[str(t)[:70] for t in texts])
    columns = [num("row", "#"), Column("text", "text"), Column("language", "lang"),
               Column("label", "sentiment"), num("score", "score", _num(2)),
               Column("topics", "topics", lambda v: ", ".join(v) if v else ""),
               Column("error", "error")]
    if explain:
        columns.insert(-1, Column("explanation", "why"))
    out_console().print(rich_table(shown.to_dict("records"), columns,
                                   title=f"Sentiment ({df['mode'].iloc[0] if len(df) else mode})"))


# ---------------------------------------------------------------- workspace text analytics


TopicsOption = Annotated[
    Path | None, typer.Option("--topics", dir_okay=False,
                              help="YAML of extra topic keywords (docs/voc.md).")]


def analyze(ctx: typer.Context, mode: ModeOption = Mode.auto,
            force: Annotated[bool, typer.Option("--force", help="Re-score every text.")] = False,
            topics: TopicsOption = None, db: DbOption = None) -> None:
    """Score the workspace's feedback texts not analysed yet and store the results."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        ws.voc.use_topics(topics)
        state: dict[str, Any] = {}

        def start(n: int, used: str) -> None:
            bar, task = _progress_bar(n, f"analyze ({used})")
            bar.start()
            state.update(bar=bar, task=task)

        try:
            summary = ws.voc.analyze(mode=mode.value, force=force, on_start=start,
                                     progress=lambda k: state["bar"].advance(state["task"], k))
        finally:
            if "bar" in state:
                state["bar"].stop()
    err_console().print(f"analysed {summary['n_new']:,} new text(s) in {summary['mode']} mode; "
                        f"{summary['n_total']:,} stored, {summary['n_errors']:,} with a per-row "
                        "error", highlight=False)


def topics(ctx: typer.Context, period: Period = Period.month,
           fmt: FormatOption = OutputFormat.table, db: DbOption = None) -> None:
    """Show topics of the feedback texts: volume, share negative, score and trend."""
    from touchlens.voc.pain_points import TOPIC_COLUMNS  # late: keeps --help fast

    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.voc.topics(period=period.value)
    columns = [Column("topic", "topic"), num("n_mentions", "mentions"),
               num("share_of_texts", "of texts", fmt_pct),
               num("share_negative", "negative", fmt_pct), num("avg_score", "score", _num(2)),
               Column("trend", "trend"), Column("touchpoints", "touchpoints")]
    emit(df, TOPIC_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), columns, title="Topics",
        caption="trend: share negative, last period vs the one before "
                "(two-proportion z-test, p < 0.05)."))


def pain_points(ctx: typer.Context,
                top: Annotated[int, typer.Option("--top", min=1, help="Rows.")] = 10,
                period: Period = Period.month, fmt: FormatOption = OutputFormat.table,
                db: DbOption = None) -> None:
    """Show pain points: topic × touchpoint ranked by CSAT impact and negative volume."""
    from touchlens.voc.pain_points import PAIN_COLUMNS  # late: keeps --help fast

    with open_workspace(resolve_db(ctx, db)) as ws:
        df = ws.voc.pain_points(top=top, period=period.value)
    columns = [num("rank", "#"), Column("topic", "topic"), Column("touchpoint", "touchpoint"),
               num("n_negative", "negative", fmt_int),
               num("share_negative", "share neg.", fmt_pct),
               num("csat", "CSAT", _num(1, "%")), num("impact", "impact", _num(1)),
               Column("trend", "trend"),
               Column("examples", "example", lambda v: (v[0][:80] if v else ""))]
    emit(df, PAIN_COLUMNS, fmt, lambda: rich_table(
        df.to_dict("records"), columns, title="Pain points",
        caption="impact = CSAT points the touchpoint would gain if its responses with a "
                "negative mention of the topic scored like its other responses."))


def register(cli: typer.Typer) -> None:
    """Add ``touchlens voc …`` to the root app."""
    voc = typer.Typer(help="Voice of customer: survey scores, sentiment, topics, pain points.",
                      no_args_is_help=True)
    voc.command("scores")(scores)
    voc.command("changes")(changes)
    voc.command("sentiment")(sentiment)
    voc.command("analyze")(analyze)
    voc.command("topics")(topics)
    voc.command("pain-points")(pain_points)
    voc.command("painpoints", hidden=True)(pain_points)
    cli.add_typer(voc, name="voc")
