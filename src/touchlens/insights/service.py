"""Workspace-level insights: read the store, run the Ibis expressions, finish in pandas.

The :class:`~touchlens.workspace.Workspace` methods ``funnel``, ``flows``, ``journey_map``,
``moments_of_truth``, ``revenue_at_risk``, ``consistency``, ``handoffs`` and
``recommendations`` delegate here. Optional inputs from other layers are picked up when the
workspace offers them: the voice of customer (``ws.voc``: per-response sentiment as an
experience signal and on the emotion curve, topic × touchpoint pain points, rising topics —
:func:`voc_sentiment`, :func:`voc_pain_points`, :func:`voc_topics`) and the loyalty layer's
RFM segments for ``funnel(by="segment")`` (:func:`rfm_segments`); without them the analyses
run on events, feedback scores and recorded failures alone. The attribution layer's
touchpoint credits (``ws.attribution(model="markov", level="touchpoint")``,
:func:`attributed_revenue`) weigh the findings that carry no money figure of their own.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.insights import consistency as C
from touchlens.insights import flows as F
from touchlens.insights import funnels as FU
from touchlens.insights import journey_map as JM
from touchlens.insights import recommend as R
from touchlens.insights.inputs import (
    cached_journey_events,
    parse_duration,
    resolved_feedback,
    stage_of,
)
from touchlens.insights.moments import DAYS_PER_MONTH, MomentsResult, Windows, analyse
from touchlens.store.schema import STAGES

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

_UNSET: Any = object()  # "look it up" (None means "there is none")


def _sentiment(ws: Workspace, given: Any) -> ir.Table | None:
    return voc_sentiment(ws) if given is _UNSET else given


# ---------------------------------------------------------------- hooks into other layers


def _call(ws: Workspace, name: str, **kwargs: Any) -> pd.DataFrame | None:
    method = getattr(ws, name, None)
    if not callable(method):
        return None
    return method(**kwargs)


def _voc(ws: Workspace, name: str, **kwargs: Any) -> pd.DataFrame | None:
    """``ws.voc.<name>(**kwargs)`` when the voice-of-customer layer is there, else None.

    A failure there must not stop the insights that do not need it: it becomes a warning.
    """
    voc = getattr(ws, "voc", None)
    method = getattr(voc, name, None) if voc is not None else None
    if not callable(method):
        return None
    try:
        return method(**kwargs)
    except Exception as exc:  # an optional layer: report, then go on without it
        warnings.warn(f"voice of customer unavailable ({name}): {exc}", stacklevel=3)
        return None


def voc_sentiment(ws: Workspace) -> ir.Table | None:
    """Per-response sentiment (response_id, sentiment label, score −1..1) from
    ``ws.voc.sentiment()``, when the workspace has the voice-of-customer layer."""
    df = _voc(ws, "sentiment")
    if df is None or df.empty:
        return None
    label = next((c for c in ("sentiment", "label") if c in df), None)
    score = next((c for c in ("sentiment_score", "score") if c in df), None)
    if label is None or score is None or "response_id" not in df:
        return None
    frame = pd.DataFrame({"response_id": df["response_id"].astype("string"),
                          "sentiment": df[label].astype("string"),
                          "score": df[score].astype("float64")})
    return ibis.memtable(frame)


def voc_pain_points(ws: Workspace, stage: dict[str, str]) -> pd.DataFrame | None:
    """Topic × touchpoint pain points of ``ws.voc.pain_points()`` with at least
    ``MIN_AFFECTED`` negative mentions, in the journey map's pain point columns."""
    df = _voc(ws, "pain_points", top=None)
    if df is None or df.empty or not {"topic", "touchpoint", "n_negative"} <= set(df):
        return None
    df = df[df["n_negative"] >= JM.MIN_AFFECTED]
    detail = [f"{int(r.n_negative):,} negative mentions of {r.topic} at {r.touchpoint}"
              + (f"; CSAT {r.csat_gap:.0f} points below the other answers there"
                 if pd.notna(getattr(r, "csat_gap", None)) else "")
              for r in df.itertuples()]
    return pd.DataFrame({
        "touchpoint": df["touchpoint"], "stage": df["touchpoint"].map(stage),
        "source": "voc:" + df["topic"].astype(str),
        "affected_customers": df["n_negative"].astype("int64"),
        "bad_share": df.get("share_negative"), "moment_of_truth": False, "detail": detail})


def voc_topics(ws: Workspace) -> pd.DataFrame | None:
    """Topic volumes and trends of ``ws.voc.topics()`` (for the rising-complaints check)."""
    return _voc(ws, "topics")


def attributed_revenue(ws: Workspace, model: str = "markov") -> pd.Series | None:
    """Revenue credited to each touchpoint by ``ws.attribution(model=, level="touchpoint")``
    (the attribution layer), when the workspace has it; used to weigh the findings that have
    no money figure of their own."""
    method = getattr(ws, "attribution", None)
    if not callable(method):
        return None
    try:
        df = method(model=model, level="touchpoint")
    except Exception as exc:  # an optional layer: report, then go on without it
        warnings.warn(f"attribution unavailable: {exc}", stacklevel=2)
        return None
    if df is None or not {"touchpoint", "revenue"} <= set(df.columns):
        return None
    return df.groupby("touchpoint")["revenue"].sum()


def rfm_segments(ws: Workspace) -> pd.DataFrame | None:
    """customer_id → RFM segment from the loyalty layer (``Workspace.rfm()``), for splits."""
    df = _call(ws, "rfm")
    if df is None or df.empty or "segment" not in df:
        return None
    return df[["customer_id", "segment"]]


# ---------------------------------------------------------------- paths


def funnel(ws: Workspace, steps: Sequence[str] | str | None = None, *,
           within: str | float | None = None, by: str | None = None, per: str = "customer",
           segments: pd.DataFrame | None = None) -> pd.DataFrame:
    """Stage funnel (``steps=None``) or a custom funnel; see :mod:`.funnels`."""
    names = FU.validate_steps(steps)
    seconds = parse_duration(within)
    if by == "segment" and segments is None:
        segments = rfm_segments(ws)
        if segments is None:
            raise ConfigError("by='segment' needs segments (customer_id, segment) or the "
                              "loyalty layer's RFM segments")
    seg = None if segments is None else ibis.memtable(
        segments[["customer_id", "segment"]].astype({"customer_id": "string",
                                                     "segment": "string"}))
    tagged = ws.journey_events()
    if names is None:
        if seconds is not None:
            raise ConfigError("within applies to custom funnels: give steps too")
        names = list(STAGES)
        units = FU.stage_funnel_units(tagged, ws.touchpoints(), per=per, by=by, segments=seg)
    else:
        units = FU.funnel_units(tagged, names, within_seconds=seconds, per=per, by=by,
                                segments=seg)
    return FU.funnel_frame(ws.store.execute(FU.funnel_counts(units, len(names))), names, by)


def flows(ws: Workspace, touchpoint: str, *, direction: str = "after",
          steps: int = 3) -> pd.DataFrame:
    """Sankey links around ``touchpoint``; see :mod:`.flows`."""
    counts, anchor = F.flow_links(ws.journey_events(), touchpoint, direction=direction,
                                  steps=steps)
    n_anchor = int(ws.store.execute(anchor).iloc[0, 0])
    return F.flows_frame(ws.store.execute(counts), n_anchor, direction)


def repeats(ws: Workspace) -> pd.DataFrame:
    """Loops and repeated touches per touchpoint."""
    return F.repeats_frame(ws.store.execute(F.repeat_touches(ws.journey_events())))


def first_last(ws: Workspace, *, churn_days: float = 30.0) -> pd.DataFrame:
    """First/last touchpoints before conversion and before churn."""
    return F.first_last_frame(ws.store.execute(F.first_last(ws.journey_events(),
                                                            churn_days=churn_days)))


# ---------------------------------------------------------------- moments of truth


def _windows(ws: Workspace, conversion_days: float | None, repeat_days: float) -> Windows:
    return Windows(conversion_days=conversion_days or ws.settings.lookback_days,
                   repeat_days=repeat_days)


def moments(ws: Workspace, *, conversion_days: float | None = None, repeat_days: float = 90.0,
            segments: pd.DataFrame | None = None, tagged: ir.Table | None = None,
            sentiment: Any = _UNSET, catalogue: pd.DataFrame | None = None) -> MomentsResult:
    """Moments of truth and revenue at risk in one run (VoC sentiment when available)."""
    return analyse(ws, windows=_windows(ws, conversion_days, repeat_days), segments=segments,
                   sentiment=_sentiment(ws, sentiment), tagged=tagged, catalogue=catalogue)


# ---------------------------------------------------------------- journey map


def journey_map(ws: Workspace, *, burst: int = 3, burst_hours: float = 24.0,
                result: MomentsResult | None = None, tagged: ir.Table | None = None,
                sentiment: Any = _UNSET, catalogue: pd.DataFrame | None = None
                ) -> JM.JourneyMap:
    """The data-driven journey map; see :mod:`.journey_map`."""
    if tagged is None:
        with cached_journey_events(ws) as cached:
            return journey_map(ws, burst=burst, burst_hours=burst_hours, result=result,
                               tagged=cached, sentiment=sentiment, catalogue=catalogue)
    sentiment = _sentiment(ws, sentiment)
    catalogue = ws.touchpoints() if catalogue is None else catalogue
    result = result or moments(ws, tagged=tagged, sentiment=sentiment, catalogue=catalogue)
    ex = ws.store.execute
    feedback = resolved_feedback(ws.store.table("feedback"), ws.store.table("identity_map"))
    tp_reach, stage_reach, n_customers = JM.split_reach(ex(JM.reach_counts(tagged,
                                                                           catalogue)))
    tp_counts, tp_sent = JM.feedback_counts(feedback, catalogue, "touchpoint", sentiment)
    st_counts, st_sent = JM.feedback_counts(feedback, catalogue, "stage", sentiment)
    tps = JM.touchpoint_table(catalogue, tp_reach, ex(tp_counts),
                              None if tp_sent is None else ex(tp_sent), n_customers,
                              stage_reach)
    stages = JM.stage_table(tps, stage_reach, ex(st_counts),
                            None if st_sent is None else ex(st_sent), n_customers)
    pains = JM.pain_point_table(result.moments, result.revenue_at_risk,
                                voc_pain_points(ws, stage_of(catalogue)))
    mot = result.moments.loc[result.moments["moment_of_truth"].astype(bool)]
    mot = mot.reset_index(drop=True)
    tps["pain_point"] = tps["touchpoint"].isin(pains["touchpoint"])
    tps["moment_of_truth"] = tps["touchpoint"].isin(mot["touchpoint"])
    stages["pain_points"] = stages["stage"].map(
        pains.groupby("stage")["touchpoint"].nunique()).fillna(0).astype("int64")
    stages["moments_of_truth"] = stages["stage"].map(
        mot.groupby("stage")["touchpoint"].nunique()).fillna(0).astype("int64")
    bursts = ex(JM.duplicated_messages(tagged, burst=burst, burst_hours=burst_hours))
    gaps = JM.gap_table(tps, bursts, burst=burst, burst_hours=burst_hours)
    return JM.JourneyMap(stages=stages, touchpoints=tps, pain_points=pains, gaps=gaps,
                         moments=mot, n_customers=n_customers)


# ---------------------------------------------------------------- consistency


def consistency(ws: Workspace, *, purposes: dict[str, str] | None = None,
                tagged: ir.Table | None = None, sentiment: Any = _UNSET,
                catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per purpose × channel metrics, gaps, flags and the consistency index."""
    tagged = tagged if tagged is not None else ws.journey_events()
    ex = ws.store.execute
    catalogue = ws.touchpoints() if catalogue is None else catalogue
    purposes = C.purpose_map(catalogue, ex(C.event_mix(tagged)), purposes)
    feedback = resolved_feedback(ws.store.table("feedback"), ws.store.table("identity_map"))
    sentiment = _sentiment(ws, sentiment)
    sent = None if sentiment is None else ex(C.channel_sentiment(feedback, sentiment,
                                                                 purposes))
    return C.consistency_frame(ex(C.channel_journeys(tagged, purposes)),
                               ex(C.channel_feedback(feedback, purposes)), sent,
                               ex(C.support_episodes(tagged, purposes)))


def handoffs(ws: Workspace) -> pd.DataFrame:
    """Channel switches inside journeys and their success rate."""
    return C.handoffs_frame(ws.store.execute(C.channel_handoffs(ws.journey_events())))


# ---------------------------------------------------------------- recommendations


def recommendations(ws: Workspace, *, attribution_model: str | None = "markov"
                    ) -> pd.DataFrame:
    """The ranked "what to fix first" list; see :mod:`.recommend`. ``attribution_model``:
    the attribution layer's model whose touchpoint credits are quoted (None: skip it)."""
    sentiment = voc_sentiment(ws)
    catalogue = ws.touchpoints()  # read once, shared by the three analyses
    with cached_journey_events(ws) as tagged:
        result = moments(ws, tagged=tagged, sentiment=sentiment, catalogue=catalogue)
        jm = journey_map(ws, result=result, tagged=tagged, sentiment=sentiment,
                         catalogue=catalogue)
        cons = consistency(ws, tagged=tagged, sentiment=sentiment, catalogue=catalogue)
        ex = ws.store.execute
        feedback = resolved_feedback(ws.store.table("feedback"),
                                     ws.store.table("identity_map"))
        trend = ex(R.feedback_trend(feedback))
        jsd = R.js_divergence(ex(R.message_mix(tagged)))
    topics = voc_topics(ws)
    months = max(float(result.value.get("span_days") or 0.0) / DAYS_PER_MONTH, 1e-9)
    scores = jm.touchpoints[["touchpoint", "csat"]].assign(csat=lambda d: d.csat / 100)
    rows = (R.pain_point_actions(result.revenue_at_risk, result.moments, scores)
            + R.consistency_actions(cons)
            + R.check_actions(jm.touchpoints, jm.gaps, trend, jsd, jm.n_customers,
                              attributed=None if attribution_model is None
                              else attributed_revenue(ws, attribution_model), months=months)
            + R.topic_actions(topics))
    return R.rank(rows)
