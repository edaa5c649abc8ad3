"""The app factory: one FastAPI app serving the API (``/v1``), ``/health`` and the dashboard.

Nothing is opened at import time: :func:`create_app` takes validated :class:`ApiSettings`, and
the workspace, the writer thread and the sessions live from startup to shutdown (lifespan).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from touchlens import __version__
from touchlens.api import errors
from touchlens.api.arrivals import AnnounceArrivals
from touchlens.api.earlier import ACCEPT_HEADER, STALE_HEADER, VERSION_HEADER, EarlierResults
from touchlens.api.heap import freeze_heap
from touchlens.api.limits import BodyLimit
from touchlens.api.routers import (
    analytics,
    charts,
    collector,
    experiments,
    governance,
    health,
    layers,
)
from touchlens.api.settings import ApiSettings
from touchlens.api.state import AppState
from touchlens.charts.theme import preload as preload_charts

DESCRIPTION = """Customer touchpoints over HTTP.

* **Collector** (write key): `POST /v1/events`, `POST /v1/feedback`: JSON arrays of up to
  1,000 items, answered item by item (accepted / duplicate / rejected with a reason).
* **Erase** (admin key): `POST /v1/erase` removes one person everywhere and returns the
  erasure receipt (no identifier in clear); audited with the key id.
* **Analytics** (read key): touchpoints, journeys, paths, scorecard, CX scores, KPIs and
  charts, filtered by `period` (or `start`/`end`) and `channel`.

Send the key as `Authorization: Bearer <key>` (or `X-API-Key`). Create keys with
`touchlens keys create --scope write|read|admin` while the server is stopped.
"""


# What the first analyses would import on their first request (the library imports its
# analytics lazily, for a quick CLI): ~0.5 s of a fresh server's first page, under the GIL
# with the page's other requests. Imported when the app is built instead, and Plotly's
# validators built (charts.theme.preload).
ANALYTICS_MODULES = ("touchlens.attribution", "touchlens.voc", "touchlens.loyalty",
                     "touchlens.insights.service", "touchlens.monitoring", "touchlens.aivis",
                     "plotly.offline", "pyarrow.dataset", "ibis.backends.duckdb.converter")


def create_app(settings: ApiSettings, *, warm: bool = False) -> FastAPI:
    """Build the app for ``settings``. ``warm`` precomputes the dashboard's default views in a
    background thread at startup (what ``touchlens serve`` does)."""
    for module in ANALYTICS_MODULES:
        importlib.import_module(module)
    preload_charts()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = AppState(settings)
        app.state.touchlens = state
        if warm:
            state.background(lambda: _warm(state), "touchlens-warm")
        try:
            yield
        finally:
            state.close()

    app = FastAPI(title="touchlens", version=__version__, description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.prefetch = warm  # the dashboard warms its slow pages after the first view
    errors.install(app)
    app.include_router(health.router)
    for router in (collector.router, governance.router, experiments.router, analytics.router,
                   charts.router, layers.router):
        app.include_router(router, responses=errors.COMMON)
    from touchlens.web import routes as web  # the dashboard: pages, login, static files

    web.mount(app)
    app.add_middleware(EarlierResults)  # answers may carry earlier results when asked
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins,
                           allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "X-API-Key", "Content-Type",
                                          ACCEPT_HEADER],
                           expose_headers=[STALE_HEADER, VERSION_HEADER])
    app.add_middleware(AnnounceArrivals)  # inside the body limit: a 413 announces nothing
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    return app


# A workspace whose overview is computed within this many seconds at start-up is small
# enough (the demo's: ~0.8 s) to have the other pages' slow panels computed right after it
PREFETCH_AT_START_S = 3.0


def _warm(state: AppState) -> None:
    """Compute the overview's default panels once (as its requests ask for them: the same
    cache keys), so the first page view is quick.

    The other pages' slow panels (:func:`charts.prefetch`: journey map, recommendations…;
    ~2 s of two cores on the demo workspace) follow at once when the overview took under
    :data:`PREFETCH_AT_START_S` — so any page opened first (a bookmark) is quick too.
    On a larger workspace they wait for a page view: a server that only collects events
    should not spend minutes of its cores on analyses nobody looks at."""
    from touchlens.api.routers.charts import Chart, chart_json, prefetch
    from touchlens.api.scope import Scope
    from touchlens.charts import data as D

    scope = Scope()
    started = time.perf_counter()
    try:
        state.cached("kpis", scope, (), D.kpis)
        for name in (Chart.trend, Chart.top_paths):  # as the overview asks for them
            if state.stopping:
                return
            chart_json(state, scope, name)
    except Exception:  # warming is best effort: the request path reports real errors
        return
    quick = time.perf_counter() - started < PREFETCH_AT_START_S
    freeze_heap()  # what the warm-up imported and built (see api.heap)
    if quick and not state.stopping:
        prefetch(state, scope)
