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

from touchlens.insights.experience import UNIT_COLUMNS, experience_units
from touchlens.insights.inputs import cached_journey_events, resolved_feedback, stage_of
from touchlens.insights.stratified import Z95, bh_qvalues, stratified_table
from touchlens.journeys.rollups import Rollup, register
from touchlens.store.timestamps import epoch_seconds

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

OUTCOMES = ("conversion", "repeat_purchase", "nps")
METHOD = "stratified (Mantel-Haenszel) by lifecycle stage × segment"
MIN_GROUP = 30
ALPHA = 0.05
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class Windows:
    """Follow-up windows in days."""

    conversion_days: float = 30.0
    repeat_days: float = 90.0


def acquisition_channels(tagged: ir.Table) -> ir.Table:
    """Per customer: ``segment``, the acquisition channel — the channel of the customer's
    first event (ties: the smallest event_id)."""
    first = ibis.struct({"at": tagged.occurred_at, "id": tagged.event_id})
    return tagged.group_by("customer_id").agg(segment=tagged.channel.argmin(first))


# the moments' default segments, stored with the journeys
ACQUISITION = register(Rollup("acquisition_channels", ("customer_id",), acquisition_channels,
                              ("customer_id", "channel", "occurred_at", "event_id"),
                              per_customer=True))


def conversion_times(tagged: ir.Table) -> ir.Table:
    """Per customer and conversion event: ``occurred_at``."""
    conv = tagged.filter(tagged.is_conversion)
    return conv.select("customer_id", "event_id", "occurred_at")


# every customer's conversions, stored with the journeys (the outcomes read ~1 % of events)
CONVERSIONS = register(Rollup("conversion_times", ("customer_id", "event_id"),
                              conversion_times,
                              ("customer_id", "event_id", "occurred_at", "is_conversion"),
                              per_customer=True))


def unit_outcomes(units: ir.Table, tagged: ir.Table, feedback: ir.Table, *,
                  windows: Windows = Windows(), segments: ir.Table | None = None,
                  conversions: ir.Table | None = None) -> ir.Table:
    """Per unit: stratum and the three outcomes with their eligibility (NULL = not observed).
    ``conversions``: :func:`conversion_times` of ``tagged`` when stored."""
    keys = list(UNIT_COLUMNS)
    conversions = conversion_times(tagged) if conversions is None else conversions
    conv = conversions.select(_c="customer_id", _cat="occurred_at")
    u = units
    at = u.experienced_at
    j = u.left_join(conv, u.customer_id == conv._c)
    d_conv = ibis.interval(seconds=round(windows.conversion_days * 86400))
    d_rep = ibis.interval(seconds=round(windows.repeat_days * 86400))
    after = j._cat > j.experienced_at
    g = j.group_by(keys).agg(
        _prior=(j._cat <= j.experienced_at).cast("int64").sum().fill_null(0),
        _c1=(after & (j._cat <= j.experienced_at + d_conv)).any().fill_null(False),
        _c2=(after & (j._cat <= j.experienced_at + d_rep)).any().fill_null(False),
    )
    f = feedback.filter(feedback.nps.notnull() & feedback.customer_id.notnull())
    f = f.select(_fc="customer_id", _fat="occurred_at", _nps="nps")
    jn = u.join(f, (u.customer_id == f._fc) & (f._fat > at))
    nxt = jn.group_by(keys).agg(_nps_next=jn._nps.argmin(jn._fat))
    g = g.left_join(nxt, keys).select(*g.columns, "_nps_next")
    if segments is None:
        segments = acquisition_channels(tagged)
    seg = segments.select(_sc="customer_id", _seg="segment")
    g = g.left_join(seg, g.customer_id == seg._sc)
    lifecycle = ibis.cases((g._prior == 0, "new"), (g._prior == 1, "one-time"), else_="repeat")
    end = tagged.occurred_at.max().as_scalar()
    return g.select(
        *keys,
        stratum=lifecycle + "|" + g._seg.cast("string").fill_null("(none)"),
        y_conversion=ibis.ifelse(g.experienced_at + d_conv <= end, g._c1.cast("float64"),
                                 ibis.null()),
        y_repeat_purchase=ibis.ifelse((g._prior > 0) & (g.experienced_at + d_rep <= end),
                                      g._c2.cast("float64"), ibis.null()),
        y_nps=ibis.cases((g._nps_next >= 9, 100.0), (g._nps_next <= 6, -100.0),
                         (g._nps_next.notnull(), 0.0), else_=ibis.null().cast("float64")),
    )


def outcome_counts(outcomes: ir.Table) -> ir.Table:
    """Long counts per (touchpoint, signal, outcome, stratum, bad): n, s = Σy, ss = Σy²."""
    parts = []
    for name in OUTCOMES:
        y = outcomes[f"y_{name}"]
        o = outcomes.filter(y.notnull())
        parts.append(o.select("touchpoint", "signal", "stratum", "bad",
                              outcome=ibis.literal(name), _y=o[f"y_{name}"]))
    long = ibis.union(*parts)
    return long.group_by(["touchpoint", "signal", "outcome", "stratum", "bad"]).agg(
        n=long.count(), s=long._y.sum(), ss=(long._y * long._y).sum())


def affected_counts(units: ir.Table) -> ir.Table:
    """Per (touchpoint, signal): customers with a bad / a good experience (all periods)."""
    return units.group_by(["touchpoint", "signal"]).agg(
        affected_customers=units.bad.cast("int64").sum(),
        good_customers=(~units.bad).cast("int64").sum())


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
    where they are stored (:meth:`~touchlens.workspace.Workspace.stored_rollup`). The
    experience units are computed once (an Ibis ``cache()``: a temporary table on DuckDB, a
    cached DataFrame on Spark) and read by both the outcome counts and the affected counts.
    """
    if tagged is None:
        with cached_journey_events(ws) as cached:
            return analyse(ws, windows=windows, segments=segments, sentiment=sentiment,
                           signals=signals, tagged=cached, catalogue=catalogue)
    rollup = ws.stored_rollup if own else None
    windows = windows or Windows(conversion_days=ws.settings.lookback_days)
    feedback = resolved_feedback(ws.store.table("feedback"), ws.store.table("identity_map"))
    catalogue = ws.touchpoints() if catalogue is None else catalogue
    seg = None if segments is None else ibis.memtable(
        segments[["customer_id", "segment"]].astype({"customer_id": "string",
                                                     "segment": "string"}))
    ex = ws.store.execute
    units = experience_units(tagged, feedback, catalogue, sentiment=sentiment,
                             signals=signals, rollup=rollup).cache()
    if seg is None and rollup is not None:
        seg = rollup(ACQUISITION)
    conversions = None if rollup is None else rollup(CONVERSIONS)
    try:
        outcomes = unit_outcomes(units, tagged, feedback, windows=windows, segments=seg,
                                 conversions=conversions)
        counts = ex(outcome_counts(outcomes))
        affected = ex(affected_counts(units))
    finally:
        units.release()
    value = ex(value_stats(tagged)).iloc[0]
    moments = moments_frame(counts, affected, stage_of(catalogue))
    risk = revenue_at_risk_frame(moments, value, windows=windows,
                                 currency=ws.settings.currency)
    return MomentsResult(moments, risk, value)
