"""Experiments over HTTP: declare an A/B test of a touchpoint (write key), list them and read
their reports (read key). The same declarations as ``touchlens experiment declare FILE`` and
``Workspace.declare_experiment`` (fields: :class:`touchlens.experiments.Experiment`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from touchlens.api.deps import ReadKey, State, WriteKey, actor_of
from touchlens.api.output import json_response, records
from touchlens.experiments.declarations import Experiment
from touchlens.governance import acting_as

router = APIRouter(prefix="/v1", tags=["experiments"])

_READ = {401: {"description": "No key, or an invalid or revoked key"},
         403: {"description": "A write key was used where a read key is needed"}}
_WRITE = {401: {"description": "No key, or an invalid or revoked key"},
          403: {"description": "A read key was used where a write key is needed"},
          422: {"description": "Not a valid experiment"}}


def _declare(state: State, spec: Experiment, actor: str) -> list[str]:
    with state.lock, acting_as(actor), state.workspace() as ws:
        names = ws.declare_experiment(spec)
        ws.audit("experiment_declare", spec.name, {"touchpoint": spec.touchpoint,
                                                   "variants": spec.variants})
    state.cache.bump()
    return names


@router.post("/experiments", responses=_WRITE, summary="Declare an experiment")
async def declare(principal: WriteKey, state: State, spec: Experiment) -> Response:
    """Store (or replace) the experiment; answers ``{"declared": [name]}``."""
    names = await run_in_threadpool(_declare, state, spec, actor_of(principal))
    return json_response({"declared": names})


@router.get("/experiments", responses=_READ, summary="Declared experiments")
def listed(_: ReadKey, state: State) -> Response:
    """``data``: name, touchpoint, variants, assignment_unit, metrics, start, end,
    declared_at."""
    with state.workspace() as ws:
        frame = ws.experiments()
    return json_response({"count": len(frame), "data": records(frame)})


@router.get("/experiments/{name}/report", responses={**_READ, 400: {
    "description": "No experiment of that name"}}, summary="An experiment's report")
def report(name: str, _: ReadKey, state: State) -> Response:
    """``data``: one row per metric × variant (tests, lift CI, P(beats control), always-valid
    p, SRM check); ``looks``: the daily sequential test."""
    with state.workspace() as ws:
        summary, looks = ws.experiment_report(name), ws.experiment_looks(name)
    return json_response({"name": name, "count": len(summary), "data": records(summary),
                          "looks": records(looks)})
