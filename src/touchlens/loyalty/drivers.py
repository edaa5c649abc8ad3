"""Touchpoints and loyalty: which touchpoints are followed by more repeat purchases, revenue
and better NPS, adjusted for the customer's RFM segment at the time of the touch.

Design (one index date τ, default: the latest purchase day − ``horizon_days``):

- **Population**: customers with a purchase on or before τ.
- **Stratum**: their RFM segment at τ (:func:`touchlens.loyalty.rfm.rfm_table` with
  ``as_of = τ``): who gets a loyalty e-mail or calls support already differs in value.
- **Exposure** to touchpoint k: any non-conversion event at k in (τ − ``exposure_days``, τ].
- **Outcomes** in (τ, τ + ``horizon_days``]: ``repeat_purchase`` (0/1), ``revenue`` (sum,
  a realised-value proxy for CLV) and ``nps`` (−100/0/+100 for the customer's mean 0–10
  answer, among customers who answered; feedback rows are matched on their customer_id).
- **Effect** (ATT by post-stratification): Σ_s w_s (ȳ_exposed,s − ȳ_unexposed,s), with
  w_s = exposed customers in s / exposed customers in strata that hold both groups;
  variance Σ_s w_s² (s²_e/n_e + s²_u/n_u); a 95% normal interval. ``naive_effect`` is the
  unadjusted difference, for contrast. This is an observational comparison: it removes the
  difference explained by the segment, not every confounder.

The aggregates are Ibis expressions (any backend); only the per-stratum arithmetic of the
estimator runs on the small aggregated frame.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.loyalty.rfm import rfm_table
from touchlens.loyalty.summary import day_index
from touchlens.store.schema import CONVERSION_EVENT_TYPES
from touchlens.store.timestamps import utc_day_number

OUTCOMES = ("repeat_purchase", "revenue", "nps")
METHOD = "ATT, post-stratified on RFM segment at the index date (normal 95% interval)"
Z95 = 1.959963984540054


def _day(ts: ir.TimestampValue) -> ir.IntegerValue:
    return utc_day_number(ts)


def customer_outcomes(events: ir.Table, purchase_table: ir.Table,
                      feedback: ir.Table | None, *, index_day: int,
                      horizon_days: int) -> ir.Table:
    """One row per customer with a purchase by τ: customer_id, segment (at τ),
    repeat_purchase, revenue, nps (NULL without an answer in the horizon)."""
    rfm = rfm_table(purchase_table, as_of=index_day).select("customer_id", "segment")
    p = purchase_table
    after = p.filter((p.day > index_day) & (p.day <= index_day + horizon_days))
    bought = after.group_by("customer_id").agg(_n=after.count(), _rev=after.revenue.sum())
    out = rfm.left_join(bought, "customer_id")
    out = out.select(
        "customer_id", "segment",
        repeat_purchase=ibis.ifelse(out._n.fill_null(0) > 0, 1.0, 0.0),
        revenue=out._rev.fill_null(0.0).cast("float64"),
    )
    if feedback is None:
        return out.mutate(nps=ibis.null("float64"))
    fb = feedback.filter(feedback.nps.notnull() & feedback.customer_id.notnull())
    day = _day(fb.occurred_at)
    fb = fb.filter((day > index_day) & (day <= index_day + horizon_days))
    score = ibis.cases((fb.nps >= 9, 100.0), (fb.nps <= 6, -100.0), else_=0.0)
    answered = fb.mutate(_score=score).group_by("customer_id").agg(_nps=score.mean())
    j = out.left_join(answered, "customer_id")
    return j.select("customer_id", "segment", "repeat_purchase", "revenue",
                    nps=j._nps.cast("float64"))


def exposures(events: ir.Table, *, index_day: int, exposure_days: int) -> ir.Table:
    """Distinct (customer_id, touchpoint) touched in (τ − exposure_days, τ]."""
    ev = events.filter(events.customer_id.notnull() & events.touchpoint.notnull()
                       & ~events.event_type.isin(CONVERSION_EVENT_TYPES))
    day = _day(ev.occurred_at)
    ev = ev.filter((day > index_day - exposure_days) & (day <= index_day))
    return ev.select("customer_id", "touchpoint").distinct()


def _moments(t: ir.Table) -> dict[str, Any]:
    aggs: dict[str, Any] = {}
    for o in OUTCOMES:
        y = t[o]
        aggs[f"{o}_n"] = y.count()
        aggs[f"{o}_sum"] = y.sum()
        aggs[f"{o}_sum2"] = (y * y).sum()
    return aggs


def driver_moments(outcomes: ir.Table, exposed: ir.Table) -> tuple[ir.Table, ir.Table]:
    """(per segment, per touchpoint × segment among the exposed) counts, sums and sums of
    squares of each outcome — everything the estimator needs."""
    by_segment = outcomes.group_by("segment").agg(**_moments(outcomes))
    j = exposed.inner_join(outcomes, "customer_id")
    by_touch = j.group_by(["touchpoint", "segment"]).agg(**_moments(j))
    return by_segment, by_touch


def stratified_effects(by_segment: pd.DataFrame, by_touch: pd.DataFrame) -> pd.DataFrame:
    """One row per touchpoint × outcome: n_exposed, n_unexposed, exposed_mean,
    unexposed_mean, naive_effect, effect, effect_low, effect_high, n_strata, method."""
    rows = []
    seg = by_segment.set_index("segment")
    for (touchpoint, outcome), _ in _pairs(by_touch):
        t = by_touch[by_touch["touchpoint"] == touchpoint].set_index("segment")
        all_ = seg.reindex(t.index)
        n_e = t[f"{outcome}_n"].astype(float)
        s_e, q_e = t[f"{outcome}_sum"].astype(float), t[f"{outcome}_sum2"].astype(float)
        n_u = all_[f"{outcome}_n"].astype(float) - n_e
        s_u = all_[f"{outcome}_sum"].astype(float) - s_e
        q_u = all_[f"{outcome}_sum2"].astype(float) - q_e
        tot_e, tot_u = n_e.sum(), (seg[f"{outcome}_n"].astype(float).sum() - n_e.sum())
        if tot_e == 0:
            continue
        mean_e_all = s_e.sum() / tot_e
        mean_u_all = ((seg[f"{outcome}_sum"].astype(float).sum() - s_e.sum()) / tot_u
                      if tot_u > 0 else np.nan)
        ok = (n_e > 0) & (n_u > 0)
        effect = low = high = np.nan
        if ok.any():
            ne, nu = n_e[ok], n_u[ok]
            me, mu = s_e[ok] / ne, s_u[ok] / nu
            ve = _var(q_e[ok], s_e[ok], ne)
            vu = _var(q_u[ok], s_u[ok], nu)
            w = ne / ne.sum()
            effect = float((w * (me - mu)).sum())
            se = float(np.sqrt((w**2 * (ve / ne + vu / nu)).sum()))
            low, high = effect - Z95 * se, effect + Z95 * se
        rows.append({"touchpoint": touchpoint, "outcome": outcome, "n_exposed": int(tot_e),
                     "n_unexposed": int(tot_u), "exposed_mean": mean_e_all,
                     "unexposed_mean": mean_u_all, "naive_effect": mean_e_all - mean_u_all,
                     "effect": effect, "effect_low": low, "effect_high": high,
                     "n_strata": int(ok.sum()), "method": METHOD})
    cols = ["touchpoint", "outcome", "n_exposed", "n_unexposed", "exposed_mean",
            "unexposed_mean", "naive_effect", "effect", "effect_low", "effect_high",
            "n_strata", "method"]
    return pd.DataFrame(rows, columns=cols)


def _pairs(by_touch: pd.DataFrame) -> list[tuple[tuple[str, str], None]]:
    touchpoints = sorted(by_touch["touchpoint"].unique()) if not by_touch.empty else []
    return [((t, o), None) for o in OUTCOMES for t in touchpoints]


def _var(sum2: pd.Series, total: pd.Series, n: pd.Series) -> pd.Series:
    """Sample variance from moments (0 for a single observation)."""
    v = (sum2 - total**2 / n) / (n - 1).where(n > 1)
    return v.fillna(0.0).clip(lower=0.0)


def loyalty_drivers(events: ir.Table, purchase_table: ir.Table, feedback: ir.Table | None,
                    execute: Any, *, index_date: Any = None, exposure_days: int = 90,
                    horizon_days: int = 90, min_exposed: int = 30) -> pd.DataFrame:
    """Per touchpoint and outcome, the segment-adjusted effect (see the module docstring).

    ``execute`` turns an Ibis expression into pandas (``Store.execute``). Touchpoints with
    fewer than ``min_exposed`` exposed customers are left out.
    """
    if exposure_days < 1 or horizon_days < 1:
        raise ConfigError("exposure_days and horizon_days must be at least 1")
    if index_date is None:
        last = execute(purchase_table.day.max().name("d").as_table())["d"].iloc[0]
        if pd.isna(last):
            raise ConfigError("no purchases: loyalty drivers need purchase events")
        index_day = int(last) - horizon_days
    else:
        index_day = day_index(index_date)
    outcomes = customer_outcomes(events, purchase_table, feedback, index_day=index_day,
                                 horizon_days=horizon_days)
    exposed = exposures(events, index_day=index_day, exposure_days=exposure_days)
    by_segment, by_touch = driver_moments(outcomes, exposed)
    seg, touch = execute(by_segment), execute(by_touch)
    result = stratified_effects(seg, touch)
    result = result[result["n_exposed"] >= min_exposed]
    order = {o: i for i, o in enumerate(OUTCOMES)}
    result = result.assign(_o=result["outcome"].map(order)).sort_values(
        ["_o", "effect", "touchpoint"], ascending=[True, False, True], na_position="last")
    return result.drop(columns="_o").reset_index(drop=True)
