"""Personalisation commands: ``segments`` (profiles or per-segment scorecards) and
``recommend`` (next-best touchpoint). Registered by :func:`touchlens.cli.loyalty.register`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.loyalty import _fmt_num
from touchlens.cli.output import (
    Column,
    OutputFormat,
    err_console,
    fmt_pct,
    num,
    records,
    rich_table,
)
from touchlens.cli.views import FormatOption, emit
from touchlens.errors import ConfigError

RECOMMEND_COLUMNS = ("customer_id", "journey_id", "rank", "touchpoint", "uplift", "p_convert",
                     "p_convert_after")


def consent_note(df) -> None:
    """Print on stderr how many customers the analysis left out for lack of consent."""
    note = df.attrs.get("consent_note")
    skipped = df.attrs.get("skipped_no_consent") or []
    if skipped:
        note = (f"{note}; not answered (no personalization consent): "
                f"{', '.join(map(str, skipped[:10]))}{' …' if len(skipped) > 10 else ''}")
    if note:
        err_console().print(f"Consent: {note}", markup=False, highlight=False)


EVALUATION_COLUMNS = ("method", "k", "n_holdout", "n_converting", "hit_rate", "n_followed",
                      "conversion_when_followed", "hit_rate_lift", "conversion_lift",
                      "split_at")


def recommend(
    ctx: typer.Context,
    customer: Annotated[list[str] | None, typer.Option(
        "--customer", "-c", help="Customer id (repeatable).")] = None,
    top: Annotated[int, typer.Option("--top", min=1)] = 3,
    evaluate: Annotated[bool, typer.Option(
        "--evaluate", help="Time-based holdout against the most-popular baseline.")] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Next-best touchpoint: what to send a customer next to raise their chance to convert."""
    if not customer and not evaluate:
        raise ConfigError("give --customer ID (repeatable) or --evaluate")
    with open_workspace(resolve_db(ctx, db)) as ws:
        if evaluate:
            df = ws.next_best_evaluation(top=top)
        else:
            df = ws.next_best_touchpoint(customer, top=top)
    consent_note(df)
    if evaluate:
        cols = [Column("method", "Method"), num("k", "k"), num("n_holdout", "Held-out"),
                num("hit_rate", "Hit rate", fmt_pct),
                num("conversion_when_followed", "Conv. when followed", fmt_pct),
                num("n_followed", "Followed"), num("hit_rate_lift", "Hit lift", _fmt_num(2)),
                num("conversion_lift", "Conv. lift", _fmt_num(2))]
        emit(df, EVALUATION_COLUMNS, fmt, lambda: rich_table(
            records(df, EVALUATION_COLUMNS), cols, title="Next-best touchpoint: holdout"))
        return
    cols = [Column("customer_id", "Customer"), num("rank", "Rank"),
            Column("touchpoint", "Touchpoint"), num("uplift", "Uplift", fmt_pct),
            num("p_convert", "P(convert) now", fmt_pct),
            num("p_convert_after", "After", fmt_pct)]
    emit(df, RECOMMEND_COLUMNS, fmt, lambda: rich_table(
        records(df, RECOMMEND_COLUMNS), cols, title="Next-best touchpoint",
        section_by="customer_id"))


class SegmentBy(StrEnum):
    journey_shape = "journey_shape"
    rfm_segment = "rfm_segment"
    preferred_channel = "preferred_channel"
    clv_tier = "clv_tier"


PROFILE_COLUMNS = ("segment", "n_customers", "n_journeys", "n_conversions", "conversion_rate",
                   "revenue", "revenue_per_customer", "typical_path")
SEGMENT_SCORECARD_COLUMNS = ("segment", "touchpoint", "channel", "reach", "touches",
                             "journeys", "converting_journeys", "conversion_rate")


def segments(
    ctx: typer.Context,
    by: Annotated[SegmentBy, typer.Option("--by")] = SegmentBy.journey_shape,
    scorecard: Annotated[bool, typer.Option(
        "--scorecard", help="Per segment × touchpoint scorecard instead of profiles.")] = False,
    fmt: FormatOption = OutputFormat.table,
    db: DbOption = None,
) -> None:
    """Segments (journey shape, RFM, preferred channel, CLV tier): size, conversion, value
    and typical journey — or each segment's own touchpoint scorecard."""
    with open_workspace(resolve_db(ctx, db)) as ws:
        view = ws.segment_scorecard if scorecard else ws.segment_profiles
        df = view(by=by.value)
    consent_note(df)
    if scorecard:
        cols = [Column("segment", "Segment"), Column("touchpoint", "Touchpoint"),
                num("reach", "Reach"), num("journeys", "Journeys"),
                num("conversion_rate", "Conv. rate", fmt_pct)]
        emit(df, SEGMENT_SCORECARD_COLUMNS, fmt, lambda: rich_table(
            records(df, SEGMENT_SCORECARD_COLUMNS), cols, title=f"Scorecard by {by.value}",
            section_by="segment"))
        return
    cols = [Column("segment", "Segment"), num("n_customers", "Customers"),
            num("n_journeys", "Journeys"), num("conversion_rate", "Conv. rate", fmt_pct),
            num("revenue_per_customer", "Revenue/customer", _fmt_num(2)),
            Column("typical_path", "Typical converting journey (channels)")]
    emit(df, PROFILE_COLUMNS, fmt, lambda: rich_table(
        records(df, PROFILE_COLUMNS), cols, title=f"Segments by {by.value}"))
