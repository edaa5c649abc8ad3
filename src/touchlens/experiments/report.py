"""Experiment report: units per variant and their outcomes (Ibis), then the A/B statistics.

Grains and rules:
- exposure: an event at the experiment's touchpoint, in [start, end), whose ``attributes``
  JSON names a declared variant (key ``variant_attribute``).
- unit (customer or journey): one row per unit with an exposure; its variant is that of its
  exposures; units exposed to two or more variants are **excluded** (counted in ``excluded``).
- outcome window: from the unit's first exposure (inclusive) to ``end`` (exclusive) or now;
  for journey units, within the journey. ``conversion`` = any purchase/signup event in the
  window; ``event:<type>`` = any event of that type; ``revenue`` = revenue of the conversion
  events in the window per unit (0 without one).
- daily looks (for the always-valid test): cumulative units exposed and successes by the end
  of each UTC day.

Statistics (see :mod:`.ab`, :mod:`.bayes`, :mod:`.sequential`): each non-control variant
against the control; no correction for several variants or metrics (say so when you have them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.experiments import ab, bayes, sequential
from touchlens.experiments.declarations import EVENT_PREFIX, Experiment
from touchlens.store.schema import CONVERSION_EVENT_TYPES

SUMMARY_COLUMNS = (
    "experiment", "metric", "variant", "is_control", "n_units", "successes", "value",
    "diff", "diff_low", "diff_high", "lift", "lift_low", "lift_high", "test", "p_value",
    "p_fisher", "prob_beats_control", "p_always_valid", "cs_low", "cs_high", "significant",
    "srm_p_value", "srm_mismatch", "excluded_units",
)
FISHER_MAX_UNITS = 1_000_000  # beyond this the z-test is exact enough and Fisher is slow


@dataclass
class ExperimentReport:
    """``summary``: one row per metric × variant (SUMMARY_COLUMNS); ``looks``: one row per
    metric × treatment × day with the always-valid p-value and confidence sequence;
    ``srm``: the sample-ratio check."""

    experiment: Experiment
    summary: pd.DataFrame
    looks: pd.DataFrame
    srm: ab.SRMTest
    excluded_units: int


def attribute_value(attributes: ir.StringValue, key: str) -> ir.StringValue:
    """The value of top-level ``key`` in a JSON-object string (string, number or boolean),
    NULL when absent. A regular expression, so it runs on every backend."""
    quoted = attributes.re_extract(rf'"{key}"\s*:\s*"([^"]*)"', 1)
    bare = attributes.re_extract(rf'"{key}"\s*:\s*(-?[0-9][0-9.eE+-]*|true|false)', 1)
    return quoted.nullif("").coalesce(bare.nullif(""))


def _metric_columns(exp: Experiment) -> dict[str, str]:
    return {m: f"m{i}_at" for i, m in enumerate(exp.binary_metrics)}


def unit_outcomes(events: ir.Table, exp: Experiment) -> tuple[ir.Table, ir.Table]:
    """(one row per included unit: unit, variant, exposed_at, ``m<i>_at`` first success time per
    binary metric, revenue; one row per unit exposed to several variants)."""
    unit_col = "customer_id" if exp.assignment_unit == "customer" else "journey_id"
    ev = events
    window = (ev.touchpoint == exp.touchpoint) & (ev.occurred_at >= exp.start)
    if exp.end is not None:
        window &= ev.occurred_at < exp.end
    exposed = ev.filter(window).mutate(
        _variant=attribute_value(ev.attributes, exp.variant_attribute))
    if exp.experiment_attribute:
        exposed = exposed.filter(
            attribute_value(exposed.attributes, exp.experiment_attribute) == exp.name)
    exposed = exposed.filter(exposed._variant.isin(exp.variants))
    units = exposed.group_by(unit=exposed[unit_col]).agg(
        variant=exposed._variant.min(),
        n_variants=exposed._variant.nunique(),
        exposed_at=exposed.occurred_at.min(),
    )
    mixed = units.filter(units.n_variants > 1)
    units = units.filter(units.n_variants == 1).drop("n_variants")

    outcome = ev.select(_unit=ev[unit_col], _at=ev.occurred_at, _type=ev.event_type,
                        _revenue=ev.revenue)
    joined = units.join(outcome, units.unit == outcome._unit)
    after = joined._at >= joined.exposed_at
    if exp.end is not None:
        after &= joined._at < exp.end
    joined = joined.filter(after)
    is_conv = joined._type.isin(CONVERSION_EVENT_TYPES)
    firsts = {}
    for metric, col in _metric_columns(exp).items():
        hit = is_conv if metric == "conversion" else joined._type == metric[len(EVENT_PREFIX):]
        firsts[col] = joined._at.min(where=hit)
    per_unit = joined.group_by(_u=joined.unit).agg(
        _revenue=joined._revenue.sum(where=is_conv), **firsts)
    out = units.left_join(per_unit, units.unit == per_unit._u)
    return out.select("unit", "variant", "exposed_at", *firsts,
                      revenue=out._revenue.fill_null(0.0)), mixed


def variant_totals(units: ir.Table, exp: Experiment) -> ir.Table:
    """One row per variant: n_units, ``m<i>`` successes, revenue_sum, revenue_sumsq."""
    counts = {col[:-3]: units[col].notnull().cast("int64").sum()
              for col in _metric_columns(exp).values()}
    return units.group_by("variant").agg(
        n_units=units.count(), revenue_sum=units.revenue.sum(),
        revenue_sumsq=(units.revenue * units.revenue).sum(), **counts)


def daily_counts(units: ir.Table, exp: Experiment) -> ir.Table:
    """Long form: variant, day, series ("units" or ``m<i>``), n (new that day)."""
    parts = [units.group_by(variant=units.variant, day=units.exposed_at.truncate("D"))
             .agg(n=units.count()).mutate(series=ibis.literal("units"))]
    for col in _metric_columns(exp).values():
        hit = units.filter(units[col].notnull())
        parts.append(hit.group_by(variant=hit.variant, day=hit[col].truncate("D"))
                     .agg(n=hit.count()).mutate(series=ibis.literal(col[:-3])))
    return ibis.union(*[p.select("variant", "day", "series", "n") for p in parts])


# ---------------------------------------------------------------- statistics (small frames)


def _looks(daily: pd.DataFrame, variants: list[str], key: str) -> pd.DataFrame:
    """Cumulative (units, successes) per day for each variant: columns n_<v>, x_<v>."""
    if daily.empty:
        return pd.DataFrame(columns=["day"])
    d = daily[daily.series.isin(["units", key])]
    wide = d.pivot_table(index="day", columns=["series", "variant"], values="n",
                         aggfunc="sum", fill_value=0).sort_index().cumsum()
    out = pd.DataFrame(index=wide.index)
    for v in variants:
        out[f"n_{v}"] = wide.get(("units", v), 0)
        out[f"x_{v}"] = wide.get((key, v), 0)
    return out.reset_index()


def _binary_rows(exp: Experiment, metric: str, key: str, totals: pd.DataFrame,
                 daily: pd.DataFrame) -> tuple[list[dict], list[pd.DataFrame]]:
    control = exp.control
    n = totals["n_units"].to_dict()
    x = totals[key].to_dict() if key in totals else {}
    rows, traces = [], []
    looks = _looks(daily, exp.variants, key)
    xa, na = int(x.get(control, 0)), int(n.get(control, 0))
    for v in exp.variants:
        xb, nb = int(x.get(v, 0)), int(n.get(v, 0))
        row = {"metric": metric, "variant": v, "is_control": v == control, "n_units": nb,
               "successes": xb, "value": xb / nb if nb else np.nan}
        if v != control and na > 0 and nb > 0:
            z = ab.two_proportion_ztest(xa, na, xb, nb, alpha=exp.alpha)
            lift = ab.relative_lift(xa, na, xb, nb, alpha=exp.alpha)
            fisher = (ab.fisher_exact(xa, na, xb, nb).p_value
                      if na + nb <= FISHER_MAX_UNITS else np.nan)
            post = bayes.beta_binomial(xa, na, xb, nb, alpha=exp.alpha)
            frame = looks.rename(columns={f"x_{control}": "x_a", f"n_{control}": "n_a",
                                          f"x_{v}": "x_b", f"n_{v}": "n_b"})
            trace = sequential.sequential_test(frame[["day", "x_a", "n_a", "x_b", "n_b"]],
                                               alpha=exp.alpha,
                                               horizon_per_arm=exp.horizon_per_arm)
            last = trace.iloc[-1]
            row.update(diff=z.diff, diff_low=z.diff_low, diff_high=z.diff_high,
                       lift=lift.lift, lift_low=lift.lift_low, lift_high=lift.lift_high,
                       test="two-proportion z-test", p_value=z.p_value, p_fisher=fisher,
                       prob_beats_control=post.prob_b_beats_a,
                       p_always_valid=float(last.p_value), cs_low=float(last.cs_low),
                       cs_high=float(last.cs_high))
            traces.append(trace.assign(metric=metric, variant=v))
        rows.append(row)
    return rows, traces


def _revenue_rows(exp: Experiment, totals: pd.DataFrame) -> list[dict]:
    def stats_of(v: str) -> tuple[float, float, int]:
        if v not in totals.index:
            return np.nan, np.nan, 0
        r = totals.loc[v]
        k = int(r.n_units)
        mean = r.revenue_sum / k
        var = (r.revenue_sumsq - k * mean * mean) / (k - 1) if k > 1 else np.nan
        return float(mean), float(np.sqrt(max(var, 0.0))), k

    ma, sa, na = stats_of(exp.control)
    rows = []
    for v in exp.variants:
        mb, sb, nb = stats_of(v)
        row = {"metric": "revenue", "variant": v, "is_control": v == exp.control,
               "n_units": nb, "value": mb}
        if v != exp.control and na > 1 and nb > 1:
            t = ab.welch_ttest(ma, sa, na, mb, sb, nb, alpha=exp.alpha)
            lift = ab.mean_lift(ma, sa, na, mb, sb, nb, alpha=exp.alpha)
            row.update(diff=t.diff, diff_low=t.diff_low, diff_high=t.diff_high,
                       lift=lift.lift, lift_low=lift.lift_low, lift_high=lift.lift_high,
                       test="Welch t-test", p_value=t.p_value)
        rows.append(row)
    return rows


def experiment_report(execute: Callable[[ir.Expr], pd.DataFrame], events: ir.Table,
                      exp: Experiment) -> ExperimentReport:
    """Run the three small aggregations with ``execute`` and compute the statistics."""
    units, mixed = unit_outcomes(events, exp)
    totals = execute(variant_totals(units, exp)).set_index("variant")
    daily = execute(daily_counts(units, exp))
    excluded = int(execute(mixed.count().as_table()).iloc[0, 0])
    counts = [int(totals["n_units"].get(v, 0)) for v in exp.variants]
    srm = ab.srm_test(counts, exp.weights)
    rows: list[dict] = []
    traces: list[pd.DataFrame] = []
    for metric, col in _metric_columns(exp).items():
        r, t = _binary_rows(exp, metric, col[:-3], totals, daily)
        rows += r
        traces += t
    if "revenue" in exp.metrics:
        rows += _revenue_rows(exp, totals)
    summary = pd.DataFrame(rows).reindex(columns=list(SUMMARY_COLUMNS))
    summary["experiment"] = exp.name
    summary["significant"] = summary["p_value"] < exp.alpha
    summary["srm_p_value"] = srm.p_value
    summary["srm_mismatch"] = srm.mismatch
    summary["excluded_units"] = excluded
    order = {m: i for i, m in enumerate(exp.metrics)}
    summary = summary.sort_values("metric", key=lambda s: s.map(order), kind="stable")
    looks = pd.concat(traces, ignore_index=True) if traces else pd.DataFrame()
    return ExperimentReport(experiment=exp, summary=summary.reset_index(drop=True),
                            looks=looks, srm=srm, excluded_units=excluded)
