"""The touchpoint catalogue: built-in entries, the user's entries, and auto-classified ones.

Grain: one row per touchpoint. ``source`` says where a row comes from (``builtin``, ``user``
— a touchpoints file overrides the built-in row of the same name — or ``auto`` for a touchpoint
seen in events that neither describes; see :mod:`touchlens.journeys.classify`). ``reviewed``
is False only for ``auto`` rows. ``n_events`` counts stored events per touchpoint.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.journeys.classify import classify
from touchlens.journeys.rollups import Rollup, register
from touchlens.store import schema as S

COLUMNS = [*S.TOUCHPOINTS.names, "source", "reviewed", "n_events"]


@cache
def builtin_catalogue() -> pd.DataFrame:
    """The catalogue shipped with touchlens (``catalogue_builtin.csv``)."""
    with resources.files("touchlens.journeys").joinpath("catalogue_builtin.csv").open(
            encoding="utf-8") as fh:
        frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return frame[S.TOUCHPOINTS.names].copy()


def usage_counts(events: ir.Table) -> ir.Table:
    """Events per (touchpoint, channel, event_type): ``n_events`` (a sum over customers, so
    kept as a rollup of the journey cache, :data:`USAGE`)."""
    return events.group_by(["touchpoint", "channel", "event_type"]).agg(
        n_events=events.count())


USAGE = register(Rollup("touchpoint_usage", ("touchpoint", "channel", "event_type"),
                        usage_counts, ("touchpoint", "channel", "event_type"),
                        size="n_events"))


def touchpoint_usage(events: ir.Table, counts: ir.Table | None = None) -> ir.Table:
    """One row per (touchpoint): events, main channel, most frequent event type (ties: the
    first name in sort order), from ``counts`` (:func:`usage_counts` of ``events``) when
    given."""
    counts = usage_counts(events) if counts is None else counts
    by_channel = counts.group_by(["touchpoint", "channel"]).agg(n=counts.n_events.sum())
    by_type = counts.group_by(["touchpoint", "event_type"]).agg(n=counts.n_events.sum())
    totals = by_channel.group_by("touchpoint").agg(n_events=by_channel.n.sum())
    top_channel = _most_frequent(by_channel, "channel")
    return totals.join(top_channel, "touchpoint").join(
        _most_frequent(by_type, "event_type"), "touchpoint").select(
        "touchpoint", "channel", "n_events", "event_type")


def _most_frequent(counts: ir.Table, column: str) -> ir.Table:
    """Per touchpoint, the ``column`` value with the largest ``n`` (ties: the smallest)."""
    order = ibis.window(group_by=counts.touchpoint, order_by=[ibis.desc(counts.n),
                                                               counts[column]])
    ranked = counts.mutate(_rank=ibis.row_number().over(order))
    return ranked.filter(ranked._rank == 0).select("touchpoint", column)


def catalogue(user: pd.DataFrame, usage: pd.DataFrame) -> pd.DataFrame:
    """Merge built-in, user and auto rows (small tables: metadata, not analytics)."""
    builtin = builtin_catalogue().assign(source="builtin")
    user = user[S.TOUCHPOINTS.names].assign(source="user")
    known = pd.concat([builtin[~builtin.touchpoint.isin(user.touchpoint)], user],
                      ignore_index=True)
    # a user row may leave taxonomy blank: fill it from the built-in row, then the rules
    base = builtin.set_index("touchpoint")
    for col in ("stage", "medium", "control", "cost_type", "primary_metric", "description"):
        blank = known[col].isna() | (known[col] == "")
        known.loc[blank, col] = known.loc[blank, "touchpoint"].map(base[col])
    rows = []
    for rec in known.to_dict("records"):
        guess = classify(rec["channel"], None)
        rows.append({**{k: rec[k] if pd.notna(rec[k]) and rec[k] != "" else guess.get(k, "")
                        for k in S.TOUCHPOINTS.names}, "source": rec["source"]})
    known = pd.DataFrame(rows, columns=[*S.TOUCHPOINTS.names, "source"])
    unseen = usage[~usage.touchpoint.isin(known.touchpoint)]
    auto = [{"touchpoint": u.touchpoint, "channel": u.channel,
             **classify(u.channel, u.event_type),
             "description": "auto-classified from its channel and events; review it",
             "source": "auto"} for u in unseen.itertuples()]
    out = pd.concat([known, pd.DataFrame(auto, columns=known.columns)], ignore_index=True)
    out["reviewed"] = out.source != "auto"
    counts = usage.set_index("touchpoint")["n_events"]
    out["n_events"] = out.touchpoint.map(counts).fillna(0).astype("int64")
    stage_order = {s: i for i, s in enumerate(S.STAGES)}
    out = out.assign(_o=out.stage.map(stage_order)).sort_values(["_o", "touchpoint"])
    return out.drop(columns="_o").reset_index(drop=True)[COLUMNS]
