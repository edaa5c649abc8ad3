"""The insights commands: exit codes and machine-readable output."""

from __future__ import annotations

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from touchlens.cli import app
from touchlens.cli.insights import FIX_COLUMNS, FLOW_COLUMNS, FUNNEL_COLUMNS, MAP_TABLES

from .test_moments import _world


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    from touchlens import Workspace

    path = tmp_path_factory.mktemp("cli") / "ws.duckdb"
    ev, fb, _ = _world(n=300, seed=3)
    with Workspace.open(path) as ws:
        ws.ingest_arrow(ev, "events")
        ws.ingest_arrow(fb, "feedback")
    return str(path)


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_funnel_json_and_table(db):
    res = run("funnel", "--steps", "visit,purchase", "--within", "7d", "--format", "json",
              "--db", db)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["step_name"] for r in rows] == ["visit", "purchase"]
    assert set(rows[0]) == set(FUNNEL_COLUMNS)
    res = run("funnel", "--by", "channel", "--db", db)
    assert res.exit_code == 0 and "Stage funnel" in res.stdout


def test_funnel_bad_window_is_a_usage_error(db):
    res = run("funnel", "--steps", "visit,purchase", "--within", "soon", "--db", db)
    assert res.exit_code == 2


def test_flows_csv(db):
    res = run("flows", "--touchpoint", "homepage", "--steps", "2", "--format", "csv",
              "--db", db)
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert tuple(rows[0]) == FLOW_COLUMNS


def test_journey_map_json(db):
    res = run("journey-map", "--format", "json", "--db", db)
    assert res.exit_code == 0, res.output
    assert set(json.loads(res.stdout)) == set(MAP_TABLES)


def test_moments_and_revenue_at_risk_say_observational(db):
    res = run("revenue-at-risk", "--db", db)
    assert res.exit_code == 0, res.output
    assert "observational" in res.output.lower()
    res = run("moments", "--format", "json", "--db", db)
    assert res.exit_code == 0
    assert any(r["moment_of_truth"] for r in json.loads(res.stdout))


@pytest.mark.parametrize("command", ["fix-first", "insights"])
def test_fix_first(db, command):
    res = run(command, "--format", "json", "--top", "3", "--db", db)
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert 1 <= len(rows) <= 3 and set(rows[0]) == set(FIX_COLUMNS)


@pytest.mark.parametrize("command", ["consistency", "handoffs"])
def test_other_views(db, command):
    assert run(command, "--db", db).exit_code == 0
