"""Dashboard page load on the demo workspace: each page's API calls, cold and warm.

    python benchmarks/dashboard.py [--db /tmp/w/demo.duckdb] [--pages overview,attribution]

Builds the demo workspace first when ``--db`` does not exist (``touchlens demo``: 20,000
customers, 90 days). For every page it starts a fresh app (empty result cache) over a copy of
the workspace and requests what the page's script requests, the way a browser does: all at
once (6 connections), then the same again (warm, served from the cache). A page's time is
the wall time until its last answer; the table also lists the slowest call. Bounded: one
cold and one warm load per page, no retries. The goal (issue 7) is < 2 s per page.
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
from touchlens.api.security import create_key
from touchlens.web.pages import PAGES

BROWSER_CONNECTIONS = 6
COMMON = ["/v1/layers", "/v1/channels", "/v1/segments"]  # every page's filters


def page_calls(slug: str) -> list[str]:
    """The API calls the dashboard script makes for page ``slug`` (no filters)."""
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
    return calls


def load(client: TestClient, calls: list[str]) -> tuple[float, str, float, list[int]]:
    """(page wall time, slowest call, its time, status codes) with the calls in parallel."""

    def one(url: str) -> tuple[str, float, int]:
        t0 = time.perf_counter()
        r = client.get(url)
        return url, time.perf_counter() - t0, r.status_code

    t0 = time.perf_counter()
    with ThreadPoolExecutor(BROWSER_CONNECTIONS) as pool:
        results = list(pool.map(one, calls))
    wall = time.perf_counter() - t0
    url, slowest, _ = max(results, key=lambda r: r[1])
    return wall, url, slowest, [r[2] for r in results]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/w/demo.duckdb"))
    ap.add_argument("--pages", default=",".join(PAGES))
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
        print(f"workspace: {stats['customers']:,} customers, {stats['events']:,} events, "
              f"{stats['feedback']:,} feedback")
        print(f"{'page':<13} {'calls':>5} {'cold s':>7} {'warm s':>7}  slowest call (cold)")
        for slug in args.pages.split(","):
            calls = page_calls(slug)
            with TestClient(create_app(ApiSettings(db=db))) as client:
                client.headers["Authorization"] = f"Bearer {key}"
                cold, url, slowest, codes = load(client, calls)
                warm, *_ = load(client, calls)
            bad = [c for c in codes if c != 200]
            rows.append({"page": slug, "calls": len(calls), "cold_s": round(cold, 2),
                         "warm_s": round(warm, 2), "slowest": url,
                         "slowest_s": round(slowest, 2), "errors": bad})
            flag = "" if cold < 2 else "  > 2 s"
            print(f"{slug:<13} {len(calls):>5} {cold:>7.2f} {warm:>7.2f}  {url} "
                  f"({slowest:.2f} s){flag}{'  HTTP ' + str(bad) if bad else ''}",
                  flush=True)
    if args.json:
        print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
