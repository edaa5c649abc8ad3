"""CLI: abtest and sample-size without a workspace; alerts, watch and experiment on one."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from touchlens import Workspace
from touchlens.cli import app
from touchlens.cli.monitoring import ALERT_COLUMNS, REPORT_COLUMNS
from touchlens.experiments import fisher_exact, two_proportion_ztest
from touchlens.experiments.simulate import assign_variants
from touchlens.monitoring import Injection, inject_anomalies
from touchlens.simulate import simulate_retailer

EXPERIMENT_YAML = """\
name: pp-test
touchpoint: product_page
variants: [control, treatment]
metrics: [conversion, revenue]
start: 2026-01-01
"""


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOUCHLENS_DB", raising=False)
    monkeypatch.delenv("TOUCHLENS_WEBHOOK_URL", raising=False)
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env={"COLUMNS": "200"})

    return invoke


@pytest.fixture(scope="module")
def monitored_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated retailer (8,000 customers, 70 days) with a product-page outage on day 60
    and an A/B test on the product page."""
    from datetime import UTC, datetime

    world = simulate_retailer(8000, seed=4, days=70)
    world = assign_variants(world, "product_page", lift=0.4, seed=2)
    outage = Injection("volume_drop", "product_page", datetime(2026, 3, 2, tzinfo=UTC), 72, 0.8)
    world, _ = inject_anomalies(world, [outage])
    path = tmp_path_factory.mktemp("mon") / "ws.duckdb"
    with Workspace.open(path) as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.feedback, "feedback")
    return path


def test_abtest_json_matches_the_library(run: Callable[..., Result]) -> None:
    result = run("abtest", "--a", "120/2400", "--b", "150/2400", "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["ztest"]["p_value"] == two_proportion_ztest(120, 2400, 150, 2400).p_value
    assert out["fisher"]["p_value"] == fisher_exact(120, 2400, 150, 2400).p_value
    assert set(out) >= {"lift", "bayes", "sequential", "srm"}
    assert out["lift"]["method"] == "delta method on log ratio"


def test_abtest_table_and_bad_input(run: Callable[..., Result]) -> None:
    result = run("abtest", "--a", "120/2400", "--b", "150/2400")
    assert result.exit_code == 0 and "P(B > A)" in result.stdout
    bad = run("abtest", "--a", "120-2400", "--b", "1/2")
    assert bad.exit_code == 2 and "SUCCESSES/TRIALS" in bad.output
    assert run("abtest", "--a", "5/4", "--b", "1/2").exit_code == 2
    srm = run("abtest", "--a", "100/5000", "--b", "100/5600")
    assert srm.exit_code == 0 and "sample-ratio mismatch" in srm.stderr


def test_sample_size(run: Callable[..., Result]) -> None:
    result = run("experiment", "sample-size", "--baseline", "0.05", "--mde", "0.1",
                 "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["n_per_arm"] == 31_234
    text = run("experiment", "sample-size", "--baseline", "0.05", "--mde", "0.1")
    assert "31,234 units in A" in text.stdout
    assert run("experiment", "sample-size", "--baseline", "0.9", "--mde", "0.5").exit_code == 2


def test_experiment_declare_list_and_report(run: Callable[..., Result], monitored_db: Path,
                                            tmp_path: Path) -> None:
    spec = tmp_path / "exp.yaml"
    spec.write_text(EXPERIMENT_YAML, encoding="utf-8")
    db = str(monitored_db)
    assert run("experiment", "declare", str(spec), "--db", db).exit_code == 0
    listed = json.loads(run("experiment", "list", "--db", db, "--format", "json").stdout)
    assert [e["name"] for e in listed] == ["pp-test"]
    result = run("experiment", "report", "pp-test", "--db", db, "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert list(rows[0]) == list(REPORT_COLUMNS)
    treated = next(r for r in rows if r["metric"] == "conversion" and not r["is_control"])
    assert treated["lift"] > 0 and treated["p_value"] < 0.05
    table = run("experiment", "report", "pp-test", "--db", db)
    assert table.exit_code == 0 and "always-valid" in table.stdout
    missing = run("experiment", "report", "nope", "--db", db)
    assert missing.exit_code == 2 and "no experiment named 'nope'" in missing.output


class _Hook:
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the http.server API names it so
                hook.bodies.append(json.loads(self.rfile.read(
                    int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_watch_then_alerts(run: Callable[..., Result], monitored_db: Path) -> None:
    db = str(monitored_db)
    hook = _Hook()
    try:
        result = run("watch", "--grain", "day", "--iterations", "2", "--interval", "0",
                     "--webhook", hook.url, "--db", db)
    finally:
        hook.server.shutdown()
        hook.server.server_close()
    assert result.exit_code == 0, result.output
    assert "touchlens watch" in result.stdout and "product_page" in result.stdout
    out = json.loads(run("alerts", "--db", db, "--format", "json").stdout)
    assert out and list(out[0]) == list(ALERT_COLUMNS)
    outage = [a for a in out if a["touchpoint"] == "product_page" and a["metric"] == "volume"
              and a["direction"] == "down"]
    assert outage and outage[0]["since"].startswith("2026-03-02")
    # delivered once each although watch checked twice (de-duplicated)
    ids = [b["alert"]["alert_id"] for b in hook.bodies]
    assert sorted(ids) == sorted(a["alert_id"] for a in out)
    later = json.loads(run("alerts", "--db", db, "--since", "2026-03-01",
                           "--format", "json").stdout)
    assert all(a["detected_at"] >= "2026-03-01" for a in later)
    assert run("alerts", "--db", db).exit_code == 0
