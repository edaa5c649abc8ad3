"""The journey map built from data (seed 003): stages, touchpoints, emotion, pain points, gaps.

:class:`JourneyMap` holds tidy tables:

- ``stages`` — one row per stage (awareness → advocacy): customers reached (distinct
  customers with an event at one of its touchpoints), ``share`` of all customers, active and
  owned touchpoints, touches, CSAT (top-2-box %), CSAT mean, NPS, CES, mean sentiment (when
  voice-of-customer results are given), each with n, and the ``emotion`` index;
- ``touchpoints`` — one row per (stage, touchpoint): reach, ``share_of_stage`` (reach /
  stage customers), ``share_of_customers``, touches, the same scores, ``emotion``, and
  ``pain_point`` / ``moment_of_truth`` flags;
- ``pain_points`` — touchpoint × signal rows where ≥ 10 customers had a bad experience and
  either it is a moment of truth or ≥ 10% of the customers measured there had a bad one;
  VoC pain points are appended when given;
- ``gaps`` — ``no_owned_touchpoint`` (a stage whose active touchpoints are all third-party,
  control = indirect), ``empty_stage`` (no active touchpoint) and ``duplicated_messages``
  (customers who got ≥ ``burst`` messages — delivered/send/impression events — of the same
  touchpoint within ``burst_hours``);
- ``moments`` — the moments of truth (:mod:`touchlens.insights.moments`).

Emotion index (−1 … +1): the n-weighted mean of the available scores mapped to −1..1 —
CSAT mean (x − 3) / 2, CES mean (x − 4) / 3, NPS / 100, sentiment score as is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.insights.inputs import stage_name, stage_of, stage_rank, workspace_stage_ranks
from touchlens.journeys.rollups import Rollup, register
from touchlens.journeys.touchpoints import (
    BURST,
    BURST_HOURS,
    customer_touchpoints,
    message_bursts,
)
from touchlens.metrics.cx import cx_aggregates, cx_counts, cx_scores
from touchlens.store.schema import STAGES

if TYPE_CHECKING:
    from touchlens.insights.moments import MomentsResult

MIN_AFFECTED = 10
MIN_BAD_SHARE = 0.10


@dataclass
class JourneyMap:
    """The journey map's tables (see the module docstring)."""

    stages: pd.DataFrame
    touchpoints: pd.DataFrame
    pain_points: pd.DataFrame
    gaps: pd.DataFrame
    moments: pd.DataFrame
    n_customers: int = 0

    def tables(self) -> dict[str, pd.DataFrame]:
        """Name → table."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if isinstance(getattr(self, f.name), pd.DataFrame)}


def reach_by(tagged: ir.Table, catalogue: pd.DataFrame, level: str) -> ir.Table:
    """Customers reached and touches per ``level`` ("touchpoint" or "stage")."""
    t = tagged.mutate(stage=stage_name(stage_rank(tagged.touchpoint, catalogue)))
    return t.group_by(level).agg(reach=t.customer_id.nunique(), touches=t.count())


def reach_counts(per_customer: ir.Table, catalogue: pd.DataFrame | dict[str, int]
                 ) -> ir.Table:
    """:func:`reach_by` for both levels and the customer total in one query, long: ``level``
    ("touchpoint" | "stage" | "all"), ``key`` (the touchpoint or stage; NULL for "all"),
    ``reach``, ``touches``.

    From the counts per customer and touchpoint (:func:`touchlens.journeys.customer_touchpoints`):
    a touchpoint's rows are its distinct customers (counted, not de-duplicated again); a
    stage's and the total's reach count their distinct customers over those rows, and the
    touches are summed — the same numbers as counting over the events.
    """
    pairs = per_customer.select("customer_id", "touchpoint", _n=per_customer.touches)
    pairs = pairs.mutate(stage=stage_name(stage_rank(pairs.touchpoint, catalogue)))

    touches = pairs._n.sum().cast("int64")
    distinct = pairs.customer_id.nunique().cast("int64")
    parts = [pairs.group_by(key=pairs.touchpoint.cast("string")).agg(
        reach=pairs.count().cast("int64"), touches=touches).mutate(
        level=ibis.literal("touchpoint"))]
    parts.append(pairs.group_by(key=pairs.stage.cast("string")).agg(
        reach=distinct, touches=touches).mutate(level=ibis.literal("stage")))
    parts.append(pairs.aggregate(reach=distinct, touches=touches).mutate(
        key=ibis.null().cast("string"), level=ibis.literal("all")))
    return ibis.union(*(t.select("level", "key", "reach", "touches") for t in parts))


def _reach_of_events(tagged: ir.Table, ranks: dict[str, int]) -> ir.Table:
    per_customer = tagged.group_by(["customer_id", "touchpoint"]).agg(touches=tagged.count())
    return reach_counts(per_customer, ranks)


# :func:`reach_counts` stored with the journeys: a customer counts once per touchpoint, per
# stage and in the total, so every reach is a sum over customers; built with the
# catalogue's stage ranks
REACH = register(Rollup("journey_map_reach", ("level", "key"), _reach_of_events,
                        ("customer_id", "touchpoint"), size="touches",
                        context_of=workspace_stage_ranks))


def split_reach(counts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """The executed :func:`reach_counts` as (touchpoint reach, stage reach, customers), the
    first two shaped like :func:`reach_by`'s results."""
    def part(level: str) -> pd.DataFrame:
        rows = counts[counts["level"] == level]
        return pd.DataFrame({level: rows["key"].astype(object).where(rows["key"].notna(),
                                                                     None),
                             "reach": rows["reach"].astype("int64"),
                             "touches": rows["touches"].astype("int64")}).reset_index(
            drop=True)

    total = counts.loc[counts["level"] == "all", "reach"]
    return part("touchpoint"), part("stage"), int(total.iloc[0]) if len(total) else 0


def feedback_counts(feedback: ir.Table, sentiment: ir.Table | None = None) -> ir.Table:
    """Survey score counts per touchpoint (:func:`~touchlens.metrics.cx.cx_aggregates`) and,
    when ``sentiment`` is given, the sum and number of the sentiment scores of the answers it
    scores there (``sentiment_sum``, ``sentiment_n``) — one query. Every column is a sum over
    answers, so the stages' counts are the sums of their touchpoints'
    (:func:`level_feedback_counts`)."""
    f = feedback.filter(feedback.touchpoint.notnull())
    if sentiment is None:
        return cx_counts(f, ["touchpoint"])
    s = sentiment.select(_rid="response_id", _score=sentiment.score.cast("float64"))
    j = f.left_join(s, f.response_id == s._rid)  # one score per answer at most
    return j.group_by("touchpoint").agg(**cx_aggregates(j), sentiment_sum=j._score.sum(),
                                        sentiment_n=j._score.count())


def level_feedback_counts(counts: pd.DataFrame, catalogue: pd.DataFrame, level: str
                          ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(score counts, mean sentiment and its n where some answer is scored — None without
    sentiment) per ``level`` (``touchpoint`` or ``stage``) from an executed
    :func:`feedback_counts`. A stage's counts are the sums over its touchpoints' (the
    catalogue's stages; answers at a touchpoint without one count at no stage)."""
    if level == "stage":
        stage = counts["touchpoint"].map(stage_of(catalogue))
        counts = (counts.drop(columns="touchpoint").assign(stage=stage)
                  .dropna(subset=["stage"]).groupby("stage", as_index=False, sort=True).sum())
    if "sentiment_n" not in counts:
        return counts, None
    n = counts["sentiment_n"].fillna(0).astype("int64")
    sent = pd.DataFrame({level: counts[level],
                         "sentiment": counts["sentiment_sum"].astype("float64") / n.where(n > 0),
                         "sentiment_n": n})
    return (counts.drop(columns=["sentiment_sum", "sentiment_n"]),
            sent.loc[n > 0].reset_index(drop=True))


def duplicated_messages(per_customer: ir.Table) -> ir.Table:
    """Per touchpoint: recipients, customers with a burst and the number of bursts, from
    per (customer, touchpoint) ``messages`` and ``bursts`` (the stored counts per customer
    and touchpoint for the default rule, else :func:`touchlens.journeys.touchpoints.
    message_bursts` with the rule asked for)."""
    m = per_customer.filter(per_customer.messages > 0)
    return m.group_by("touchpoint").agg(
        recipients=m.count(),
        customers_with_bursts=(m.bursts > 0).cast("int64").sum(),
        bursts=m.bursts.cast("int64").sum(),
    )


# the default rule's :func:`duplicated_messages`, stored with the journeys: a recipient is
# one customer's row, bursts are theirs, so each column is a sum over customers
BURSTS = register(Rollup("journey_map_bursts", ("touchpoint",),
                         lambda tagged: duplicated_messages(message_bursts(tagged)),
                         ("customer_id", "touchpoint", "event_type", "occurred_at",
                          "event_id"), size="recipients"))


def emotion_index(df: pd.DataFrame) -> pd.Series:
    """n-weighted mean of the scores mapped to −1..1 (see the module docstring)."""
    parts = [("csat_mean", "csat_n", lambda x: (x - 3) / 2), ("ces", "ces_n",
             lambda x: (x - 4) / 3), ("nps", "nps_n", lambda x: x / 100),
             ("sentiment", "sentiment_n", lambda x: x)]
    num = pd.Series(0.0, index=df.index)
    den = pd.Series(0.0, index=df.index)
    for value, n, scale in parts:
        if value not in df or n not in df:
            continue
        x = scale(df[value].astype("float64"))
        w = df[n].fillna(0).astype("float64").where(x.notna(), 0.0)
        num += (x.fillna(0.0) * w)
        den += w
    return num / den.where(den > 0)


_SCORES = ["csat", "csat_mean", "csat_n", "nps", "nps_n", "ces", "ces_n"]


def _with_scores(base: pd.DataFrame, counts: pd.DataFrame, sent: pd.DataFrame | None,
                 key: str) -> pd.DataFrame:
    scores = cx_scores(counts)[[key, *_SCORES]] if not counts.empty else pd.DataFrame(
        columns=[key, *_SCORES])
    out = base.merge(scores, on=key, how="left")
    if sent is not None and not sent.empty:
        out = out.merge(sent, on=key, how="left")
    else:
        out["sentiment"], out["sentiment_n"] = np.nan, 0
    for n in ("csat_n", "nps_n", "ces_n", "sentiment_n"):
        out[n] = out[n].fillna(0).astype("int64")
    out["emotion"] = emotion_index(out)
    return out


def touchpoint_table(catalogue: pd.DataFrame, reach: pd.DataFrame, counts: pd.DataFrame,
                     sent: pd.DataFrame | None, n_customers: int,
                     stage_reach: pd.DataFrame) -> pd.DataFrame:
    """Per touchpoint rows of the map (active touchpoints only)."""
    cat = catalogue[["touchpoint", "channel", "stage", "control", "cost_type"]]
    df = reach.merge(cat, on="touchpoint", how="left")
    df = _with_scores(df, counts, sent, "touchpoint")
    df["owned"] = df["control"] == "direct"
    sr = stage_reach.set_index("stage")["reach"]
    df["share_of_stage"] = df["reach"] / df["stage"].map(sr)
    df["share_of_customers"] = df["reach"] / n_customers if n_customers else np.nan
    order = {s: i for i, s in enumerate(STAGES)}
    df = df.assign(_o=df["stage"].map(order).fillna(len(STAGES)))
    # the touchpoint breaks ties in reach: the same data always gives the same map
    df = df.sort_values(["_o", "reach", "touchpoint"], ascending=[True, False, True]
                        ).drop(columns="_o")
    return df.reset_index(drop=True)


def stage_table(touchpoints: pd.DataFrame, stage_reach: pd.DataFrame, counts: pd.DataFrame,
                sent: pd.DataFrame | None, n_customers: int) -> pd.DataFrame:
    """Per stage rows: reach, share, touchpoints, scores and emotion."""
    base = pd.DataFrame({"stage": list(STAGES)})
    base = base.merge(stage_reach, on="stage", how="left")
    base["reach"] = base["reach"].fillna(0).astype("int64")
    base["touches"] = base["touches"].fillna(0).astype("int64")
    base["share"] = base["reach"] / n_customers if n_customers else np.nan
    tp = touchpoints.groupby("stage").agg(touchpoints=("touchpoint", "count"),
                                          owned_touchpoints=("owned", "sum"))
    base = base.merge(tp, on="stage", how="left")
    for col in ("touchpoints", "owned_touchpoints"):
        base[col] = base[col].fillna(0).astype("int64")
    return _with_scores(base, counts, sent, "stage")


def pain_point_table(moments: pd.DataFrame, risk: pd.DataFrame,
                     voc: pd.DataFrame | None = None) -> pd.DataFrame:
    """Pain points from the experience comparisons (+ VoC pain points when given).

    Per (touchpoint, signal) of ``moments``: affected and good customers (its first row's),
    the bad share = affected / (affected + good), the worst comparison (the smallest p-value
    among its moments of truth, else among all; ties: the first), whether any is a moment
    of truth; kept when ≥ :data:`MIN_AFFECTED` are affected and it is a moment of truth or
    the bad share is ≥ :data:`MIN_BAD_SHARE`; ``per_month_at_risk`` from ``risk``."""
    cols = ["touchpoint", "stage", "source", "affected_customers", "bad_share",
            "worst_outcome", "worst_gap", "moment_of_truth", "per_month_at_risk", "detail"]
    base = pd.DataFrame(columns=cols) if moments.empty else _experience_pain_points(
        moments, risk, cols)
    if voc is not None and not voc.empty:
        base = pd.concat([base, voc.reindex(columns=cols)], ignore_index=True)
    return base.sort_values(["moment_of_truth", "affected_customers", "touchpoint", "source"],
                            ascending=[False, False, True, True]).reset_index(drop=True)


def _experience_pain_points(moments: pd.DataFrame, risk: pd.DataFrame, cols: list[str]
                            ) -> pd.DataFrame:
    """:func:`pain_point_table`'s rows from the comparisons, one grouped pass (a loop over
    the groups cost ~1 ms each)."""
    keys = ["touchpoint", "signal"]
    m = moments.reset_index(drop=True)
    mot = m["moment_of_truth"].astype(bool)
    first = m.groupby(keys, sort=False).nth(0).set_index(keys)
    any_mot = mot.groupby([m["touchpoint"], m["signal"]], sort=False).any()
    # the worst comparison: moments of truth first, then by p-value (stable: ties keep order)
    ranked = m.assign(_not_mot=~mot).sort_values(["_not_mot", "p_value"], kind="stable",
                                                  na_position="last")
    worst = ranked.drop_duplicates(keys).set_index(keys)
    affected = first["affected_customers"].fillna(0).astype("int64")
    good = first["good_customers"].fillna(0).astype("int64")
    total = affected + good
    share = (affected / total.where(total > 0)).astype("float64")
    is_mot = any_mot.reindex(first.index).astype(bool)
    keep = (affected >= MIN_AFFECTED) & (is_mot | (share >= MIN_BAD_SHARE))
    per_month = risk.drop_duplicates(keys).set_index(keys)["per_month"].astype("float64")
    idx = first.index[keep.to_numpy()]
    tp, sig = idx.get_level_values(0), idx.get_level_values(1)
    a, sh = affected.loc[idx], share.loc[idx]
    return pd.DataFrame({
        "touchpoint": tp, "stage": first.loc[idx, "stage"].to_numpy(), "source": sig,
        "affected_customers": a.to_numpy(), "bad_share": sh.to_numpy(),
        "worst_outcome": worst.loc[idx, "outcome"].to_numpy(),
        "worst_gap": worst.loc[idx, "gap"].to_numpy(),
        "moment_of_truth": is_mot.loc[idx].to_numpy(),
        "per_month_at_risk": per_month.reindex(idx).to_numpy(),
        "detail": [f"{n:,} customers ({x:.0%}) with {s} at {t}"
                   for n, x, s, t in zip(a, sh, sig, tp, strict=True)],
    }, columns=cols)


def gap_table(touchpoints: pd.DataFrame, bursts: pd.DataFrame, *, burst: int,
              burst_hours: float) -> pd.DataFrame:
    """Stages without owned touchpoints, empty stages and duplicated messages."""
    rows = []
    for stage in STAGES:
        tps = touchpoints[touchpoints["stage"] == stage]
        if tps.empty:
            rows.append({"kind": "empty_stage", "stage": stage, "touchpoint": None, "n": 0,
                         "share": np.nan, "detail": f"no touchpoint is active in {stage}"})
        elif not tps["owned"].any():
            rows.append({"kind": "no_owned_touchpoint", "stage": stage, "touchpoint": None,
                         "n": len(tps), "share": np.nan,
                         "detail": f"{stage} relies only on third-party touchpoints: "
                                   + ", ".join(tps["touchpoint"])})
    stage_of = dict(zip(touchpoints["touchpoint"], touchpoints["stage"], strict=False))
    for b in bursts[bursts["customers_with_bursts"] > 0].itertuples():
        share = b.customers_with_bursts / b.recipients if b.recipients else np.nan
        rows.append({"kind": "duplicated_messages", "stage": stage_of.get(b.touchpoint),
                     "touchpoint": b.touchpoint, "n": int(b.customers_with_bursts),
                     "share": share,
                     "detail": f"{int(b.customers_with_bursts):,} of {int(b.recipients):,} "
                               f"recipients got {burst}+ {b.touchpoint} messages within "
                               f"{burst_hours:g} h ({int(b.bursts):,} times)"})
    out = pd.DataFrame(rows, columns=["kind", "stage", "touchpoint", "n", "share", "detail"])
    # ties broken by touchpoint (the bursts arrive in no particular order); stage rows,
    # without one, stay in stage order
    return out.sort_values(["kind", "n", "touchpoint"], ascending=[True, False, True],
                           na_position="last").reset_index(drop=True)


@dataclass
class MapParts:
    """What the journey map reads besides the moments of truth (:func:`map_parts`)."""

    touchpoints: pd.DataFrame
    stages: pd.DataFrame
    n_customers: int
    voc_pains: pd.DataFrame | None
    bursts: pd.DataFrame


def map_parts(ex: Callable[[ir.Expr], pd.DataFrame], tagged: ir.Table, feedback: ir.Table,
              sentiment: ir.Table | None, catalogue: pd.DataFrame,
              voc_pains: Callable[[], pd.DataFrame | None], *, burst: int,
              burst_hours: float, per_customer: ir.Table | None = None,
              reach: ir.Table | None = None, bursts: ir.Table | None = None) -> MapParts:
    """Reach, scores and bursts run with ``ex`` (a store's execute), and ``voc_pains()``:
    everything the map needs but the moments, so it can be computed beside them.
    ``per_customer``: ``tagged``'s counts per customer and touchpoint when stored (else
    computed from ``tagged``); ``reach``: its :func:`reach_counts` when stored
    (:data:`REACH`, built with ``catalogue``'s stages); ``bursts``: its
    :func:`duplicated_messages` under the default rule when stored (:data:`BURSTS`)."""
    if per_customer is None:
        per_customer = customer_touchpoints(tagged)
    if reach is None:
        reach = reach_counts(per_customer, catalogue)
    tp_reach, stage_reach, n_customers = split_reach(ex(reach))
    counts = ex(feedback_counts(feedback, sentiment))
    tp_counts, tp_sent = level_feedback_counts(counts, catalogue, "touchpoint")
    st_counts, st_sent = level_feedback_counts(counts, catalogue, "stage")
    tps = touchpoint_table(catalogue, tp_reach, tp_counts, tp_sent, n_customers, stage_reach)
    stages = stage_table(tps, stage_reach, st_counts, st_sent, n_customers)
    pains = voc_pains()
    rule = (burst, burst_hours) == (BURST, BURST_HOURS)  # the rule the counts hold
    if not rule:
        bursts = duplicated_messages(message_bursts(tagged, burst=burst,
                                                    burst_hours=burst_hours))
    elif bursts is None:
        bursts = duplicated_messages(per_customer)
    return MapParts(tps, stages, n_customers, pains, ex(bursts))


def assemble(result: MomentsResult, parts: MapParts, burst: int, burst_hours: float
             ) -> JourneyMap:
    """The journey map from the moments of truth (``result``) and :func:`map_parts`."""
    tps, stages = parts.touchpoints.copy(), parts.stages.copy()
    pains = pain_point_table(result.moments, result.revenue_at_risk, parts.voc_pains)
    mot = result.moments.loc[result.moments["moment_of_truth"].astype(bool)]
    mot = mot.reset_index(drop=True)
    tps["pain_point"] = tps["touchpoint"].isin(pains["touchpoint"])
    tps["moment_of_truth"] = tps["touchpoint"].isin(mot["touchpoint"])
    stages["pain_points"] = stages["stage"].map(
        pains.groupby("stage")["touchpoint"].nunique()).fillna(0).astype("int64")
    stages["moments_of_truth"] = stages["stage"].map(
        mot.groupby("stage")["touchpoint"].nunique()).fillna(0).astype("int64")
    gaps = gap_table(tps, parts.bursts, burst=burst, burst_hours=burst_hours)
    return JourneyMap(stages=stages, touchpoints=tps, pain_points=pains, gaps=gaps,
                      moments=mot, n_customers=parts.n_customers)
