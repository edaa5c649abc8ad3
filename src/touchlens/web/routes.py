"""The dashboard: HTML pages (Jinja2), the login, and static files incl. plotly.min.js.

Access works like the API's read access: the session cookie is set by the login form (a
read key) or by the one-time token URL that ``touchlens serve`` prints (``/?token=…``).
Pages hold no data; their scripts fetch ``/v1/kpis``, ``/v1/charts/...`` and
``/v1/scorecard`` with the cookie.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import plotly
from fastapi import FastAPI, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from touchlens import __version__
from touchlens.api.deps import authenticate, state_of
from touchlens.api.scope import Scope
from touchlens.api.security import verify_key
from touchlens.api.security.sessions import COOKIE
from touchlens.web.pages import PAGES

HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
templates = Jinja2Templates(directory=str(HERE / "templates"))


def _set_session(request: Request, response: Response, scope: str, key_id: str | None) -> None:
    state = state_of(request)
    sid = state.sessions.start(scope, key_id)
    response.set_cookie(COOKIE, sid, httponly=True, samesite="strict",
                        secure=state.settings.secure_cookies,
                        max_age=int(state.settings.session_hours * 3600), path="/")


def _page(request: Request, slug: str) -> Response:
    state = state_of(request)
    token = request.query_params.get("token")
    if token is not None:
        if state.sessions.use_token(token):
            response = RedirectResponse("/", status.HTTP_303_SEE_OTHER)
            _set_session(request, response, "read", None)
            return response
        return _login(request, "That link has been used or is wrong: log in with a read key.",
                      status.HTTP_401_UNAUTHORIZED)
    try:
        principal = authenticate(request, state)
    except HTTPException:
        principal = None
    if principal is None or principal.scope != "read":
        return RedirectResponse(f"/login?next={request.url.path}", status.HTTP_303_SEE_OTHER)
    page = PAGES[slug]
    if getattr(request.app.state, "prefetch", False) and not any(
            k in request.query_params for k in ("period", "start", "end", "channel",
                                                "segment")):
        from touchlens.api.routers.charts import prefetch

        prefetch(state, Scope())  # warm the other pages' slow panels (once per data version)
    return templates.TemplateResponse(request, "page.html", {
        "page": page, "pages": PAGES.values(), "version": __version__})


def _login(request: Request, error: str | None = None, code: int = 200) -> Response:
    target = request.query_params.get("next", "/")
    return templates.TemplateResponse(request, "login.html",
                                      {"error": error, "version": __version__,
                                       "next": target if target.startswith("/") else "/"},
                                      status_code=code)


def mount(app: FastAPI) -> None:
    """Add the dashboard's routes and static files to ``app``."""
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.get("/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(PLOTLY_JS, media_type="application/javascript",
                            headers={"Cache-Control": "public, max-age=86400"})

    @app.get("/login", include_in_schema=False)
    def login_form(request: Request) -> Response:
        return _login(request)

    @app.post("/login", include_in_schema=False)
    def login(request: Request, key: Annotated[str, Form(max_length=200)] = "",
              next: Annotated[str, Form(max_length=200)] = "/") -> Response:
        with state_of(request).workspace() as ws:
            info = verify_key(ws, key)
        if info is None or info.scope != "read":
            msg = "That is not a read key of this workspace." if info is None else \
                "That is a write key: the dashboard needs a read key."
            return _login(request, msg, status.HTTP_401_UNAUTHORIZED)
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status.HTTP_303_SEE_OTHER)
        _set_session(request, response, "read", info.key_id)
        return response

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request) -> Response:
        state_of(request).sessions.end(request.cookies.get(COOKIE))
        response = RedirectResponse("/login", status.HTTP_303_SEE_OTHER)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get("/", include_in_schema=False)
    def overview(request: Request) -> Response:
        return _page(request, "overview")

    for slug in PAGES:
        if slug != "overview":
            app.add_api_route(f"/{slug}", _view(slug), methods=["GET"],
                              include_in_schema=False, name=f"page_{slug}")


def _view(slug: str):
    def view(request: Request) -> Response:
        return _page(request, slug)

    return view
