"""The dashboard in a real browser: Debian's chromium driven by Playwright (never
``playwright install``). A uvicorn server on 127.0.0.1 (a free port, its socket bound before
the server starts, so no waiting) serves a copy of the small simulated workspace.

Screenshots of every page go to ``$TOUCHLENS_SCREENSHOTS`` (default: the pytest temp dir,
``screens/``) as test artifacts.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from touchlens.web.pages import PAGES

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "browser-test-token"
VIEWPORT = {"width": 1440, "height": 900}  # a laptop screen


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def browser() -> Iterator:
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed: pip install -e .[browser]"
    if reason is None and not Path(CHROMIUM).exists():
        reason = "no /usr/bin/chromium: apt-get install -y chromium"
    if reason:
        if _in_ci():
            pytest.fail(f"{reason} (CI must run the browser tests)", pytrace=False)
        pytest.skip(reason)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


@contextmanager
def _serving(db: Path) -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of an app serving ``db``, stopped on exit."""
    import uvicorn

    from touchlens.api import ApiSettings, create_app

    app = create_app(ApiSettings(db=db, login_token=TOKEN))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # connections queue until uvicorn accepts them
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(30)
        sock.close()


@pytest.fixture(scope="module")
def server(web_db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A running app on a copy of the web workspace; stopped after the module."""
    db = tmp_path_factory.mktemp("browser") / "ws.duckdb"
    shutil.copy(web_db.path, db)
    with _serving(db) as url:
        yield url


@pytest.fixture(scope="module")
def screens(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("TOUCHLENS_SCREENSHOTS")
    path = Path(target) if target else tmp_path_factory.getbasetemp() / "screens"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _logged_in(browser, url: str, read_key: str):
    """A new browser page logged in through the login form, recording console errors."""
    context = browser.new_context(viewport=VIEWPORT, base_url=url)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto("/")
    assert "/login" in pg.url
    pg.fill("#key", read_key)
    pg.click("button[type=submit]")
    pg.wait_for_url(f"{url}/")
    pg.console_errors = errors  # type: ignore[attr-defined]
    return context, pg


@pytest.fixture
def page(browser, server, web_db) -> Iterator:
    """A logged-in page (through the login form) that records console errors."""
    context, pg = _logged_in(browser, server, web_db.read_key)
    yield pg
    context.close()


def _ready(pg) -> None:
    pg.wait_for_selector("body[data-ready='1']", timeout=60_000)


@pytest.mark.parametrize("slug", list(PAGES))
def test_every_page_draws_its_charts(page, slug: str, screens: Path) -> None:
    page.goto("/" if slug == "overview" else f"/{slug}")
    _ready(page)
    charts = page.locator(".chart[data-chart]")
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert "rendered" in (chart.get_attribute("class") or ""), chart.inner_text()
        assert chart.locator("svg.main-svg").count() >= 1
    for note in page.locator(".unavailable").all():
        assert "Not available yet" in note.inner_text()
    errors = page.locator(".error").all_inner_texts()
    assert errors == []
    for table in page.locator("table.records").all():  # every records panel answered
        assert "Loading" not in table.inner_text()
    page.screenshot(path=str(screens / f"{slug}.png"), full_page=True)
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_period_filter_changes_the_numbers(page) -> None:
    _ready(page)
    customers = page.locator(".kpi[data-kpi=customers] .value")
    everyone = customers.inner_text()
    page.select_option("#f-period", "custom")
    page.fill("#f-start", "2026-02-01")
    page.fill("#f-end", "2026-02-07")
    page.click("#f-apply")
    _ready(page)
    page.wait_for_function(
        "v => (e => e && e.innerText !== v)("
        "document.querySelector('.kpi[data-kpi=customers] .value'))", arg=everyone)
    assert int(customers.inner_text().replace(",", "")) < int(everyone.replace(",", ""))
    assert "start=2026-02-01" in page.url
    assert page.locator(".kpi .delta").count() > 0  # compared with the week before
    # the filter follows the navigation
    assert "start=2026-02-01" in page.get_attribute("nav a[href^='/scorecard']", "href")


def test_a_period_from_the_link_is_shown_and_kept(page) -> None:
    """A period the select does not offer (a shared link, the report's ``--period``) is
    shown as it is, and applying another filter keeps it."""
    page.goto("/?period=2026-02")
    _ready(page)
    assert page.input_value("#f-period") == "2026-02"
    assert "2026-02-01" in page.inner_text("#f-scope")
    page.select_option("#f-channel", "email")
    page.click("#f-apply")
    _ready(page)
    assert "period=2026-02" in page.url and "channel=email" in page.url
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_channel_filter_changes_the_scorecard(page) -> None:
    page.goto("/scorecard")
    _ready(page)
    page.wait_for_selector("#scorecard tbody tr")
    all_rows = page.locator("#scorecard tbody tr").count()
    page.select_option("#f-channel", "email")
    page.click("#f-apply")
    _ready(page)
    page.wait_for_function(
        "n => document.querySelectorAll('#scorecard tbody tr').length !== n", arg=all_rows)
    channels = page.locator("#scorecard tbody tr td:nth-child(2)").all_inner_texts()
    assert channels and set(channels) == {"email"}


def test_scorecard_sorts_by_a_clicked_column(page) -> None:
    page.goto("/scorecard")
    _ready(page)
    page.wait_for_selector("#scorecard tbody tr")
    page.click("#scorecard th[data-key=touchpoint]")
    names = page.locator("#scorecard tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names, reverse=True)
    page.click("#scorecard th[data-key=touchpoint]")
    names = page.locator("#scorecard tbody tr td:first-child").all_inner_texts()
    assert names == sorted(names)


def test_flows_follow_the_chosen_touchpoint(page) -> None:
    page.goto("/flows")
    _ready(page)
    page.select_option("#c-touchpoint", "newsletter")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.chart[data-chart=flows] .gtitle')]"
        ".some(t => t.textContent.includes('newsletter'))")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_one_time_link_opens_the_dashboard(browser, server) -> None:
    context = browser.new_context(viewport=VIEWPORT, base_url=server)
    pg = context.new_page()
    pg.goto(f"/?token={TOKEN}")
    _ready(pg)
    assert pg.url == f"{server}/"
    assert pg.locator(".kpi").count() >= 6
    context.close()


def test_segment_filter_changes_the_numbers(page) -> None:
    _ready(page)
    page.wait_for_function("document.querySelectorAll('#f-segment option').length > 2")
    customers = page.locator(".kpi[data-kpi=customers] .value")
    everyone = customers.inner_text()
    page.select_option("#f-segment", "prospect")
    page.click("#f-apply")
    _ready(page)
    page.wait_for_function(
        "v => (e => e && e.innerText !== v)("
        "document.querySelector('.kpi[data-kpi=customers] .value'))", arg=everyone)
    assert int(customers.inner_text().replace(",", "")) < int(everyone.replace(",", ""))
    assert "segment=prospect" in page.url
    assert "segment prospect" in page.locator("#f-scope").inner_text()
    # the attribution page keeps the filter in its links but does not apply it
    page.goto("/attribution?segment=prospect")
    _ready(page)
    assert page.locator("#f-segment").is_disabled()
    assert "segment=prospect" in page.get_attribute("nav a[href^='/scorecard']", "href")
    assert page.console_errors == []  # type: ignore[attr-defined]


def test_attribution_page_shows_models_and_reallocation(page) -> None:
    page.goto("/attribution")
    _ready(page)
    legend = page.locator(".chart[data-chart=attribution] .legendtext").all_text_contents()
    assert {"last", "first", "markov", "shapley"} <= set(legend)
    rows = page.locator("table.records[data-endpoint='/v1/attribution/roi'] tbody tr")
    assert rows.count() > 3


def test_live_mode_redraws_when_collected_events_arrive(browser, web_db, tmp_path: Path
                                                       ) -> None:
    """Seed 003's live view: with "Live" on, the overview follows events sent to the
    collector (its own server: the other tests' numbers stay as they were)."""
    import httpx

    db = tmp_path / "live.duckdb"
    shutil.copy(web_db.path, db)
    with _serving(db) as url:
        context, pg = _logged_in(browser, url, web_db.read_key)
        try:
            _ready(pg)
            customers = pg.locator(".kpi[data-kpi=customers] .value")
            before = int(customers.inner_text().replace(",", ""))
            pg.check("#f-live")
            pg.wait_for_function("document.querySelector('#f-live-note').textContent"
                                 ".includes('data as of')")
            events = [{"event_id": f"live-{i}", "occurred_at": "2026-02-20T10:00:00Z",
                       "customer_id": f"live-customer-{i}", "channel": "email",
                       "touchpoint": "newsletter", "event_type": "open"} for i in range(5)]
            r = httpx.post(f"{url}/v1/events", json=events, timeout=30,
                           headers={"Authorization": f"Bearer {web_db.write_key}"})
            assert r.status_code == 200 and r.json()["accepted"] == 5
            pg.wait_for_function(  # no reload: the live poll redraws the KPI cards in place
                "n => parseInt(document.querySelector('.kpi[data-kpi=customers] .value')"
                ".innerText.replace(/,/g, '')) === n", arg=before + 5, timeout=60_000)
            assert pg.locator(".chart.rendered").count() >= 1  # charts stayed drawn
            # charts answered with their earlier drawing are asked again until current
            pg.wait_for_function("document.querySelectorAll('.chart.stale').length === 0",
                                 timeout=60_000)
            pg.reload()  # the choice is remembered
            _ready(pg)
            assert pg.is_checked("#f-live")
            assert pg.console_errors == []  # type: ignore[attr-defined]
        finally:
            context.close()


def test_a_chart_answered_with_an_earlier_drawing_is_asked_again(page) -> None:
    """The server marks such an answer (``X-Touchlens-Stale``: the version shown,
    ``X-Touchlens-Version``: the current one) while it redraws the chart in the background;
    the page shows it marked and asks again until it shows data at least as new as the
    version current when it first asked — not chasing events that arrive meanwhile."""
    answers = [("3", "4"), ("3", "5"), ("4", "6")]  # the third is new enough
    asked: list[int] = []

    def handle(route) -> None:
        response = route.fetch()
        headers = dict(response.headers)
        if len(asked) < len(answers):
            headers["x-touchlens-stale"], headers["x-touchlens-version"] = answers[len(asked)]
        asked.append(1)
        route.fulfill(response=response, headers=headers)

    page.goto("/funnel")  # away from the overview the login landed on, its requests done
    _ready(page)
    page.route("**/v1/charts/top_paths*", handle)
    page.goto("/")
    _ready(page)
    chart = page.locator(".chart[data-chart=top_paths]")
    assert page.locator("#f-updating").is_visible()  # the page says it is updating
    page.wait_for_function(
        "() => !document.querySelector('.chart[data-chart=top_paths]').classList"
        ".contains('stale')", timeout=30_000)
    page.wait_for_function("document.querySelector('#f-updating').hidden", timeout=30_000)
    assert not page.locator("#f-updating").is_visible()
    page.wait_for_timeout(3_000)  # longer than the page waits before asking again
    assert len(asked) == 3  # the version-5 answer was asked again for, the third was enough
    assert "rendered" in (chart.get_attribute("class") or "")
    assert chart.locator("svg.main-svg").count() >= 1
    assert page.console_errors == []  # type: ignore[attr-defined]
