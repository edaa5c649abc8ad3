"""Moments of truth and revenue at risk: outcomes after a bad vs a good experience.

For every experience unit (:mod:`touchlens.insights.experience`: customer × touchpoint ×
signal, with the time of the experience) three outcomes are measured after the experience:

- ``conversion``: a conversion within ``conversion_days`` (default: the lookback window,
  30 days — the conversion of the journey the experience belongs to); only units observed
  for the full window (experience + window ≤ the data's last event) count.
- ``repeat_purchase``: for customers who had bought before the experience, another
  conversion within ``repeat_days`` (90); full follow-up required likewise.
- ``nps``: the customer's next NPS answer after the experience, scored +100 promoter /
  0 passive / −100 detractor, so group means are NPS values.

The gap (bad − good) is **adjusted by stratification**: strata are the customer's
lifecycle stage at the experience (``new`` = no earlier purchase, ``one-time``, ``repeat``)
× segment (the given segments, else the channel of the customer's first event — the
acquisition channel); the strata are combined with Mantel-Haenszel weights
(:mod:`touchlens.insights.stratified`), with a 95% CI, a p-value and a Benjamini-Hochberg
q-value over all comparisons. A **moment of truth** is a comparison whose gap is negative
(a bad experience goes with a worse outcome) with q < 0.05 and at least 30 customers in each
group.

Revenue at risk (per touchpoint × signal, outcome ``conversion``) = affected customers (all
customers with a bad experience there in the data) × lost conversion rate (−gap) × average
conversion value; interval by the delta method over the gap's and the value's standard
errors; ``*_per_month`` divides by the months the data spans. This is an **observational**
estimate: it assumes that, within strata, customers with a bad experience would otherwise
have converted like those with a good one (no unmeasured confounding).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.insights.experience import (
    UNIT_COLUMNS,
    acquisition_channels,
    conversion_times,
    experience_units,
)
from touchlens.insights.inputs import cached_journey_events, resolved_feedback, stage_of
from touchlens.insights.stratified import Z95, bh_qvalues, stratified_table
from touchlens.journeys.rollups import Rollup, register
from touchlens.store.timestamps import epoch_seconds

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

OUTCOMES = ("conversion", "repeat_purchase", "nps")
METHOD = "stratified (Mantel-Haenszel) by lifecycle stage × segment"
LIFECYCLE = ("new", "one-time", "repeat")  # earlier conversions: 0, 1, 2 or more
MIN_GROUP = 30
ALPHA = 0.05
DAYS_PER_MONTH = 30.4375
# what the survey and sentiment units and the next NPS answers read of an answer
ANSWER_COLUMNS = ("response_id", "customer_id", "occurred_at", "touchpoint", "nps", "csat",
                  "ces")


@dataclass(frozen=True)
class Windows:
    """Follow-up windows in days."""

    conversion_days: float = 30.0
    repeat_days: float = 90.0


# the moments' default segments, stored with the journeys
ACQUISITION = register(Rollup("acquisition_channels", ("customer_id",), acquisition_channels,
                              ("customer_id", "channel", "occurred_at", "event_id"),
                              per_customer=True))


# every customer's conversions, stored with the journeys (the outcomes read ~1 % of events)
CONVERSIONS = register(Rollup("conversion_times", ("customer_id", "event_id"),
                              conversion_times,
                              ("customer_id", "event_id", "occurred_at", "is_conversion"),
                              per_customer=True))


def next_answers(feedback: ir.Table) -> ir.Table:
    """Per NPS answer (of a known customer): the times it is that customer's *next* answer
    for — ``_from`` (their previous answer's time, year 1 for the first; inclusive) to
    ``_until`` (its own time; exclusive) — with ``_fc`` (customer) and ``_nps``. Answers in
    time then response_id order: of two at the same time the first is the next one (the
    other's span is empty). A unit joins the one span holding its time, so its next answer
    is found in one pass over the units (an equality and two comparisons: no OR, which
    would make the engine compare every unit with every answer)."""
    f = feedback.filter(feedback.nps.notnull() & feedback.customer_id.notnull())
    w = ibis.window(group_by=f.customer_id, order_by=[f.occurred_at, f.response_id])
    dawn = ibis.literal("0001-01-01T00:00:00").cast(f.occurred_at.type())  # first answer
    return f.select(_fc="customer_id", _from=f.occurred_at.lag().over(w).fill_null(dawn),
                    _until="occurred_at", _nps="nps")


def unit_outcomes(units: ir.Table, tagged: ir.Table, feedback: ir.Table, *,
                  windows: Windows = Windows(), segments: ir.Table | None = None,
                  end: ir.TimestampValue | None = None) -> ir.Table:
    """Per unit (:func:`~touchlens.insights.experience.experience_units`, with its outcome
    pieces): its stratum — ``lifecycle`` (earlier conversions: 0, 1, 2 = two or more) and
    ``segment`` — and the three outcomes with their eligibility (NULL = not observed).
    A conversion within d days after the experience ⇔ the next conversion is at most d days
    after it; the lifecycle stage counts the conversions up to the experience; the segment
    is the unit's acquisition channel unless ``segments`` are given. ``end``: the data's
    last event time when the caller has it (else read from ``tagged``)."""
    keys = list(UNIT_COLUMNS)
    u = units
    d_conv = ibis.interval(seconds=round(windows.conversion_days * 86400))
    d_rep = ibis.interval(seconds=round(windows.repeat_days * 86400))
    nxt = next_answers(feedback)
    g = u.left_join(nxt, (u.customer_id == nxt._fc) & (u.experienced_at >= nxt._from)
                    & (u.experienced_at < nxt._until))
    g = g.select(*u.columns, _nps_next=g._nps)
    if segments is not None:
        seg = segments.select(_sc="customer_id", _seg="segment")
        g = g.left_join(seg, g.customer_id == seg._sc)
        g = g.select(*[c for c in g.columns if c not in ("segment", "_sc", "_seg")],
                     segment=g._seg.cast("string"))
    end = tagged.occurred_at.max().as_scalar() if end is None else end
    nxt_at = g.next_conversion_at

    def within(days: ir.IntervalScalar) -> ir.FloatingValue:
        return (nxt_at <= g.experienced_at + days).fill_null(False).cast("float64")

    return g.select(
        *keys,
        lifecycle=ibis.least(g.prior, 2), segment=g.segment,
        # observed: the window ends by the data's end (t + d ≤ end ⇔ t ≤ end − d, a constant)
        y_conversion=ibis.ifelse(g.experienced_at <= end - d_conv, within(d_conv),
                                 ibis.null()),
        y_repeat_purchase=ibis.ifelse((g.prior > 0) & (g.experienced_at <= end - d_rep),
                                      within(d_rep), ibis.null()),
        y_nps=ibis.cases((g._nps_next >= 9, 100.0), (g._nps_next <= 6, -100.0),
                         (g._nps_next.notnull(), 0.0), else_=ibis.null().cast("float64")),
    )


def outcome_counts(outcomes: ir.Table) -> ir.Table:
    """Per (touchpoint, signal, lifecycle, segment, bad): ``units`` (every unit, observed or
    not) and, per outcome o, ``n_o`` (units where it is observed), ``s_o`` = Σy and
    ``ss_o`` = Σy² — one pass over the units (:func:`long_counts` turns it into one row per
    outcome and stratum)."""
    aggs: dict[str, ir.Value] = {"units": outcomes.count()}
    for name in OUTCOMES:
        y = outcomes[f"y_{name}"]
        aggs[f"n_{name}"] = y.count()
        aggs[f"s_{name}"] = y.sum()
        aggs[f"ss_{name}"] = (y * y).sum()
    return outcomes.group_by(["touchpoint", "signal", "lifecycle", "segment", "bad"]).agg(
        **aggs)


def long_counts(wide: pd.DataFrame) -> pd.DataFrame:
    """:func:`outcome_counts` as one row per (touchpoint, signal, outcome, stratum, bad)
    with n, s, ss, where the outcome is observed at least once; the stratum is named
    ``<lifecycle stage>|<segment>`` (``new``, ``one-time``, ``repeat``; ``(none)``)."""
    wide = wide.assign(stratum=wide["lifecycle"].map(dict(enumerate(LIFECYCLE))) + "|"
                       + wide["segment"].astype("object").fillna("(none)").astype(str))
    keys = ["touchpoint", "signal", "stratum", "bad"]
    parts = [wide[keys].assign(outcome=name, n=wide[f"n_{name}"].astype("int64"),
                               s=wide[f"s_{name}"].astype("float64"),
                               ss=wide[f"ss_{name}"].astype("float64"))
             for name in OUTCOMES]
    long = pd.concat(parts, ignore_index=True)
    long = long[long["n"] > 0]
    return long[["touchpoint", "signal", "outcome", "stratum", "bad", "n", "s", "ss"]]


def affected_counts(wide: pd.DataFrame) -> pd.DataFrame:
    """Per (touchpoint, signal): customers with a bad / a good experience (all periods; a
    unit is one customer's), from :func:`outcome_counts`."""
    n = wide["units"].astype("int64")
    bad = wide["bad"].astype(bool)
    out = pd.DataFrame({"touchpoint": wide["touchpoint"], "signal": wide["signal"],
                        "affected_customers": n.where(bad, 0),
                        "good_customers": n.where(~bad, 0)})
    return out.groupby(["touchpoint", "signal"], as_index=False, sort=True).sum()


def value_stats(tagged: ir.Table) -> ir.Table:
    """Conversion value: n, mean and standard deviation of revenue per conversion; and the
    data span in days."""
    c = tagged.filter(tagged.is_conversion & tagged.revenue.notnull())
    span = (epoch_seconds(tagged.occurred_at.max())
            - epoch_seconds(tagged.occurred_at.min())).cast("float64") / 86400.0
    return c.aggregate(n_value=c.count(), mean_value=c.revenue.mean(),
                       sd_value=c.revenue.std()).cross_join(
        tagged.aggregate(span_days=span))


def moments_frame(counts: pd.DataFrame, affected: pd.DataFrame,
                  stage: dict[str, str]) -> pd.DataFrame:
    """One row per (touchpoint, signal, outcome): adjusted gap, CI, p, q and the flags."""
    keys = ["touchpoint", "signal", "outcome"]
    res = stratified_table(counts, keys) if not counts.empty else pd.DataFrame(
        columns=[*keys])
    if res.empty:
        return pd.DataFrame(columns=MOMENT_COLUMNS).astype(
            {"significant": bool, "small_n": bool, "moment_of_truth": bool})
    res["q_value"] = bh_qvalues(res["p_value"])
    res["significant"] = res["q_value"] < ALPHA
    res["small_n"] = (res["n_bad"] < MIN_GROUP) | (res["n_good"] < MIN_GROUP)
    res["moment_of_truth"] = res["significant"] & (res["gap"] < 0) & ~res["small_n"]
    res["stage"] = res["touchpoint"].map(stage)
    res = res.merge(affected, on=["touchpoint", "signal"], how="left")
    res["method"] = METHOD
    res = res.sort_values(["moment_of_truth", "significant", "p_value", "touchpoint", "signal",
                           "outcome"], ascending=[False, False, True, True, True, True],
                          na_position="last")
    return res[list(MOMENT_COLUMNS)].reset_index(drop=True)


MOMENT_COLUMNS = ("touchpoint", "stage", "signal", "outcome", "n_bad", "n_good", "mean_bad",
                  "mean_good", "crude_gap", "gap", "gap_low", "gap_high", "p_value",
                  "q_value", "significant", "small_n", "moment_of_truth", "n_strata",
                  "affected_customers", "good_customers", "method")
RISK_COLUMNS = ("touchpoint", "stage", "signal", "affected_customers", "lost_rate",
                "lost_rate_low", "lost_rate_high", "mean_value", "revenue_at_risk",
                "revenue_at_risk_low", "revenue_at_risk_high", "per_month", "per_month_low",
                "per_month_high", "months", "p_value", "significant", "currency",
                "estimate", "assumptions")


def assumptions_text(windows: Windows, months: float) -> str:
    """The printed assumptions behind every revenue-at-risk figure."""
    return (
        "Observational estimate, not a measured causal effect. Assumes customers with a bad "
        "experience would, within the same lifecycle stage and segment, have converted like "
        f"customers with a good one (no unmeasured confounding); outcome = a conversion within "
        f"{windows.conversion_days:g} days after the experience; value = mean revenue per "
        f"conversion in the data; every affected customer counted once; per month = total / "
        f"{months:.2f} months of data."
    )


def revenue_at_risk_frame(moments: pd.DataFrame, value: pd.Series, *, windows: Windows,
                          currency: str) -> pd.DataFrame:
    """Revenue at risk per (touchpoint, signal) from the ``conversion`` comparisons."""
    m = moments[moments["outcome"] == "conversion"].copy()
    if m.empty:
        return pd.DataFrame(columns=RISK_COLUMNS).astype({"significant": bool})
    v = float(value.get("mean_value") or math.nan)
    n_v = float(value.get("n_value") or 0)
    sd_v = float(value.get("sd_value") or 0.0)
    se_v = sd_v / math.sqrt(n_v) if n_v > 1 else 0.0
    months = max(float(value.get("span_days") or 0.0) / DAYS_PER_MONTH, 1e-9)
    se_gap = (m["gap_high"] - m["gap_low"]) / (2 * Z95)
    a = m["affected_customers"].astype("float64")
    lost = -m["gap"]
    risk = a * lost * v
    sd_risk = a * np.sqrt(v * v * se_gap * se_gap + lost * lost * se_v * se_v)
    out = pd.DataFrame({
        "touchpoint": m["touchpoint"], "stage": m["stage"], "signal": m["signal"],
        "affected_customers": m["affected_customers"], "lost_rate": lost,
        "lost_rate_low": -m["gap_high"], "lost_rate_high": -m["gap_low"], "mean_value": v,
        "revenue_at_risk": risk, "revenue_at_risk_low": risk - Z95 * sd_risk,
        "revenue_at_risk_high": risk + Z95 * sd_risk, "months": months,
        "p_value": m["p_value"], "significant": m["significant"], "currency": currency,
        "estimate": "observational", "assumptions": assumptions_text(windows, months),
    })
    for col in ("", "_low", "_high"):
        out[f"per_month{col}"] = out[f"revenue_at_risk{col}"] / months
    out = out.sort_values(["revenue_at_risk", "touchpoint", "signal"],
                          ascending=[False, True, True], na_position="last")
    return out[list(RISK_COLUMNS)].reset_index(drop=True)


@dataclass
class MomentsResult:
    """Both tables of one analysis run, plus the conversion value they used."""

    moments: pd.DataFrame
    revenue_at_risk: pd.DataFrame
    value: pd.Series


def analyse(ws: Workspace, *, windows: Windows | None = None,
            segments: pd.DataFrame | None = None, sentiment: ir.Table | None = None,
            signals: tuple[str, ...] = ("score", "error", "support", "sentiment"),
            tagged: ir.Table | None = None, catalogue: pd.DataFrame | None = None,
            own: bool = False) -> MomentsResult:
    """Run the experience → outcome comparison on a workspace (see the module docstring).

    ``tagged``: journey-tagged events already computed (e.g. cached) by the caller;
    ``catalogue``: ``ws.touchpoints()`` when the caller has it; ``own``: both are the
    workspace's own, so the stored per-customer parts of the units and segments are read
    where they are stored (:meth:`~touchlens.workspace.Workspace.stored_rollup`). One
    query counts the outcomes and the affected customers (:func:`outcome_counts`), reading
    the units once; the answers resolved to customers, which it reads twice, are computed
    once for it (an Ibis ``cache()``: a temporary table on DuckDB, a cached DataFrame on
    Spark).
    """
    if tagged is None:
        with cached_journey_events(ws) as cached:
            return analyse(ws, windows=windows, segments=segments, sentiment=sentiment,
                           signals=signals, tagged=cached, catalogue=catalogue)
    rollup = ws.stored_rollup if own else None
    windows = windows or Windows(conversion_days=ws.settings.lookback_days)
    catalogue = ws.touchpoints() if catalogue is None else catalogue
    seg = None if segments is None else ibis.memtable(
        segments[["customer_id", "segment"]].astype({"customer_id": "string",
                                                     "segment": "string"}))
    ex = ws.store.execute
    conversions = acquisition = None
    if rollup is not None:
        conversions, acquisition = rollup(CONVERSIONS), rollup(ACQUISITION)
    # the data's end, once: compared with every unit (as a subquery, a join per unit)
    end = ibis.literal(ws.store.scalar(tagged.occurred_at.max()),
                       type=tagged.occurred_at.type())
    # answers resolved to customers once for the survey units and the next NPS answers
    # (the columns the units and answers read: the texts would be copied for nothing)
    answers = ws.store.table("feedback").select(*ANSWER_COLUMNS)
    feedback = resolved_feedback(answers, ws.store.table("identity_map")).cache()
    try:
        units = experience_units(tagged, feedback, catalogue, sentiment=sentiment,
                                 signals=signals, rollup=rollup, conversions=conversions,
                                 acquisition=acquisition)
        outcomes = unit_outcomes(units, tagged, feedback, windows=windows, segments=seg,
                                 end=end)
        wide = ex(outcome_counts(outcomes))
    finally:
        feedback.release()
    counts, affected = long_counts(wide), affected_counts(wide)
    value = ex(value_stats(tagged)).iloc[0]
    moments = moments_frame(counts, affected, stage_of(catalogue))
    risk = revenue_at_risk_frame(moments, value, windows=windows,
                                 currency=ws.settings.currency)
    return MomentsResult(moments, risk, value)
