"""The read API (read key): what the library computes, narrowed by the global filters.

Every route takes ``period`` | ``start``/``end`` and ``channel`` (see
:mod:`touchlens.api.scope`) and answers ``{"scope", "count", "data": [rows]}`` unless noted.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from touchlens.api.deps import ReadKey, ScopeDep, State
from touchlens.api.output import frame_response, json_response, scope_json
from touchlens.api.scope import Scope
from touchlens.charts import data as D
from touchlens.errors import ConfigError

router = APIRouter(prefix="/v1", tags=["analytics"])

Level = Literal["touchpoint", "channel"]
_AUTH = {401: {"description": "No key, or an invalid or revoked key"},
         403: {"description": "A write key was used where a read key is needed"}}


@router.get("/stats", responses=_AUTH, summary="Row counts")
def stats(_: ReadKey, state: State, scope: ScopeDep) -> Response:
    """``data``: events, customers (stitched), feedback, quarantined (whole workspace)."""
    value = state.cached("stats", scope, (), lambda ws: ws.stats())
    return json_response({"scope": scope_json(scope), "data": value})


@router.get("/freshness", responses=_AUTH, summary="Which data version the results show")
def freshness(_: ReadKey, state: State) -> Response:
    """``version``: the data version the analytics are computed on (it changes after writes;
    see ``max_lag_s``), ``as_of``: when that version was published (UTC), ``pending``:
    whether collected events wait for the next version, ``max_lag_s``: how far, at most, the
    results lag behind events streaming into the collector. Cheap (no query): the
    dashboard's live mode polls it and redraws when ``version`` changes."""
    version, as_of, pending = state.cache.freshness()
    return json_response({"version": version, "as_of": as_of.isoformat(),
                          "pending": pending, "max_lag_s": state.cache.max_lag_s})


@router.get("/kpis", responses=_AUTH, summary="Headline KPIs vs the previous period")
def kpis(_: ReadKey, state: State, scope: ScopeDep) -> Response:
    """``current`` and ``previous`` (the window of the same length before, when the period is
    bounded): customers, journeys, conversions, conversion_rate, revenue, NPS/CSAT/CES."""
    current = state.cached("kpis", scope, (), D.kpis)
    before = scope.previous()
    previous = state.cached("kpis", before, (), D.kpis) if before else None
    return json_response({"scope": scope_json(scope), "current": current,
                          "previous": previous,
                          "previous_scope": scope_json(before) if before else None})


@router.get("/channels", responses=_AUTH, summary="Channels seen in the workspace")
def channels(_: ReadKey, state: State) -> Response:
    frame = state.cached("touchpoints", Scope(), (None,), lambda ws: D.touchpoints(ws))
    used = frame[frame["n_events"] > 0] if "n_events" in frame else frame
    return json_response({"data": sorted(used["channel"].dropna().unique().tolist())})


@router.get("/layers", responses=_AUTH, summary="Which analysis layers are available")
def layers(_: ReadKey, state: State) -> Response:
    with state.workspace() as ws:
        return json_response({"data": D.layers(ws)})


@router.get("/touchpoints", responses=_AUTH, summary="The touchpoint catalogue")
def touchpoints(_: ReadKey, state: State, scope: ScopeDep) -> Response:
    """Columns: touchpoint, channel, stage, medium, control, cost_type, primary_metric,
    description, source, reviewed, n_events."""
    frame = state.cached("touchpoints", scope, (scope.channel,),
                         lambda ws: D.touchpoints(ws, scope.channel))
    return frame_response(frame, scope)


@router.get("/journeys", responses=_AUTH, summary="Journeys (paged)")
def journeys(_: ReadKey, state: State, scope: ScopeDep,
             converting_only: bool = False,
             limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
             offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """One row per journey (journey_id, customer_id, started_at, ended_at, n_touches,
    duration_hours, path, channel_path, converted, conversion_type, conversion_touchpoint,
    revenue); ``total`` = all journeys in scope."""
    frame = state.cached("journeys", scope, (converting_only,),
                         lambda ws: ws.journeys(converting_only=converting_only))
    return frame_response(frame.iloc[offset:offset + limit], scope, total=len(frame),
                          offset=offset)


@router.get("/paths", responses=_AUTH, summary="Most frequent paths")
def paths(_: ReadKey, state: State, scope: ScopeDep,
          top: Annotated[int, Query(ge=1, le=1000)] = 10, level: Level = "touchpoint",
          converting_only: bool = False) -> Response:
    """path, n_journeys, n_conversions, conversion_rate (0..1), revenue."""
    frame = state.cached("paths", scope, (level, converting_only),
                         lambda ws: D.all_paths(ws, level=level,
                                                converting_only=converting_only))
    return frame_response(frame.head(top), scope, distinct_paths=len(frame))


@router.get("/scorecard", responses=_AUTH, summary="Touchpoint scorecard")
def scorecard(_: ReadKey, state: State, scope: ScopeDep,
              sort: Annotated[str | None, Query(max_length=64)] = None,
              descending: bool = True) -> Response:
    """One row per touchpoint (reach, touches, CTR, engagement, open rate, journeys,
    conversion rate, cost, influenced revenue, CSAT/NPS/CES with n); ``sort`` by a column."""
    frame = state.cached("scorecard", scope, (scope.channel,),
                         lambda ws: D.scorecard(ws, scope.channel))
    if sort:
        if sort not in frame.columns:
            raise ConfigError(f"cannot sort by {sort!r}; use one of {list(frame.columns)}")
        frame = frame.sort_values(sort, ascending=not descending, na_position="last")
    return frame_response(frame, scope)


@router.get("/cx", responses=_AUTH, summary="NPS, CSAT and CES with 95% CIs")
def cx(_: ReadKey, state: State, scope: ScopeDep,
       by: Literal["touchpoint", "channel", "language", "all"] = "touchpoint") -> Response:
    """Per ``by`` group: nps, csat (top-2-box %), ces, each with _low/_high/_n/_small_n."""
    if by == "all":
        frame = state.cached("cx_overall", scope, (), lambda ws: ws.cx_overall())
    else:
        frame = state.cached("cx", scope, (by,), lambda ws: ws.cx_scores(by))
        frame = D.only_channel(frame, scope.channel) if by == "channel" else frame
    return frame_response(frame, scope)


@router.get("/quarantine", responses=_AUTH, summary="Rejected rows with reasons (paged)")
def quarantine(_: ReadKey, state: State,
               limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
               offset: Annotated[int, Query(ge=0)] = 0) -> Response:
    """batch_id, kind, file, row_number, field, reason, raw (PII hashed), quarantined_at;
    newest last. Not narrowed by the period/channel filters."""
    frame = state.cached("quarantine", Scope(), (), lambda ws: ws.quarantine())
    return frame_response(frame.iloc[offset:offset + limit], Scope(), total=len(frame),
                          offset=offset)
