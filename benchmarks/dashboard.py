"""Dashboard page load on the demo workspace: each page's API calls, cold and warm.

    python benchmarks/dashboard.py [--db /tmp/w/demo.duckdb] [--pages overview,attribution]
                                   [--served [--think 3]] [--filter period=2026-03]

Builds the demo workspace first when ``--db`` does not exist (``touchlens demo``: 20,000
customers, 90 days). For every page it starts a fresh app (empty result cache) over a copy of
the workspace and requests what the page's script requests, the way a browser does: all at
once (6 connections), then the same again (warm, served from the cache). A page's time is
the wall time until its last answer; the table also lists the slowest call. Bounded: one
cold and one warm load per page, no retries. The goal (issue 7) is < 2 s per page.

``--served``: one app as ``touchlens serve`` runs it (warm-up at start, the slow panels
prefetched after the first page view) and one visitor who opens the overview (the one-time
link's landing page) and then each page in turn, ``--think`` seconds after the previous one
has loaded; "cold" is then that first visit of each page. ``--append N`` then sends N events
to the collector and loads every page again at once, as a live page does (the dashboard's
requests accept earlier results: ``touchlens.api.earlier``), and reports how long until
every answer is current again (the background refresh).

Requests carry the dashboard's ``X-Touchlens-Accept-Stale`` header, as the browser's do.
``--filter`` adds the dashboard's global filters to every call of a page but the filter
bar's own (``period=2026-03``, ``channel=email``, ``segment=champions``, joined with ``&``),
as the browser does once a filter is chosen.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from fastapi.testclient import TestClient

from touchlens import Workspace
from touchlens.api import ApiSettings, create_app
from touchlens.api.earlier import ACCEPT_HEADER, STALE_HEADER
from touchlens.api.security import create_key
from touchlens.web.pages import PAGES

BROWSER_CONNECTIONS = 6
COMMON = ["/v1/layers", "/v1/channels", "/v1/segments"]  # every page's filters


def page_calls(slug: str, filters: str = "") -> list[str]:
    """The API calls the dashboard script makes for page ``slug``, with the global
    ``filters`` (a query string) on each but the filter bar's own."""
    calls = list(COMMON)
    page = PAGES[slug]
    for panel in page.panels:
        if panel.kind == "kpis":
            calls.append("/v1/kpis")
        elif panel.kind == "chart":
            query = "&".join(f"{k}={v}" for k, v in panel.params.items())
            calls.append(f"/v1/charts/{panel.chart}" + (f"?{query}" if query else ""))
        elif panel.kind == "table":
            calls.append("/v1/scorecard")
        elif panel.kind == "records":
            query = "&".join(f"{k}={v}" for k, v in panel.params.items())
            calls.append(panel.endpoint + (f"?{query}" if query else ""))
        elif panel.kind in ("flows-controls", "monitor-controls"):
            calls.append("/v1/touchpoints")
    if not any(p.kind == "kpis" for p in page.panels):
        calls.append("/v1/stats")
    if not filters:
        return calls
    return [c if c in COMMON else c + ("&" if "?" in c else "?") + filters for c in calls]


def load(client: TestClient, calls: list[str], earlier: list[str] | None = None
         ) -> tuple[float, str, float, list[int]]:
    """(page wall time, slowest call, its time, status codes) with the calls in parallel;
    the calls answered with earlier results are appended to ``earlier``."""

    def one(url: str) -> tuple[str, float, int]:
        t0 = time.perf_counter()
        r = client.get(url, headers={ACCEPT_HEADER: "1"})
        if earlier is not None and STALE_HEADER in r.headers:
            earlier.append(url)
        return url, time.perf_counter() - t0, r.status_code

    t0 = time.perf_counter()
    with ThreadPoolExecutor(BROWSER_CONNECTIONS) as pool:
        results = list(pool.map(one, calls))
    wall = time.perf_counter() - t0
    url, slowest, _ = max(results, key=lambda r: r[1])
    return wall, url, slowest, [r[2] for r in results]


def _row(slug: str, calls: list[str], cold: tuple, warm: float) -> dict:
    wall, url, slowest, codes = cold
    bad = [c for c in codes if c != 200]
    flag = "" if wall < 2 else "  > 2 s"
    print(f"{slug:<13} {len(calls):>5} {wall:>7.2f} {warm:>7.2f}  {url} "
          f"({slowest:.2f} s){flag}{'  HTTP ' + str(bad) if bad else ''}", flush=True)
    return {"page": slug, "calls": len(calls), "cold_s": round(wall, 2),
            "warm_s": round(warm, 2), "slowest": url, "slowest_s": round(slowest, 2),
            "errors": bad}


def served_visit(db: Path, key: str, slugs: list[str], think: float, append: int = 0,
                 write_key: str = "", filters: str = "") -> list[dict]:
    """One visitor of a served app (warm-up, prefetch): the overview first, then the pages
    in turn, ``think`` seconds apart; with ``append``, :func:`after_append` follows."""
    rows = []
    with TestClient(create_app(ApiSettings(db=db), warm=True)) as client:
        client.post("/login", data={"key": key})  # the session cookie, as a browser gets
        order = ["overview"] + [s for s in slugs if s != "overview"]
        for i, slug in enumerate(order):
            if i:
                time.sleep(think)
            client.get("/" if slug == "overview" else f"/{slug}")  # the page: prefetch
            calls = page_calls(slug, filters)
            cold = load(client, calls)
            warm, *_ = load(client, calls)
            if slug in slugs:
                rows.append(_row(slug, calls, cold, warm))
        if append:
            rows += after_append(client, slugs, append, write_key, filters)
    return rows


def after_append(client: TestClient, slugs: list[str], n: int, write_key: str,
                 filters: str = "") -> list[dict]:
    """``n`` events collected, then every page loaded again at once (a live page's redraw),
    then again every 2 s until no answer holds earlier results."""
    events = [{"event_id": f"bench-append-{time.time_ns()}-{i}",
               "occurred_at": "2026-02-20T10:00:00Z", "customer_id": f"bench-append-{i}",
               "channel": "email", "touchpoint": "newsletter", "event_type": "open"}
              for i in range(n)]
    r = client.post("/v1/events", json=events, headers={"Authorization": f"Bearer {write_key}"})
    r.raise_for_status()
    appended = time.perf_counter()
    print(f"after {n} collected events (every page again; '*' = earlier results):")
    rows, pending = [], set()
    for slug in slugs:
        earlier: list[str] = []
        calls = page_calls(slug, filters)
        wall, *_ = load(client, calls, earlier)
        pending |= set(earlier)
        print(f"{slug:<13} {wall:>7.2f} s  {len(earlier)} of {len(calls)} calls "
              f"earlier{'  *' if earlier else ''}", flush=True)
        rows.append({"page": slug, "after_append_s": round(wall, 3), "earlier": len(earlier)})
    while pending:
        time.sleep(2)
        still: list[str] = []
        load(client, sorted(pending), still)
        pending = set(still)
    print(f"every answer current {time.perf_counter() - appended:.1f} s after the events "
          "were collected (computed in the background)")
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/w/demo.duckdb"))
    ap.add_argument("--pages", default=",".join(PAGES))
    ap.add_argument("--served", action="store_true",
                    help="one visitor of an app run as `touchlens serve` runs it")
    ap.add_argument("--think", type=float, default=3.0,
                    help="--served: seconds between a page's answers and the next page")
    ap.add_argument("--append", type=int, default=0,
                    help="--served: then collect this many events and load every page again")
    ap.add_argument("--filter", default="",
                    help="global filters on every page's calls, e.g. period=2026-03")
    ap.add_argument("--json", action="store_true", help="also print the rows as JSON")
    args = ap.parse_args()
    if not args.db.exists():
        args.db.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "touchlens.cli", "demo", "--db", str(args.db)],
                       check=True, stdout=subprocess.DEVNULL)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "ws.duckdb"
        shutil.copy(args.db, db)
        with Workspace.open(db) as ws:
            stats = ws.stats()
            key, _ = create_key(ws, "read", "benchmark")
            write_key, _ = create_key(ws, "write", "benchmark")
        print(f"workspace: {stats['customers']:,} customers, {stats['events']:,} events, "
              f"{stats['feedback']:,} feedback")
        print(f"{'page':<13} {'calls':>5} {'cold s':>7} {'warm s':>7}  slowest call (cold)")
        if args.served:
            print(f"(served: the overview first, then each page {args.think:g} s after the "
                  "previous one loaded)")
            rows = served_visit(db, key, args.pages.split(","), args.think, args.append,
                                write_key, args.filter)
        if args.filter:
            print(f"(every page filtered: {args.filter})")
        for slug in [] if args.served else args.pages.split(","):
            calls = page_calls(slug, args.filter)
            with TestClient(create_app(ApiSettings(db=db))) as client:
                client.headers["Authorization"] = f"Bearer {key}"
                cold = load(client, calls)
                warm, *_ = load(client, calls)
            rows.append(_row(slug, calls, cold, warm))
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
