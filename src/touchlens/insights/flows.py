"""Flows: the data behind a Sankey, loops and repeated touches, first/last touchpoints.

Journeys are read as their collapsed paths (consecutive touches of the same touchpoint are one
step, as in ``journeys.path``) with the conversion as a final ``(conversion)`` step.

- :func:`flow_links`: for journeys that contain the anchor touchpoint (its first occurrence),
  the from → to counts of the ``steps`` steps after it (``direction="after"``; a journey that
  stops without converting flows into ``(end)``) or before it (``"before"``; the path's
  beginning is ``(start)``). Grain: one row per (source_step, source, target_step, target);
  ``n_journeys`` journeys took that link, ``share`` = n_journeys / journeys with the anchor,
  ``conversion_rate`` = converting journeys among them. Steps are numbered from the anchor
  (0): 1, 2 … after it, −1, −2 … before it.
- :func:`repeat_touches`: per touchpoint, journeys touching it, touches per journey,
  ``repeat_rate`` (share of those journeys with 2+ touches of it) and ``loop_rate`` (share
  that come back to it after leaving: 2+ separate steps in the collapsed path), with the
  conversion rate of journeys with and without a loop.
- :func:`first_last`: per touchpoint, how often it is the first / the last touch of a
  converting journey, and the last event of a churned customer (a buyer with no event in the
  final ``churn_days`` before the data's last event).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.journeys.paths import opens_step
from touchlens.journeys.rollups import Rollup, register

CONVERSION = "(conversion)"
END = "(end)"
START = "(start)"


def journey_steps(tagged: ir.Table) -> ir.Table:
    """One row per step of each journey's collapsed path: journey_id, customer_id, pos
    (1, 2 …), node (touchpoint, or ``(conversion)``), occurred_at."""
    t = tagged.filter(opens_step(tagged))  # each step's first event, numbered by its _step
    node = ibis.ifelse(t.is_conversion, CONVERSION, t.touchpoint.fill_null("(unknown)"))
    return t.select("journey_id", "customer_id", "occurred_at", node=node, pos=t._step)


def check_flow(direction: str, steps: int) -> None:
    if direction not in ("after", "before"):
        raise ConfigError(f"direction must be 'after' or 'before', not {direction!r}")
    if steps < 1:
        raise ConfigError(f"steps must be at least 1, not {steps}")


def flow_links(tagged: ir.Table, touchpoint: str, *, direction: str = "after",
               steps: int = 3) -> tuple[ir.Table, ir.Table]:
    """(links, anchor count): Ibis tables; see the module docstring."""
    check_flow(direction, steps)
    s = journey_steps(tagged)
    anchor = s.filter(s.node == touchpoint).group_by("journey_id").agg(_a=s.pos.min())
    conv = s.group_by("journey_id").agg(_converted=(s.node == CONVERSION).any())
    j = s.join(anchor, "journey_id").join(conv, "journey_id")
    w = ibis.window(group_by=j.journey_id, order_by=j.pos)
    if direction == "after":
        j = j.mutate(_rel=j.pos - j._a, _next=j.node.lead().over(w))
        j = j.filter((j._rel >= 0) & (j._rel < steps))
        target = j._next.coalesce(ibis.ifelse(j.node == CONVERSION, ibis.null(), END))
        links = j.select(source_step=j._rel, source=j.node, target_step=j._rel + 1,
                         target=target, _converted=j._converted)
    else:
        j = j.mutate(_rel=j._a - j.pos, _prev=j.node.lag().over(w))
        j = j.filter((j._rel >= 0) & (j._rel < steps))
        links = j.select(source_step=-(j._rel + 1), source=j._prev.fill_null(START),
                         target_step=-j._rel, target=j.node, _converted=j._converted)
    links = links.filter(links.target.notnull())
    counts = links.group_by(["source_step", "source", "target_step", "target"]).agg(
        n_journeys=links.count(), n_converted=links._converted.cast("int64").sum())
    return counts, anchor.count().as_table()


def every_flow_link(tagged: ir.Table, steps: int) -> ir.Table:
    """:func:`flow_links` counts for every anchor and both directions up to ``steps``, in
    one table: ``anchor, direction`` + the counts' columns (a rollup: journeys are one
    customer's, so every count is a sum over customers).

    A step's neighbours do not depend on the anchor, so they are looked up once per step;
    each anchor (a node's first step in a journey) then takes the steps within ``steps``
    of it."""
    s = journey_steps(tagged)
    w = ibis.window(group_by=s.journey_id, order_by=s.pos)
    s = s.mutate(_next=s.node.lead().over(w), _prev=s.node.lag().over(w),
                 _converted=(s.node == CONVERSION).any().over(
                     ibis.window(group_by=s.journey_id)))
    anchors = s.group_by(["journey_id", "node"]).agg(_a=s.pos.min())
    a = anchors.select(_j="journey_id", anchor="node", _a="_a")
    near = (s.pos >= a._a - (steps - 1)) & (s.pos <= a._a + (steps - 1))
    j = s.join(a, [s.journey_id == a._j, near])
    after = j.filter(j.pos >= j._a)
    rel = after.pos - after._a
    after = after.select(
        "anchor", direction=ibis.literal("after"), source_step=rel, source=after.node,
        target_step=rel + 1, target=after._next.coalesce(
            ibis.ifelse(after.node == CONVERSION, ibis.null(), END)),
        _converted=after._converted)
    before = j.filter(j.pos <= j._a)
    back = before._a - before.pos
    before = before.select(
        "anchor", direction=ibis.literal("before"), source_step=-(back + 1),
        source=before._prev.fill_null(START), target_step=-back, target=before.node,
        _converted=before._converted)
    links = ibis.union(after, before)
    links = links.filter(links.target.notnull())
    return links.group_by(["anchor", "direction", "source_step", "source", "target_step",
                           "target"]).agg(n_journeys=links.count(),
                                          n_converted=links._converted.cast("int64").sum())


def flow_anchors(tagged: ir.Table) -> ir.Table:
    """Journeys per anchor node (the :func:`flow_links` anchor count of each)."""
    s = journey_steps(tagged)
    pairs = s.select(anchor=s.node, journey_id=s.journey_id).distinct()
    return pairs.group_by("anchor").agg(n_journeys=pairs.count())


# the dashboard's Sankey (3 steps; the API allows up to 6: more are computed) for every
# anchor, and the anchors' journeys, stored with the journeys
FLOW_STEPS = 3
STEP_COLUMNS = ("journey_id", "customer_id", "occurred_at", "touchpoint", "is_conversion",
                "_repeat_tp", "_step")  # what journey_steps reads
FLOW_LINKS = register(Rollup(
    "flow_links", ("anchor", "direction", "source_step", "source", "target_step", "target"),
    lambda tagged: every_flow_link(tagged, FLOW_STEPS), STEP_COLUMNS, size="n_journeys"))
FLOW_ANCHORS = register(Rollup("flow_anchors", ("anchor",), flow_anchors, STEP_COLUMNS,
                               size="n_journeys"))


def stored_flow_links(links: ir.Table, anchors: ir.Table, touchpoint: str, *,
                      direction: str, steps: int) -> tuple[ir.Table, ir.Table]:
    """:func:`flow_links`'s two tables read from :data:`FLOW_LINKS` and
    :data:`FLOW_ANCHORS` (``steps`` ≤ :data:`FLOW_STEPS`)."""
    check_flow(direction, steps)
    if steps > FLOW_STEPS:
        raise ConfigError(f"flows of more than {FLOW_STEPS} steps are not stored")
    near = links.source_step < steps if direction == "after" else links.source_step >= -steps
    mine = links.filter((links.anchor == touchpoint) & (links.direction == direction) & near)
    n = anchors.filter(anchors.anchor == touchpoint)
    return (mine.select("source_step", "source", "target_step", "target", "n_journeys",
                        "n_converted"),
            n.aggregate(n=n.n_journeys.sum().fill_null(0)))


def flows_frame(counts: pd.DataFrame, n_anchor: int, direction: str) -> pd.DataFrame:
    """Shares and conversion rates for :func:`flow_links` counts, ordered for a Sankey."""
    cols = ["source_step", "source", "target_step", "target", "n_journeys", "share",
            "conversion_rate"]
    if counts.empty:
        return pd.DataFrame(columns=cols)
    df = counts.copy()
    df["share"] = df.n_journeys / n_anchor if n_anchor else float("nan")
    df["conversion_rate"] = df.n_converted / df.n_journeys
    key = df.source_step.abs()
    df = df.assign(_k=key).sort_values(["_k", "n_journeys", "source", "target"],
                                       ascending=[True, False, True, True])
    return df[cols].reset_index(drop=True)


def repeat_touches(tagged: ir.Table) -> ir.Table:
    """Per touchpoint: journeys, touches, repeats and loops (see the module docstring)."""
    t = tagged.filter(~tagged.is_conversion)
    jconv = tagged.group_by("journey_id").agg(_converted=tagged.is_conversion.any())
    per = t.group_by(["touchpoint", "journey_id"]).agg(
        touches=t.count(), visits=(~t._repeat_tp.fill_null(False)).cast("int64").sum())
    per = per.join(jconv, "journey_id")
    loop = per.visits >= 2
    agg = per.group_by("touchpoint").agg(
        journeys=per.count(),
        touches=per.touches.sum(),
        repeated_journeys=(per.touches >= 2).cast("int64").sum(),
        loop_journeys=loop.cast("int64").sum(),
        conv_loop=(loop & per._converted).cast("int64").sum(),
        conv_no_loop=(~loop & per._converted).cast("int64").sum(),
    )
    return agg


# every count is over journeys, so a sum over customers
REPEATS = register(Rollup("repeat_touches", ("touchpoint",), repeat_touches,
                          ("journey_id", "touchpoint", "is_conversion", "_repeat_tp"),
                          size="journeys"))


def repeats_frame(agg: pd.DataFrame) -> pd.DataFrame:
    """Rates for :func:`repeat_touches` (one row per touchpoint, most looped first)."""
    df = agg.copy()
    n = df.journeys.astype("float64")
    df["touches_per_journey"] = df.touches / n
    df["repeat_rate"] = df.repeated_journeys / n
    df["loop_rate"] = df.loop_journeys / n
    loops = df.loop_journeys.astype("float64")
    df["conversion_rate_loop"] = df.conv_loop / loops.where(loops > 0)
    rest = n - loops
    df["conversion_rate_no_loop"] = df.conv_no_loop / rest.where(rest > 0)
    df = df.sort_values(["loop_journeys", "touchpoint"], ascending=[False, True])
    return df[["touchpoint", "journeys", "touches", "touches_per_journey", "repeated_journeys",
               "repeat_rate", "loop_journeys", "loop_rate", "conversion_rate_loop",
               "conversion_rate_no_loop"]].reset_index(drop=True)


def first_last(tagged: ir.Table, *, churn_days: float = 30.0) -> ir.Table:
    """Per touchpoint: n_first_touch, n_last_touch (converting journeys) and
    n_last_before_churn (churned buyers' last event)."""
    s = journey_steps(tagged)
    touches = s.filter(s.node != CONVERSION)
    conv_j = s.filter(s.node == CONVERSION).select("journey_id").distinct()
    tj = touches.join(conv_j, "journey_id")
    ends = tj.group_by("journey_id").agg(first=tj.node.argmin(tj.pos), last=tj.node.argmax(tj.pos))
    parts = [
        ends.select(touchpoint=ends.first, _f=ibis.literal(1), _l=ibis.literal(0),
                    _c=ibis.literal(0)),
        ends.select(touchpoint=ends["last"], _f=ibis.literal(0), _l=ibis.literal(1),
                    _c=ibis.literal(0)),
    ]
    t = tagged
    end_of_data = t.occurred_at.max().as_scalar()
    order = ibis.struct({"at": t.occurred_at, "c": t.is_conversion.cast("int64"),
                         "id": t.event_id})
    cust = t.group_by("customer_id").agg(
        _last_at=t.occurred_at.max(), _bought=t.is_conversion.any(),
        _last_tp=t.touchpoint.fill_null("(unknown)").argmax(order))
    cutoff = end_of_data - ibis.interval(seconds=round(churn_days * 86400))
    churned = cust.filter(cust._bought & (cust._last_at < cutoff))
    parts.append(churned.select(touchpoint=churned._last_tp, _f=ibis.literal(0),
                                _l=ibis.literal(0), _c=ibis.literal(1)))
    long = ibis.union(*parts)
    return long.group_by("touchpoint").agg(n_first_touch=long._f.sum(),
                                           n_last_touch=long._l.sum(),
                                           n_last_before_churn=long._c.sum())


def first_last_frame(counts: pd.DataFrame) -> pd.DataFrame:
    """Shares of :func:`first_last` counts (each column's share sums to 1)."""
    df = counts.copy()
    for col in ("n_first_touch", "n_last_touch", "n_last_before_churn"):
        total = df[col].sum()
        df[col.replace("n_", "share_")] = df[col] / total if total else float("nan")
    df = df.sort_values(["n_last_touch", "touchpoint"], ascending=[False, True])
    return df[["touchpoint", "n_first_touch", "share_first_touch", "n_last_touch",
               "share_last_touch", "n_last_before_churn",
               "share_last_before_churn"]].reset_index(drop=True)

