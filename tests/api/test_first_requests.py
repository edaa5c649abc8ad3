"""A fresh app's first requests, arriving together (as a dashboard page sends them), are all
answered: what a request's cursor reads once per server (the attached tables) is read on
that cursor, never on the root connection, which serves one thread at a time."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .conftest import open_served

CALLS = ["/v1/layers", "/v1/channels", "/v1/segments", "/v1/kpis", "/v1/scorecard",
         "/v1/touchpoints", "/v1/charts/funnel", "/v1/charts/trend"]


def test_a_fresh_apps_first_requests_arriving_together_are_all_answered(
        template_db: Path, tmp_path: Path) -> None:
    for round_ in range(5):  # a new app each round: its first requests find nothing read
        db = tmp_path / f"ws{round_}.duckdb"
        shutil.copy(template_db, db)
        for served in open_served(db):

            def get(url: str, served=served) -> int:
                return served.client.get(url, headers=served.read).status_code

            with ThreadPoolExecutor(len(CALLS)) as pool:
                codes = list(pool.map(get, CALLS))
            assert all(c == 200 for c in codes), dict(zip(CALLS, codes, strict=True))
