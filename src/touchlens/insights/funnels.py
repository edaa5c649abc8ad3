"""Funnels: the stage funnel and custom ordered funnels, as Ibis expressions.

Grain of the results: one row per (split value, step).

**Custom funnel** (``steps`` = touchpoints or event types; an event matches a step when its
``touchpoint`` or its ``event_type`` equals the step name). A unit (customer, or journey with
``per="journey"``) reaches step k when it has events matching steps 1..k in this order (each
a later event in the unit's ordering: time, then non-conversions first, then ``event_id``) and
step k happens at most ``within`` after step 1. Every step-1 event is a candidate start;
from a start the earliest matching next event is taken (greedy — optimal for a fixed start,
since the window is measured from step 1), and the unit keeps the start that goes deepest
(the earliest such). ``by`` values come from the unit's step-1 event.

**Stage funnel** (awareness → consideration → purchase → retention → advocacy): a unit
reaches stage s when it has a touch whose *effective* stage is s or later, where
conversions count as ``purchase``; other touches of a purchase-stage touchpoint (cart,
checkout) count as ``consideration`` (intent, no purchase); retention/advocacy touches before
the customer's first conversion count as ``awareness`` (a newsletter to a prospect is
marketing); touchpoints without a catalogue stage count as ``awareness``. The time of stage s
is the first time the unit reaches it. Counts never increase along the steps.

Per step (DOMAIN.md): ``n`` units reaching it; ``rate_from_previous`` = n_k / n_(k−1) with
a Wilson 95% interval; ``rate_from_first`` = n_k / n_1; ``drop_off`` = 1 − n_(k+1) / n_k
(the share lost after this step; NaN at the last step); ``median_hours`` / ``p90_hours`` =
time from reaching step k−1 to reaching step k (exact quantiles, interpolated).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.insights.inputs import stage_rank, workspace_stage_ranks
from touchlens.journeys.rollups import Rollup, register
from touchlens.metrics.cx import wilson
from touchlens.store.schema import STAGES
from touchlens.store.timestamps import epoch_seconds

BY_COLUMNS = ("channel", "touchpoint", "device", "campaign", "period", "segment")
UNITS = {"customer": "customer_id", "journey": "journey_id"}


def _prepare(tagged: ir.Table, per: str, by: str | None,
             segments: ir.Table | None) -> ir.Table:
    """Add ``_u`` (the unit), ``_by`` (the split value) and ``_conv`` (0/1)."""
    if per not in UNITS:
        raise ConfigError(f"per must be 'customer' or 'journey', not {per!r}")
    t = tagged
    if by == "segment":
        if segments is None:
            raise ConfigError("by='segment' needs a segments table (customer_id, segment)")
        t = t.left_join(segments, "customer_id").drop("customer_id_right")
        split = t.segment.cast("string").fill_null("(none)")
    elif by == "period":
        split = t.occurred_at.truncate("M").date().cast("string").substr(0, 7)
    elif by is not None:
        if by not in BY_COLUMNS:
            raise ConfigError(f"cannot split a funnel by {by!r}; use one of {BY_COLUMNS}")
        split = t[by].cast("string").fill_null("(none)")
    else:
        split = ibis.literal("all")
    return t.mutate(_u=t[UNITS[per]], _by=split, _conv=t.is_conversion.cast("int64"))


def funnel_units(tagged: ir.Table, steps: Sequence[str], *, within_seconds: float | None,
                 per: str = "customer", by: str | None = None,
                 segments: ir.Table | None = None) -> ir.Table:
    """One row per unit that reached step 1: ``_u, _by, depth, at_1 … at_K`` (NULL beyond
    ``depth``)."""
    k = len(steps)
    t = _prepare(tagged, per, by, segments)
    flags = {f"_m{i}": ((t.touchpoint == s) | (t.event_type == s)).fill_null(False)
             for i, s in enumerate(steps, 1)}
    t = t.mutate(**flags)
    t = t.filter(ibis.or_(*[t[f] for f in flags]))
    order = ibis.window(group_by=t._u, order_by=[t.occurred_at, t._conv, t.event_id])
    t = t.mutate(_pos=ibis.row_number().over(order))
    later = ibis.window(group_by=t._u, order_by=t._pos, rows=(1, None))
    t = t.mutate(**{f"_nx{i}": ibis.ifelse(t[f"_m{i + 1}"], t._pos, ibis.null()).min().over(later)
                    for i in range(1, k)})
    starts = t.filter(t._m1).select("_u", "_by", _p1="_pos", at_1="occurred_at",
                                    **({"_p2": "_nx1"} if k > 1 else {}))
    for i in range(2, k + 1):
        look = t.select(_lu="_u", _lp="_pos", _lat="occurred_at",
                        **({"_lnx": f"_nx{i}"} if i < k else {}))
        j = starts.left_join(look, (starts._u == look._lu) & (starts[f"_p{i}"] == look._lp))
        extra = {f"_p{i + 1}": j._lnx} if i < k else {}
        starts = j.select(*starts.columns, **{f"at_{i}": j._lat}, **extra)
    if within_seconds is not None:
        limit = starts.at_1 + ibis.interval(seconds=round(within_seconds))
        starts = starts.mutate(**{f"at_{i}": ibis.ifelse(starts[f"at_{i}"] <= limit,
                                                           starts[f"at_{i}"], ibis.null())
                                  for i in range(2, k + 1)})
    # a step counts only if every earlier one does (times increase along the chain)
    depth = ibis.literal(1)
    for i in range(2, k + 1):
        depth = depth + starts[f"at_{i}"].notnull().cast("int64")
    starts = starts.mutate(depth=depth)
    best = ibis.window(group_by=starts._u, order_by=[ibis.desc(starts.depth), starts._p1])
    starts = starts.mutate(_rank=ibis.row_number().over(best))
    return starts.filter(starts._rank == 0).select(
        "_u", "_by", "depth", *[f"at_{i}" for i in range(1, k + 1)])


def stage_funnel_units(tagged: ir.Table, catalogue: pd.DataFrame | dict[str, int], *,
                       per: str = "customer", by: str | None = None,
                       segments: ir.Table | None = None) -> ir.Table:
    """One row per unit: ``_u, _by, depth, at_1 … at_5`` for the five stages
    (``catalogue``: the catalogue or its stage ranks, :func:`~.inputs.stage_ranks`)."""
    t = _prepare(tagged, per, by, segments)
    rank = stage_rank(t.touchpoint, catalogue).fill_null(0)
    # conditional window aggregates as MIN(IF(...)): Spark has no FILTER in windows
    first_conv = ibis.ifelse(t.is_conversion, t.occurred_at, ibis.null()).min().over(
        ibis.window(group_by=t.customer_id))
    before_first = first_conv.isnull() | (t.occurred_at < first_conv)
    eff = ibis.cases((t.is_conversion, 2), (rank == 2, 1), ((rank >= 3) & before_first, 0),
                     else_=rank)
    t = t.mutate(_eff=eff)
    first = ibis.struct({"at": t.occurred_at, "id": t.event_id, "by": t._by})
    units = t.group_by("_u").agg(
        _first=first.argmin(t.occurred_at),
        **{f"at_{i + 1}": t.occurred_at.min(where=t._eff >= i) for i in range(len(STAGES))},
    )
    depth = ibis.literal(0)
    for i in range(len(STAGES)):
        depth = depth + units[f"at_{i + 1}"].notnull().cast("int64")
    return units.select("_u", _by=units._first["by"], depth=depth,
                        **{f"at_{i + 1}": f"at_{i + 1}" for i in range(len(STAGES))})


def _customer_stages(tagged: ir.Table, ranks: dict[str, int]) -> ir.Table:
    """The stage funnel's units per customer, keyed by ``customer_id`` (a rollup)."""
    units = stage_funnel_units(tagged, ranks)
    return units.select(customer_id="_u", depth="depth",
                        **{f"at_{i + 1}": f"at_{i + 1}" for i in range(len(STAGES))})


# the stage funnel's units per customer (the default funnel), stored with the journeys and
# kept per customer; built with the catalogue's stage ranks (its context)
CUSTOMER_STAGES = register(Rollup("stage_funnel_customers", ("customer_id",), _customer_stages,
                                  ("customer_id", "touchpoint", "occurred_at",
                                   "is_conversion", "event_id"), per_customer=True,
                                  context_of=workspace_stage_ranks))


def stored_units(stages: ir.Table) -> ir.Table:
    """:data:`CUSTOMER_STAGES` rows as the units :func:`funnel_counts` reads."""
    return stages.select(_u="customer_id", _by=ibis.literal("all"), depth="depth",
                         **{f"at_{i + 1}": f"at_{i + 1}" for i in range(len(STAGES))})


def funnel_counts(units: ir.Table, n_steps: int) -> ir.Table:
    """Per (split, step): n reaching it and the time from the previous step (hours)."""
    parts = []
    for i in range(1, n_steps + 1):
        reached = units.depth >= i
        if i == 1:
            hours = ibis.null().cast("float64")
        else:
            secs = (epoch_seconds(units[f"at_{i}"]) - epoch_seconds(units[f"at_{i - 1}"]))
            hours = ibis.ifelse(reached, secs.cast("float64") / 3600.0, ibis.null())
        parts.append(units.select(_by=units._by, step=ibis.literal(i, "int64"),
                                  _reached=reached.cast("int64"), _hours=hours))
    long = ibis.union(*parts) if len(parts) > 1 else parts[0]
    return long.group_by(["_by", "step"]).agg(
        n=long._reached.sum(),
        median_hours=long._hours.median(),
        p90_hours=long._hours.quantile(0.9),
    )


def funnel_frame(counts: pd.DataFrame, names: Sequence[str], by: str | None) -> pd.DataFrame:
    """Rates per step from :func:`funnel_counts` output (small: one row per split × step)."""
    cols = ["step", "step_name", "n", "rate_from_previous", "rate_low", "rate_high",
            "rate_from_first", "drop_off", "n_dropped", "median_hours", "p90_hours"]
    if counts.empty:
        return pd.DataFrame(columns=([by] if by else []) + cols)
    frames = []
    for value, g in counts.groupby("_by", sort=True, dropna=False):
        g = g.set_index("step").reindex(range(1, len(names) + 1))
        n = g["n"].fillna(0).astype("int64")
        prev = n.shift(1)
        nxt = n.shift(-1)
        out = pd.DataFrame({"step": n.index, "step_name": list(names), "n": n.to_numpy()})
        out["rate_from_previous"] = (n / prev.where(prev > 0)).to_numpy()
        low, high = wilson(n.where(prev.notna()), prev.where(prev > 0))
        out["rate_low"], out["rate_high"] = low.to_numpy(), high.to_numpy()
        first = n.iloc[0]
        out["rate_from_first"] = (n / first).to_numpy() if first > 0 else np.nan
        out["drop_off"] = (1 - nxt / n.where(n > 0)).to_numpy()
        out["n_dropped"] = (n - nxt).astype("Int64").to_numpy()
        out["median_hours"] = g["median_hours"].to_numpy(dtype="float64")
        out["p90_hours"] = g["p90_hours"].to_numpy(dtype="float64")
        if by:
            out.insert(0, by, value)
        frames.append(out)
    return pd.concat(frames, ignore_index=True)


def validate_steps(steps: Sequence[str] | str | None) -> list[str] | None:
    """Steps from a list or a comma-separated string; None means the stage funnel."""
    if steps is None:
        return None
    if isinstance(steps, str):
        steps = [s for s in (p.strip() for p in steps.split(",")) if s]
    steps = [str(s) for s in steps]
    if len(steps) < 2:
        raise ConfigError(f"a funnel needs at least two steps, got {steps}")
    return steps

