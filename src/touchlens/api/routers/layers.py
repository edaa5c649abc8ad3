"""Read routes over the optional analysis layers (read key): funnel, flows, journey map,
recommendations, voice of customer, loyalty and CLV, attribution, alerts and rolling KPIs,
AI-assistant visibility. A layer this version lacks answers 501 ("not available yet");
filters as in :mod:`touchlens.api.routers.analytics`. The ``*_chart`` functions draw the
same results for ``/v1/charts``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import pandas as pd
import plotly.graph_objects as go
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from touchlens import charts as C
from touchlens.api.deps import ReadKey, ScopeDep, State
from touchlens.api.output import frame_response
from touchlens.api.scope import Scope
from touchlens.api.served import ServedWorkspace
from touchlens.api.state import AppState
from touchlens.charts import data as D

router = APIRouter(prefix="/v1", tags=["layers"])
_ERRORS = {401: {"description": "No key, or an invalid or revoked key"},
           403: {"description": "A write key was used"},
           501: {"description": "This layer is not available in this version yet"}}


def available(state: AppState, method: str) -> bool:
    with state.workspace() as probe:
        return D.has(probe, method)


def layer_frame(state: AppState, scope: Scope, method: str, params: tuple,
                compute: Callable[[ServedWorkspace], pd.DataFrame]) -> pd.DataFrame:
    """``compute(ws)`` cached, or 501 when the Workspace has no ``method``."""
    if not available(state, method):
        raise HTTPException(501, f"{method}: not available yet in this version")
    return state.cached(method, scope, params, compute)


@router.get("/funnel", responses=_ERRORS, summary="Stage funnel with drop-off")
def funnel(_: ReadKey, state: State, scope: ScopeDep) -> Response:
    """step, step_name, n, rate_from_previous (+ Wilson bounds), rate_from_first, drop_off,
    n_dropped, median_hours, p90_hours."""
    return frame_response(layer_frame(state, scope, "funnel", (), lambda ws: ws.funnel()),
                          scope)


@router.get("/flows", responses=_ERRORS, summary="Flows around a touchpoint (Sankey links)")
def flows(_: ReadKey, state: State, scope: ScopeDep,
          touchpoint: Annotated[str, Query(min_length=1, max_length=100)],
          direction: Literal["after", "before"] = "after",
          steps: Annotated[int, Query(ge=1, le=6)] = 3) -> Response:
    """source_step, source, target_step, target, n_journeys, share, conversion_rate."""
    frame = layer_frame(state, scope, "flows", (touchpoint, direction, steps),
                        lambda ws: ws.flows(touchpoint, direction=direction, steps=steps))
    return frame_response(frame, scope)


@router.get("/journey-map", responses=_ERRORS, summary="The journey map per touchpoint")
def journey_map(_: ReadKey, state: State, scope: ScopeDep) -> Response:
    """Per touchpoint: stage, reach, CSAT/NPS/CES with n, sentiment, emotion, pain_point and
    moment_of_truth flags (the insights layer; the scorecard columns without it)."""
    frame = state.cached("journey_map_touchpoints", scope, (scope.channel,),
                         lambda ws: D.journey_map_touchpoints(ws, scope.channel))
    return frame_response(frame, scope)


@router.get("/recommendations", responses=_ERRORS, summary="What to fix first")
def recommendations(_: ReadKey, state: State, scope: ScopeDep) -> Response:
    """rank, action, kind, touchpoint, customers_affected, money_per_month (+ low/high),
    currency, confidence, score, evidence, metric_to_watch, estimate."""
    frame = layer_frame(state, scope, "recommendations", (),
                        lambda ws: ws.recommendations())
    return frame_response(frame, scope)


@router.get("/voc/{table}", responses=_ERRORS, summary="Voice of customer tables")
def voc(_: ReadKey, state: State, scope: ScopeDep,
        table: Literal["topics", "pain-points", "verbatims"],
        limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> Response:
    """``topics`` (mentions, negative share, trend), ``pain-points`` (topic × touchpoint with
    examples) or the latest ``verbatims`` (text, sentiment, topics)."""
    compute = {"topics": lambda ws: ws.voc.topics(),
               "pain-points": D.voc_pain_points,
               "verbatims": lambda ws: D.verbatims(ws, limit=limit)}[table]
    frame = layer_frame(state, scope, "voc", (table, limit), compute)
    return frame_response(frame, scope)


@router.get("/loyalty/{table}", responses=_ERRORS,
            summary="RFM segments, churn, cohort retention or predicted CLV")
def loyalty(_: ReadKey, state: State, scope: ScopeDep,
            table: Literal["rfm-segments", "churn", "cohorts", "clv"],
            limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
            offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """``rfm-segments``, ``churn`` (per month), ``cohorts`` (cohort × period retention) or
    ``clv`` (per customer: p_alive, expected purchases and spend, clv; paged, ``total``)."""
    method = {"rfm-segments": "rfm_segments", "churn": "churn", "cohorts": "cohorts",
              "clv": "clv_predict"}[table]
    frame = layer_frame(state, scope, method, (), lambda ws: getattr(ws, method)())
    if table == "clv":
        return frame_response(frame.iloc[offset:offset + limit], scope, total=len(frame),
                              offset=offset)
    return frame_response(frame, scope)


# -- attribution ---------------------------------------------------------------------------

def _models(text: str | None) -> tuple[str, ...]:
    names = tuple(m.strip() for m in (text or "").split(",") if m.strip())
    return names or D.ATTRIBUTION_MODELS


def attribution_compare(state: AppState, scope: Scope, models: tuple[str, ...]
                        ) -> pd.DataFrame:
    return layer_frame(state, scope, "attribution", ("compare", models),
                       lambda ws: D.attribution_compare(ws, models))


def attribution_roi(state: AppState, scope: Scope, model: str) -> pd.DataFrame:
    return layer_frame(state, scope, "attribution_roi", (model,),
                       lambda ws: D.attribution_roi(ws, model))


@router.get("/attribution", responses=_ERRORS, summary="Attribution models side by side")
def attribution(_: ReadKey, state: State, scope: ScopeDep,
                models: Annotated[str | None, Query(max_length=200, description=(
                    "comma-separated models; default last, first, linear, position, "
                    "time_decay, markov, shapley (counterfactual is slow: ask for it)"))]
                = None) -> Response:
    """One row per channel: each model's share of conversions, min_share, max_share, spread."""
    chosen = _models(models)
    return frame_response(attribution_compare(state, scope, chosen), scope,
                          models=list(chosen))


@router.get("/attribution/roi", responses=_ERRORS, summary="ROI and budget reallocation")
def attribution_roi_route(_: ReadKey, state: State, scope: ScopeDep,
                          model: Annotated[str, Query(max_length=40)] = D.ROI_MODEL
                          ) -> Response:
    """Per channel: spend, spend_share, conversions, revenue, revenue_share, cpa, roas,
    suggested_spend, suggested_change (+ _pct); ``assumptions`` says what it assumes."""
    frame = attribution_roi(state, scope, model)
    return frame_response(frame, scope, model=model,
                          assumptions=str(frame.attrs.get("assumptions", "")))


def attribution_chart(state: AppState, scope: Scope, **_: Any) -> go.Figure:
    if not available(state, "attribution_compare"):
        return C.empty("attribution: not available yet in this version")
    return C.attribution_models(attribution_compare(state, scope, D.ATTRIBUTION_MODELS))


def reallocation_chart(state: AppState, scope: Scope, **_: Any) -> go.Figure:
    if not available(state, "attribution_roi"):
        return C.empty("attribution: not available yet in this version")
    return C.reallocation(attribution_roi(state, scope, D.ROI_MODEL))


# -- journey map ---------------------------------------------------------------------------

def journey_map_layer(state: AppState, scope: Scope) -> Any:
    """The insights layer's :class:`JourneyMap` (cached), or None without that layer."""
    if not available(state, "journey_map"):
        return None
    return state.cached("journey_map_layer", scope, (), lambda ws: ws.journey_map())


# -- monitoring ----------------------------------------------------------------------------

def alerts_frame(state: AppState, scope: Scope, limit: int) -> pd.DataFrame:
    return layer_frame(state, scope, "alerts", (limit,), lambda ws: D.alerts(ws, limit=limit))


@router.get("/alerts", responses=_ERRORS, summary="The latest anomaly alerts")
def alerts(_: ReadKey, state: State, scope: ScopeDep,
           limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> Response:
    """Newest first, with the evidence: touchpoint, metric, direction, since, detected_at,
    observed, expected, band_low, band_high, band (text), z, method, message. Alerts are
    stored by ``touchlens watch`` / ``ws.detect_anomalies``; this route only reads them."""
    return frame_response(alerts_frame(state, scope, limit), scope)


def kpi_frame(state: AppState, scope: Scope, grain: str = "day") -> pd.DataFrame:
    if not available(state, "kpis"):
        raise HTTPException(501, "kpis: not available yet in this version")
    return state.cached("monitoring_kpis", scope, (grain,), lambda ws: ws.kpis(grain=grain))


@router.get("/monitoring/kpis", responses=_ERRORS, summary="Rolling KPIs per touchpoint")
def monitoring_kpis(_: ReadKey, state: State, scope: ScopeDep,
                    touchpoint: Annotated[str | None, Query(max_length=100)] = None,
                    grain: Literal["day", "hour"] = "day") -> Response:
    """One row per touchpoint × period: volume, conversion rate, cost, CSAT, NPS, negative
    share, each with its expected value (same weekday of the previous weeks)."""
    frame = kpi_frame(state, scope, grain)
    if touchpoint:
        frame = frame[frame["touchpoint"] == touchpoint]
    return frame_response(frame, scope)


def kpi_watch_chart(state: AppState, scope: Scope, *, touchpoint: str | None = None,
                    metric: str = "volume", **_: Any) -> go.Figure:
    if not available(state, "kpis"):
        return C.empty("monitoring: not available yet in this version")
    metric = metric if metric in C.KPI_METRICS else "volume"
    return C.kpi_watch(kpi_frame(state, scope), touchpoint, metric,
                       alerts_frame(state, scope, 1000))


# -- AI-assistant answers ------------------------------------------------------------------

def ai_visibility_frame(state: AppState, scope: Scope, brands: str | None
                        ) -> tuple[pd.DataFrame, str | None]:
    """(visibility per brand, None) or (empty, why there is nothing to show)."""
    if not available(state, "ai_visibility"):
        raise HTTPException(501, "ai_visibility: not available yet in this version")
    spec = D.brands_spec(brands, state.settings.db)
    n = state.cached("ai_answers_count", scope, (), D.ai_answers_count)
    if n == 0:
        return pd.DataFrame(), ("No AI answers ingested: touchlens ingest answers.jsonl "
                                "--kind ai_answers")
    if spec is None:
        return pd.DataFrame(), (f"{n:,} AI answers stored, but no brands configured: give "
                                f"brands (yours first) or set ${D.BRANDS_ENV}")
    key = tuple(spec) if isinstance(spec, list) else str(spec)
    return state.cached("ai_visibility", scope, (key,),
                  lambda ws: ws.ai_visibility(spec)), None


@router.get("/ai-visibility", responses=_ERRORS, summary="Brand visibility in AI answers")
def ai_visibility(_: ReadKey, state: State, scope: ScopeDep,
                  brands: Annotated[str | None, Query(max_length=500, description=(
                      "brand names, yours first, comma separated; default: "
                      "$TOUCHLENS_BRANDS or brands.yaml next to the workspace"))] = None
                  ) -> Response:
    """One row per brand: answers, mention_rate, citation_rate, avg_position,
    share_of_voice, sentiment, Wilson bounds, is_target; ``note`` when there is nothing."""
    frame, note = ai_visibility_frame(state, scope, brands)
    return frame_response(frame, scope, note=note)


def ai_visibility_chart(state: AppState, scope: Scope, *, brands: str | None = None,
                        **_: Any) -> go.Figure:
    if not available(state, "ai_visibility"):
        return C.empty("AI answers: not available yet in this version")
    frame, note = ai_visibility_frame(state, scope, brands)
    return C.ai_visibility(frame, note)


# -- CLV -----------------------------------------------------------------------------------

def clv_chart(state: AppState, scope: Scope, **_: Any) -> go.Figure:
    if not available(state, "clv_predict"):
        return C.empty("CLV: not available yet in this version")
    return C.clv_distribution(layer_frame(state, scope, "clv_predict", (),
                                          lambda ws: ws.clv_predict()),
                              state.root.settings.currency)


def cohorts_chart(state: AppState, scope: Scope, **_: Any) -> go.Figure:
    if not available(state, "cohorts"):
        return C.empty("cohorts: not available yet in this version")
    return C.cohort_heatmap(layer_frame(state, scope, "cohorts", (),
                                        lambda ws: ws.cohorts()))


# -- segments (the global segment filter) ---------------------------------------------------

@router.get("/segments", responses=_ERRORS, summary="Customer segments for the filter")
def segments(_: ReadKey, state: State) -> Response:
    """The RFM segments usable as ``segment=`` (whole workspace, not filtered): segment,
    n_customers; ``prospect`` (customers without a purchase) is always accepted."""
    members = state.cached("segment_members", Scope(), (), D.segment_members)
    frame = pd.DataFrame({"segment": list(members),
                          "n_customers": [len(v) for v in members.values()]})
    frame = frame.sort_values("n_customers", ascending=False)
    return frame_response(frame, Scope(), prospect=D.PROSPECT)
