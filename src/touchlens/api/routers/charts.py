"""``GET /v1/charts/{name}`` (read key): Plotly figures as JSON, ready for ``Plotly.newPlot``.

The dashboard and the HTML report draw the same builders (:mod:`touchlens.charts`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal

import plotly.graph_objects as go
from fastapi import APIRouter, Query
from fastapi.responses import Response

from touchlens import charts as C
from touchlens.api.deps import ReadKey, ScopeDep, State
from touchlens.api.routers import layers as P
from touchlens.api.scope import Scope
from touchlens.api.state import AppState
from touchlens.charts import data as D

router = APIRouter(prefix="/v1/charts", tags=["charts"])


class Chart(StrEnum):
    trend = "trend"
    top_paths = "top_paths"
    journey_map = "journey_map"
    flows = "flows"
    cx = "cx"
    scorecard = "scorecard"
    rfm_segments = "rfm_segments"
    churn = "churn"
    funnel = "funnel"
    recommendations = "recommendations"
    topics = "topics"
    attribution = "attribution"
    reallocation = "reallocation"
    kpi_watch = "kpi_watch"
    ai_visibility = "ai_visibility"
    clv = "clv"
    cohorts = "cohorts"


SCORECARD_METRICS = Literal["reach", "touches", "ctr", "engagement_rate", "open_rate",
                            "journeys", "conversion_rate", "cost", "influenced_revenue",
                            "cost_per_converting_journey", "csat", "nps", "ces",
                            # kpi_watch's metrics (rolling KPIs per touchpoint)
                            "volume", "negative_share"]


MAX_TOP = 50  # the most paths the top-paths chart draws (its ``top`` parameter)


def _paths(state: AppState, scope: Scope):
    """The :data:`MAX_TOP` most frequent paths (a prefix of every path in the same order:
    the ranking breaks ties by conversions, then path) — not the hundreds of thousands of
    distinct paths of a large workspace."""
    return state.cached("top_paths", scope, ("touchpoint", MAX_TOP),
                        lambda ws: ws.top_paths(top=MAX_TOP, level="touchpoint"))


def _scorecard(state: AppState, scope: Scope):
    return state.cached("scorecard", scope, (scope.channel,),
                        lambda ws: D.scorecard(ws, scope.channel))


def build(state: AppState, scope: Scope, name: Chart, *, touchpoint: str | None,
          direction: str, by: str, metric: str, top: int, brands: str | None = None
          ) -> go.Figure:
    """The figure ``name`` for ``scope`` (results come from the shared cache)."""
    if name is Chart.trend:
        # per-day totals aggregated by the engine (a row per day, not per journey)
        return C.trend(state.cached("daily", scope, (), D.daily),
                       currency=state.root.settings.currency)
    if name is Chart.top_paths:
        return C.top_paths(_paths(state, scope).head(top))
    if name is Chart.journey_map:
        jm = P.journey_map_layer(state, scope)
        if jm is not None:
            return C.journey_map_from(jm, scope.channel)
        return C.journey_map(state.cached(
            "journey_map_touchpoints", scope, (scope.channel,),
            lambda ws: D.journey_map_touchpoints(ws, scope.channel)))
    if name in PANEL_CHARTS:
        return PANEL_CHARTS[name](state, scope, touchpoint=touchpoint, metric=metric,
                                  brands=brands)
    if name is Chart.flows:
        return _flows(state, scope, touchpoint, direction)
    if name is Chart.cx:
        scores = state.cached("cx", scope, (by,), lambda ws: ws.cx_scores(by))
        return C.cx_scores(D.only_channel(scores, scope.channel) if by == "channel"
                           else scores, by)
    if name is Chart.scorecard:
        return C.scorecard_metric(_scorecard(state, scope), metric)
    layer: dict[Chart, tuple[str, Callable]] = {
        Chart.rfm_segments: ("rfm_segments", C.rfm_segments),
        Chart.churn: ("churn", C.churn),
        Chart.funnel: ("funnel", C.funnel),
        Chart.recommendations: ("recommendations", C.recommendations),
        Chart.topics: ("voc", C.topics),
    }
    method, draw = layer[name]
    with state.workspace() as probe:
        if not D.has(probe, method):
            return C.empty(f"{name.value}: not available yet in this version")
    if name is Chart.topics:
        return draw(state.cached("voc", scope, ("topics", 50), lambda ws: ws.voc.topics()))
    return draw(state.cached(method, scope, (), lambda ws: getattr(ws, method)()))


PANEL_CHARTS: dict[Chart, Callable[..., go.Figure]] = {
    Chart.attribution: P.attribution_chart, Chart.reallocation: P.reallocation_chart,
    Chart.kpi_watch: P.kpi_watch_chart, Chart.ai_visibility: P.ai_visibility_chart,
    Chart.clv: P.clv_chart, Chart.cohorts: P.cohorts_chart,
}


def _flows(state: AppState, scope: Scope, touchpoint: str | None, direction: str
           ) -> go.Figure:
    """The insights layer's flow links when present, else a Sankey of the top paths."""
    paths = _paths(state, scope)
    if not touchpoint and not paths.empty:
        touchpoint = next((s for s in str(paths["path"].iloc[0]).split(" > ") if s), None)
    if not touchpoint:
        return C.empty("No journeys in this period")
    with state.workspace() as probe:
        layered = D.has(probe, "flows")
    if layered:
        way = "after" if direction == "from" else "before"
        links = state.cached("flows", scope, (touchpoint, way, 3),
                             lambda ws: ws.flows(touchpoint, direction=way, steps=3))
        return C.flow_sankey(links, touchpoint, way)
    every = state.cached("paths", scope, ("touchpoint", False),
                         lambda ws: D.all_paths(ws, level="touchpoint"))
    return C.flows(every, touchpoint, direction=direction,
                   total_journeys=int(every["n_journeys"].sum()) if len(every) else None)


@router.get("/{name}", summary="A chart as Plotly JSON",
            responses={401: {"description": "No key, or an invalid or revoked key"},
                       403: {"description": "A write key was used"}})
def chart(_: ReadKey, state: State, scope: ScopeDep, name: Chart,
          touchpoint: Annotated[str | None, Query(max_length=100)] = None,
          direction: Literal["from", "to"] = "from",
          by: Literal["touchpoint", "channel", "language"] = "channel",
          metric: SCORECARD_METRICS = "conversion_rate",
          top: Annotated[int, Query(ge=1, le=MAX_TOP)] = 10,
          brands: Annotated[str | None, Query(max_length=500, description=(
              "ai_visibility: brand names, yours first, comma separated"))] = None) -> Response:
    """``{"data": [...], "layout": {...}}`` (Plotly figure JSON). With the header
    ``X-Touchlens-Accept-Stale`` it may be an earlier drawing while events stream in
    (:mod:`touchlens.api.earlier`)."""
    key, draw = _chart_call(state, scope, name, touchpoint=touchpoint, direction=direction,
                            by=by, metric=metric, top=top, brands=brands)
    return Response(state.lookup(key, draw), media_type="application/json")


def _chart_call(state: AppState, scope: Scope, name: Chart, *, touchpoint: str | None = None,
                direction: str = "from", by: str = "channel", metric: str = "conversion_rate",
                top: int = 10, brands: str | None = None) -> tuple[tuple, Callable[[], str]]:
    """The cache key of a chart's JSON and the function drawing it."""
    params = (touchpoint, direction, by, metric, top, brands)
    return (("chart", name.value, scope.key(), params),
            lambda: build(state, scope, name, touchpoint=touchpoint, direction=direction,
                          by=by, metric=metric, top=top, brands=brands).to_json())


def chart_json(state: AppState, scope: Scope, name: Chart, **params: Any) -> str:
    """The figure's JSON at the current data version, cached per version, scope and
    parameters (``params``: those of :func:`build`)."""
    key, draw = _chart_call(state, scope, name, **params)
    return state.cache.get_or_compute(key, draw)


# The slow panels (seconds each on the demo workspace), computed in the background once a
# dashboard page has been opened, so the next pages open from the cache; the slowest first
# (the journey map's results are shared with the recommendations).
PREFETCH = (Chart.journey_map, Chart.recommendations, Chart.attribution, Chart.reallocation,
            Chart.trend, Chart.flows)
_prefetch_lock = threading.Lock()


def prefetch(state: AppState, scope: Scope) -> bool:
    """Start computing :data:`PREFETCH` for ``scope`` in a daemon thread, once per data
    version and never twice at the same time; returns whether a thread was started. Best
    effort: a failure here is left for the request that needs the chart to report. Only the
    latest version is remembered per scope (a server that collects events publishes new
    versions without end), on the app's state (``state.prefetched``, ``state.prefetching``)."""
    key, version = scope.key(), state.cache.version
    with _prefetch_lock:
        if state.prefetched.get(key) == version or key in state.prefetching:
            return False
        state.prefetched[key] = version
        state.prefetching.add(key)

    def run() -> None:
        try:
            for name in PREFETCH:
                if state.stopping:  # the app is shutting down
                    return
                try:
                    chart_json(state, scope, name)
                except Exception:
                    continue
        finally:
            with _prefetch_lock:
                state.prefetching.discard(key)

    state.background(run, "touchlens-prefetch")
    return True
