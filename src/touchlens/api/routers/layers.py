"""Read routes over the optional analysis layers (read key): funnel, flows, journey map,
recommendations, voice of customer, loyalty. A layer this version lacks answers 501
("not available yet"); filters as in :mod:`touchlens.api.routers.analytics`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import pandas as pd
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

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


def layer_frame(state: AppState, scope: Scope, method: str, params: tuple,
                compute: Callable[[ServedWorkspace], pd.DataFrame]) -> pd.DataFrame:
    """``compute(ws)`` cached, or 501 when the Workspace has no ``method``."""
    with state.workspace() as probe:
        if not D.has(probe, method):
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
               "pain-points": lambda ws: ws.voc.pain_points(),
               "verbatims": lambda ws: D.verbatims(ws, limit=limit)}[table]
    frame = layer_frame(state, scope, "voc", (table, limit), compute)
    return frame_response(frame, scope)


@router.get("/loyalty/{table}", responses=_ERRORS, summary="RFM segments or churn")
def loyalty(_: ReadKey, state: State, scope: ScopeDep,
            table: Literal["rfm-segments", "churn"]) -> Response:
    method = {"rfm-segments": "rfm_segments", "churn": "churn"}[table]
    frame = layer_frame(state, scope, method, (), lambda ws: getattr(ws, method)())
    return frame_response(frame, scope)
