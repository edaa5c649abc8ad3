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

Computed once per data version: on a workspace that keeps intermediate results
(``ws.memo``: the API's served workspaces, :mod:`touchlens.api.served`), the moments of
truth, the journey map, the consistency table and the attribution credits computed from
the workspace's own inputs are kept until the next write, so the journey map page, its
chart and the recommendations share them. A workspace that can hand out a sibling on
another cursor (``ws.sibling()``) gets the attribution credits computed beside the rest.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
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
    OwnInputs,
    beside,
    cached_journey_events,
    journey_cache_ready,
    memo,
    own_inputs,
    parse_duration,
    resolved_feedback,
    stage_of,
)
from touchlens.insights.moments import DAYS_PER_MONTH, MomentsResult, Windows, analyse
from touchlens.journeys.touchpoints import BURST, BURST_HOURS
from touchlens.store.schema import STAGES

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

_UNSET: Any = object()  # "look it up" (None means "there is none")


def _sentiment(ws: Workspace, given: Any) -> ir.Table | None:
    return voc_sentiment(ws) if given is _UNSET else given


def _own(ws: Workspace) -> AbstractContextManager[OwnInputs]:
    return own_inputs(ws, voc_sentiment)


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
    ``ws.voc.sentiment_scores()``, when the workspace has the voice-of-customer layer. An
    in-memory table: it joins the answers of whichever cursor reads it (the journey map's
    parts run on another one)."""
    df = _voc(ws, "sentiment_scores")
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
    df = _voc(ws, "pain_points", top=None, examples=0)  # the map shows no verbatims
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
        stages = (ws.stored_rollup(FU.CUSTOMER_STAGES) if by is None and per == "customer"
                  else None)
        if stages is not None:
            units = FU.stored_units(stages)
        else:
            units = FU.stage_funnel_units(tagged, ws.touchpoints(), per=per, by=by,
                                          segments=seg)
    else:
        units = FU.funnel_units(tagged, names, within_seconds=seconds, per=per, by=by,
                                segments=seg)
    return FU.funnel_frame(ws.store.execute(FU.funnel_counts(units, len(names))), names, by)


def flows(ws: Workspace, touchpoint: str, *, direction: str = "after",
          steps: int = 3) -> pd.DataFrame:
    """Sankey links around ``touchpoint``; see :mod:`.flows` (read from the stored links
    when the journeys are stored and ``steps`` ≤ :data:`.flows.FLOW_STEPS`)."""
    F.check_flow(direction, steps)
    links = ws.stored_rollup(F.FLOW_LINKS) if steps <= F.FLOW_STEPS else None
    anchors = ws.stored_rollup(F.FLOW_ANCHORS) if links is not None else None
    if links is not None and anchors is not None:
        counts, anchor = F.stored_flow_links(links, anchors, touchpoint, direction=direction,
                                             steps=steps)
    else:
        counts, anchor = F.flow_links(ws.journey_events(), touchpoint, direction=direction,
                                      steps=steps)
    n_anchor = int(ws.store.execute(anchor).iloc[0, 0])
    return F.flows_frame(ws.store.execute(counts), n_anchor, direction)


def repeats(ws: Workspace) -> pd.DataFrame:
    """Loops and repeated touches per touchpoint (stored with stored journeys)."""
    counts = ws.stored_rollup(F.REPEATS)
    if counts is None:
        counts = F.repeat_touches(ws.journey_events())
    return F.repeats_frame(ws.store.execute(counts))


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
    windows = _windows(ws, conversion_days, repeat_days)
    if segments is None and tagged is None and sentiment is _UNSET and catalogue is None:
        with _own(ws) as own:
            return _own_moments(ws, own, windows)
    return analyse(ws, windows=windows, segments=segments, sentiment=_sentiment(ws, sentiment),
                   tagged=tagged, catalogue=catalogue)


def _own_moments(ws: Workspace, own: OwnInputs, windows: Windows) -> MomentsResult:
    """:func:`moments` of the workspace's own inputs (memoised)."""
    return memo(ws, "moments", (windows.conversion_days, windows.repeat_days),
                lambda: analyse(ws, windows=windows, sentiment=own.sentiment, tagged=own.tagged,
                                catalogue=own.catalogue, own=True))


# ---------------------------------------------------------------- journey map


def journey_map(ws: Workspace, *, burst: int = BURST, burst_hours: float = BURST_HOURS,
                result: MomentsResult | None = None, tagged: ir.Table | None = None,
                sentiment: Any = _UNSET, catalogue: pd.DataFrame | None = None
                ) -> JM.JourneyMap:
    """The data-driven journey map; see :mod:`.journey_map`."""
    if result is None and tagged is None and sentiment is _UNSET and catalogue is None:
        with _own(ws) as own:
            return _own_journey_map(ws, own, burst, burst_hours)
    if tagged is None:
        with cached_journey_events(ws) as cached:
            return journey_map(ws, burst=burst, burst_hours=burst_hours, result=result,
                               tagged=cached, sentiment=sentiment, catalogue=catalogue)
    sentiment = _sentiment(ws, sentiment)
    catalogue = ws.touchpoints() if catalogue is None else catalogue
    result = result or moments(ws, tagged=tagged, sentiment=sentiment, catalogue=catalogue)
    return _journey_map(ws, result, tagged, sentiment, catalogue, burst, burst_hours)


def _own_journey_map(ws: Workspace, own: OwnInputs, burst: int, burst_hours: float,
                     moments_out: list[MomentsResult] | None = None) -> JM.JourneyMap:
    """:func:`journey_map` of the workspace's own inputs (memoised, as its moments). The
    parts that do not need the moments are computed beside them where the workspace
    offers a sibling and its journeys are stored. The moments computed for it are appended
    to ``moments_out`` (a workspace without a memo would otherwise compute them again)."""

    def compute() -> JM.JourneyMap:
        sentiment, catalogue = own.sentiment, own.catalogue  # looked up on this thread

        def on_sibling(on: Workspace) -> JM.MapParts:
            return _map_parts(on, on.journey_events(), sentiment, catalogue, burst,
                              burst_hours, on.customer_touchpoints(),
                              on.stored_rollup(JM.REACH), on.stored_rollup(JM.BURSTS))

        def here() -> JM.MapParts:
            return _map_parts(ws, own.tagged, sentiment, catalogue, burst, burst_hours,
                              _own_counts(ws), ws.stored_rollup(JM.REACH),
                              ws.stored_rollup(JM.BURSTS))

        with beside(ws, on_sibling, parallel=journey_cache_ready(ws), here=here) as parts:
            result = _own_moments(ws, own, _windows(ws, None, 90.0))
            if moments_out is not None:
                moments_out.append(result)
            return JM.assemble(result, parts(), burst, burst_hours)

    return memo(ws, "journey_map", (burst, burst_hours), compute)


def _journey_map(ws: Workspace, result: MomentsResult, tagged: ir.Table,
                 sentiment: ir.Table | None, catalogue: pd.DataFrame, burst: int,
                 burst_hours: float) -> JM.JourneyMap:
    parts = _map_parts(ws, tagged, sentiment, catalogue, burst, burst_hours)
    return JM.assemble(result, parts, burst, burst_hours)


def _map_parts(ws: Workspace, tagged: ir.Table, sentiment: ir.Table | None,
               catalogue: pd.DataFrame, burst: int, burst_hours: float,
               per_customer: ir.Table | None = None, reach: ir.Table | None = None,
               bursts: ir.Table | None = None) -> JM.MapParts:
    """The map's parts of ``tagged``; ``per_customer``, ``reach``, ``bursts``: its stored
    counts per customer and touchpoint, reach and message bursts (the workspace's own
    journeys), else computed from ``tagged``."""
    # the map counts answers per touchpoint and stage: who gave them does not matter, so
    # the answers are not joined to the identity map (four such joins: ~0.3 s at 10M)
    feedback = ws.store.table("feedback")
    return JM.map_parts(ws.store.execute, tagged, feedback, sentiment, catalogue,
                        lambda: voc_pain_points(ws, stage_of(catalogue)), burst=burst,
                        burst_hours=burst_hours, per_customer=per_customer, reach=reach,
                        bursts=bursts)


def _own_counts(ws: Workspace) -> ir.Table | None:
    """The workspace's stored counts per customer and touchpoint, when its journeys are
    stored (the same journeys ``own.tagged`` reads); None: computed from them."""
    return ws.customer_touchpoints() if ws.journeys_stored() else None


# ---------------------------------------------------------------- consistency


def consistency(ws: Workspace, *, purposes: dict[str, str] | None = None,
                tagged: ir.Table | None = None, sentiment: Any = _UNSET,
                catalogue: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per purpose × channel metrics, gaps, flags and the consistency index."""
    if purposes is None and tagged is None and sentiment is _UNSET and catalogue is None:
        with _own(ws) as own:
            return _own_consistency(ws, own)
    return _consistency(ws, purposes, tagged if tagged is not None else ws.journey_events(),
                        _sentiment(ws, sentiment), catalogue)


def _own_consistency(ws: Workspace, own: OwnInputs) -> pd.DataFrame:
    """:func:`consistency` of the workspace's own inputs and purposes (memoised)."""
    return _consistency_of(ws, lambda: own.tagged, own.sentiment, own.catalogue)


def _consistency_of(ws: Workspace, tagged: Callable[[], ir.Table], sentiment: ir.Table | None,
                    catalogue: pd.DataFrame) -> pd.DataFrame:
    """:func:`_own_consistency` with the inputs given (the workspace's own: memoised)."""
    own = ws.journeys_stored()
    return memo(ws, "consistency", (), lambda: _consistency(
        ws, None, tagged(), sentiment, catalogue, ws.journeys_table() if own else None,
        rollup=ws.stored_rollup if own else None))


def _consistency(ws: Workspace, purposes: dict[str, str] | None, tagged: ir.Table,
                 sentiment: ir.Table | None, catalogue: pd.DataFrame | None,
                 journeys: ir.Table | None = None,
                 rollup: Callable[..., ir.Table | None] | None = None) -> pd.DataFrame:
    """:func:`consistency`; ``journeys``: ``tagged``'s stored journeys (the workspace's
    own), else what it needs of them is computed from ``tagged``; ``rollup``: the
    workspace's stored rollups (its own journeys and catalogue, no purposes given): the
    event mix and the journeys per purpose and channel are read where stored."""
    ex = ws.store.execute
    catalogue = ws.touchpoints() if catalogue is None else catalogue
    counted = None
    if rollup is not None and purposes is None:
        # the workspace's purposes: the stored journeys per purpose are built with them
        # (their context, handed over: working them out twice cost ~0.15 s each)
        purposes = C.workspace_purposes(ws)
        counted = rollup(C.CHANNEL_JOURNEYS, context=C.purposes_context(purposes))
    else:
        purposes = C.purpose_map(catalogue, ex(C.event_mix(tagged)), purposes)
    feedback = resolved_feedback(ws.store.table("feedback"), ws.store.table("identity_map"))
    sent = None if sentiment is None else ex(C.channel_sentiment(feedback, sentiment,
                                                                 purposes))
    if counted is None:
        counted = C.channel_journeys(tagged, purposes, journeys)
    return C.consistency_frame(ex(counted), ex(C.channel_feedback(feedback, purposes)), sent,
                               ex(C.support_episodes(tagged, purposes)))


def handoffs(ws: Workspace) -> pd.DataFrame:
    """Channel switches inside journeys and their success rate."""
    return C.handoffs_frame(ws.store.execute(C.channel_handoffs(ws.journey_events())))


# ---------------------------------------------------------------- recommendations


def attribution_credits(ws: Workspace, model: str = "markov") -> pd.Series | None:
    """:func:`attributed_revenue`, memoised per data version (see the module docstring)."""
    return memo(ws, "attributed_revenue", (model,), lambda: attributed_revenue(ws, model))


def recommendations(ws: Workspace, *, attribution_model: str | None = "markov"
                    ) -> pd.DataFrame:
    """The ranked "what to fix first" list; see :mod:`.recommend`. ``attribution_model``:
    the attribution layer's model whose touchpoint credits are quoted (None: skip it)."""

    def credits_and_topics(on: Workspace) -> tuple[pd.Series | None, pd.DataFrame | None]:
        credit = (None if attribution_model is None
                  else attribution_credits(on, attribution_model))
        return credit, voc_topics(on)

    # Where the workspace offers siblings on other cursors, the attribution credits and
    # topics, the consistency table and checks, and the map's own parts are computed beside
    # the moments of truth (those reading journeys only where they are stored).
    with _own(ws) as own, beside(ws, credits_and_topics) as side:
        sentiment, catalogue = own.sentiment, own.catalogue  # looked up once, here

        def consistency_and_checks(on: Workspace, tagged: Callable[[], ir.Table]
                                   ) -> tuple[pd.DataFrame, tuple[pd.DataFrame, float]]:
            return (_consistency_of(on, tagged, sentiment, catalogue),
                    memo(on, "recommendation_checks", (), lambda: _checks(on, tagged())))

        with beside(ws, lambda on: consistency_and_checks(on, on.journey_events),
                    here=lambda: consistency_and_checks(ws, lambda: own.tagged),
                    parallel=journey_cache_ready(ws)) as checked:
            computed: list[MomentsResult] = []
            jm = _own_journey_map(ws, own, BURST, BURST_HOURS, computed)  # moments beside parts
            # the map's moments: just computed, or (map memoised) from the memo as well
            result = (computed[0] if computed
                      else _own_moments(ws, own, _windows(ws, None, 90.0)))
            cons, (trend, jsd) = checked()
        credit, topics = side()
    months = max(float(result.value.get("span_days") or 0.0) / DAYS_PER_MONTH, 1e-9)
    scores = jm.touchpoints[["touchpoint", "csat"]].assign(csat=lambda d: d.csat / 100)
    rows = (R.pain_point_actions(result.revenue_at_risk, result.moments, scores)
            + R.consistency_actions(cons)
            + R.check_actions(jm.touchpoints, jm.gaps, trend, jsd, jm.n_customers,
                              attributed=credit, months=months)
            + R.topic_actions(topics))
    return R.rank(rows)


def _checks(ws: Workspace, tagged: ir.Table) -> tuple[pd.DataFrame, float]:
    """The feedback trend and the message-mix divergence the checks read (``tagged``: the
    workspace's own journeys: the mix is read where stored, :data:`.recommend.MESSAGE_MIX`)."""
    feedback = resolved_feedback(ws.store.table("feedback"), ws.store.table("identity_map"))
    trend = ws.store.execute(R.feedback_trend(feedback))
    mix = ws.stored_rollup(R.MESSAGE_MIX)
    if mix is None:
        mix = R.message_mix(tagged)
    return trend, R.js_divergence(ws.store.execute(mix))
