"""The loyalty commands: rfm, cohorts, churn, clv fit|predict."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from touchlens.cli import app
from touchlens.loyalty import load_cdnow_summary

from .test_rfm_cohorts import ROWS, purchase_events


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOUCHLENS_DB", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture
def cdnow_csv(tmp_path: Path) -> Path:
    path = tmp_path / "cdnow.csv"
    load_cdnow_summary().to_csv(path, index=False)
    return path


@pytest.fixture
def db(run, tmp_path: Path) -> Path:
    path = tmp_path / "events.parquet"
    pq.write_table(purchase_events(ROWS), path)
    db = tmp_path / "ws.duckdb"
    result = run("ingest", str(path), "--kind", "events", "--db", str(db))
    assert result.exit_code == 0, result.output
    return db


def test_clv_fit_json_on_a_summary_csv(run, cdnow_csv) -> None:
    result = run("clv", "fit", "--summary", str(cdnow_csv), "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["unit"] == "week"
    assert out["bgnbd"]["r"] == pytest.approx(0.243, rel=0.01)
    assert out["bgnbd"]["n"] == 2357
    assert out["gamma_gamma"]["v"] == pytest.approx(15.44, rel=0.01)
    assert out["gamma_gamma"]["n"] == 946
    assert out["bgnbd"]["log_likelihood"] == pytest.approx(-9582.4, abs=0.1)
    assert set(out["bgnbd"]["standard_errors"]) == {"r", "alpha", "a", "b"}


def test_clv_fit_table_and_predict_output(run, cdnow_csv, tmp_path: Path) -> None:
    table = run("clv", "fit", "--summary", str(cdnow_csv))
    assert table.exit_code == 0, table.output
    assert "alpha" in table.stdout and "Std. error" in table.stdout
    params = tmp_path / "params.json"
    params.write_text(run("clv", "fit", "--summary", str(cdnow_csv), "--format", "json").stdout)
    out = tmp_path / "clv.csv"
    result = run("clv", "predict", "--summary", str(cdnow_csv), "--params", str(params),
                 "--output", str(out), "--margin", "0.3")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2357
    assert set(rows[0]) >= {"customer_id", "p_alive", "expected_purchases", "clv"}
    clv = [float(r["clv"]) for r in rows]
    assert clv == sorted(clv, reverse=True)


def test_clv_fit_rejects_a_summary_without_the_columns(run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("frequency,recency\n1,2\n")
    result = run("clv", "fit", "--summary", str(bad))
    assert result.exit_code == 3
    assert "T" in result.output and "monetary_value" in result.output


@pytest.mark.parametrize("args", [
    ("rfm",), ("rfm", "--segments"), ("cohorts",), ("cohorts", "--by", "channel"),
    ("churn",), ("churn", "--period", "week"), ("segments",), ("segments", "--scorecard"),
    ("segments", "--by", "rfm_segment"),
])
def test_views_on_a_workspace(run, db, args) -> None:
    result = run(*args, "--db", str(db))
    assert result.exit_code == 0, result.output
    as_json = run(*args, "--db", str(db), "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert isinstance(json.loads(as_json.stdout), list)


def test_rfm_json_rows(run, db) -> None:
    rows = json.loads(run("rfm", "--db", str(db), "--format", "json").stdout)
    assert [(r["customer_id"], r["rfm_score"], r["segment"]) for r in rows] == [
        ("a", "355", "loyal"), ("b", "111", "hibernating"), ("c", "531", "potential")]


def test_clv_on_a_workspace_without_repeat_buyers_is_a_usage_error(run, tmp_path: Path) -> None:
    path = tmp_path / "one.parquet"
    pq.write_table(purchase_events([("z", "2024-01-01 10:00", 5.0, "o1")]), path)
    db = tmp_path / "one.duckdb"
    assert run("ingest", str(path), "--kind", "events", "--db", str(db)).exit_code == 0
    result = run("clv", "fit", "--db", str(db))
    assert result.exit_code == 2
    assert "repeat purchase" in result.output


def test_clv_predict_output_from_a_workspace_is_registered_for_erasure(run, db, tmp_path):
    from touchlens import Workspace
    from touchlens.governance.files import written_files

    out = tmp_path / "clv-ws.csv"
    result = run("clv", "predict", "--db", str(db), "--output", str(out))
    assert result.exit_code == 0, result.output
    with Workspace.open(db) as ws:
        assert str(out) in set(written_files(ws.store)["path"])
