"""Dashboard access and pages without a browser (TestClient): login by key or one-time token,
every page renders its panels, plotly.js is served locally."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from touchlens.api import ApiSettings, create_app
from touchlens.api.security.sessions import COOKIE
from touchlens.web.pages import PAGES

TOKEN = "the-one-time-token"


@pytest.fixture
def client(web_db, tmp_path: Path) -> Iterator[TestClient]:
    db = tmp_path / "ws.duckdb"
    shutil.copy(web_db.path, db)
    with TestClient(create_app(ApiSettings(db=db, login_token=TOKEN))) as c:
        yield c


def test_pages_redirect_to_login_without_a_session(client) -> None:
    for slug in PAGES:
        r = client.get("/" if slug == "overview" else f"/{slug}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = client.get("/login")
    assert r.status_code == 200 and 'name="key"' in r.text


def test_login_with_read_key_sets_an_httponly_cookie(client, web_db) -> None:
    r = client.post("/login", data={"key": web_db.read_key, "next": "/scorecard"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/scorecard"
    cookie = r.headers["set-cookie"]
    assert COOKIE in cookie and "HttpOnly" in cookie and "samesite=strict" in cookie.lower()
    assert web_db.read_key not in cookie
    assert client.get("/v1/stats").status_code == 200  # the API accepts the session too
    assert client.post("/v1/events", json=[]).status_code == 403  # read session, not write


@pytest.mark.parametrize("which, message", [("write", "write key"), ("bogus", "not a read key")])
def test_login_refuses_write_and_bogus_keys(client, web_db, which, message) -> None:
    key = web_db.write_key if which == "write" else "tlr_123456789012_" + "z" * 40
    r = client.post("/login", data={"key": key})
    assert r.status_code == 401 and message in r.text
    assert COOKIE not in r.headers.get("set-cookie", "")


def test_open_redirects_are_ignored(client, web_db) -> None:
    r = client.post("/login", data={"key": web_db.read_key, "next": "//evil.test/"},
                    follow_redirects=False)
    assert r.headers["location"] == "/"


def test_one_time_token_works_once(client) -> None:
    r = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    assert COOKIE in r.headers["set-cookie"]
    assert client.get("/").status_code == 200
    client.cookies.clear()
    r = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 401 and "has been used" in r.text


def test_logout_ends_the_session(client, web_db) -> None:
    client.post("/login", data={"key": web_db.read_key})
    assert client.get("/v1/stats").status_code == 200
    client.post("/logout")
    assert client.get("/v1/stats").status_code == 401


@pytest.mark.parametrize("slug", list(PAGES))
def test_every_page_renders_its_panels(client, web_db, slug: str) -> None:
    client.post("/login", data={"key": web_db.read_key})
    r = client.get("/" if slug == "overview" else f"/{slug}")
    assert r.status_code == 200
    page = PAGES[slug]
    assert f"<h1>{page.title}</h1>" in r.text
    for panel in page.panels:
        if panel.kind == "chart":
            assert f'data-chart="{panel.chart}"' in r.text
        if panel.kind == "unavailable":
            assert "Not available yet." in r.text
    assert '<script src="/plotly.min.js"' in r.text
    assert "cdn" not in r.text.lower()


def test_plotly_is_served_from_the_package(client) -> None:
    r = client.get("/plotly.min.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/javascript")
    assert len(r.content) > 1_000_000 and b"plotly" in r.content[:2000].lower()
    assert client.get("/static/app.js").status_code == 200


def test_served_dashboard_prefetches_the_slow_pages(web_db, tmp_path: Path) -> None:
    """With ``warm`` (what ``touchlens serve`` does), opening a page starts one background
    computation of the slow panels per data version; the charts then come from the cache."""
    from touchlens.api.routers import charts
    from touchlens.api.scope import Scope

    db = tmp_path / "ws.duckdb"
    shutil.copy(web_db.path, db)
    with TestClient(create_app(ApiSettings(db=db), warm=True)) as c:
        c.post("/login", data={"key": web_db.read_key})  # opens the overview page
        assert not charts.prefetch(c.app.state.touchlens, Scope())  # started already
        for name in charts.PREFETCH:  # the same answers as without the prefetch
            assert c.get(f"/v1/charts/{name.value}").status_code == 200


def _background_done(state, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(
            t.is_alive() for t in threading.enumerate()
            if t.name in ("touchlens-warm", "touchlens-prefetch")):
        time.sleep(0.05)


def test_a_small_served_workspace_prefetches_every_page_at_start(web_db, tmp_path: Path
                                                                  ) -> None:
    """The overview warmed quickly (a small workspace): the slow panels of the other pages
    follow without waiting for a page view, so a bookmarked page opens from the cache."""
    from touchlens.api.routers import charts
    from touchlens.api.scope import Scope

    db = tmp_path / "ws.duckdb"
    shutil.copy(web_db.path, db)
    with TestClient(create_app(ApiSettings(db=db), warm=True)) as c:
        state = c.app.state.touchlens
        _background_done(state)
        assert state.prefetched.get(Scope().key()) == state.cache.version
        assert not charts.prefetch(state, Scope())  # this version is done
        r = c.get("/v1/charts/journey_map", headers={"X-API-Key": web_db.read_key})
        assert r.status_code == 200


def test_a_slow_overview_leaves_the_other_pages_for_a_page_view(web_db, tmp_path: Path,
                                                               monkeypatch) -> None:
    from touchlens.api import app as app_module
    from touchlens.api.scope import Scope

    monkeypatch.setattr(app_module, "PREFETCH_AT_START_S", 0.0)  # "took too long"
    db = tmp_path / "ws.duckdb"
    shutil.copy(web_db.path, db)
    with TestClient(create_app(ApiSettings(db=db), warm=True)) as c:
        state = c.app.state.touchlens
        _background_done(state)
        assert Scope().key() not in state.prefetched
        c.post("/login", data={"key": web_db.read_key})  # a page view starts it
        assert Scope().key() in state.prefetched


def test_plain_apps_do_not_prefetch(client, web_db) -> None:
    from touchlens.api.routers import charts
    from touchlens.api.scope import Scope

    client.post("/login", data={"key": web_db.read_key})
    assert charts.prefetch(client.app.state.touchlens, Scope())  # nothing had started it
