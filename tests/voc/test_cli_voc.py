"""``touchlens voc …`` commands (CliRunner; no live process)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from touchlens import Workspace
from touchlens.cli import app


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOUCHLENS_DB", raising=False)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args), env={"COLUMNS": "200"})


@pytest.fixture
def db(tmp_path: Path, small_feedback: pa.Table) -> Path:
    path = tmp_path / "voc.duckdb"
    with Workspace.open(path) as ws:
        ws.ingest_arrow(small_feedback, "feedback")
    return path


def test_sentiment_single_text_json_lines_without_workspace(run, tmp_path: Path) -> None:
    res = run("voc", "sentiment", "--text", "nie polecam, kurier sie spoznil", "--text",
              "not bad at all", "--mode", "fast", "--format", "json")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert rows[0] == {"row": 0, "language": "pl", "label": "negative",
                       "score": rows[0]["score"], "topics": ["delivery"]}
    assert rows[1]["label"] == "positive"
    assert not (tmp_path / "touchlens.duckdb").exists()


def test_sentiment_csv_file_with_per_row_errors(run, tmp_path: Path) -> None:
    f = tmp_path / "texts.csv"
    f.write_text('id,comment\n1,"Świetna obsługa, polecam!"\n2,\n3,Das ist gut\n4,👍\n',
                 encoding="utf-8")
    res = run("voc", "sentiment", str(f), "--text-column", "comment", "--mode", "fast",
              "--format", "json", "--explain")
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["label"] for r in rows] == ["positive", None, None, "positive"]
    assert "error" in rows[1] and "not supported" in rows[2]["error"]
    assert "polec*" in rows[0]["explanation"]


def test_sentiment_reads_windows_1250(run, tmp_path: Path) -> None:
    f = tmp_path / "cp.csv"
    f.write_bytes("text\nKurier się spóźnił, żenada\n".encode("cp1250"))
    res = run("voc", "sentiment", str(f), "--mode", "fast", "--format", "csv")
    assert res.exit_code == 0, res.output
    assert res.stdout.splitlines()[1].startswith("0,pl,negative")


def test_sentiment_usage_and_data_errors(run, tmp_path: Path) -> None:
    assert run("voc", "sentiment").exit_code == 2
    f = tmp_path / "t.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    res = run("voc", "sentiment", str(f))
    assert res.exit_code == 3 and "no column 'text'" in res.output
    assert run("voc", "sentiment", str(tmp_path / "missing.csv")).exit_code == 3


def test_scores_json_by_month_and_touchpoint(run, db: Path) -> None:
    res = run("voc", "scores", "--by", "month", "--format", "json", "--db", str(db))
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert [r["period"] for r in rows] == ["2024-01-01", "2024-02-01", "2024-03-01"]
    assert {"nps", "nps_low", "nps_high", "nps_n", "nps_small_n"} <= set(rows[0])
    table = run("voc", "scores", "--by", "touchpoint", "--db", str(db))
    assert table.exit_code == 0 and "delivery_courier" in table.stdout and "n < 30" in table.stdout


def test_analyze_topics_pain_points_changes(run, db: Path) -> None:
    res = run("voc", "analyze", "--mode", "fast", "--db", str(db))
    assert res.exit_code == 0, res.output
    assert "analysed 10 new text(s) in fast mode" in res.output
    topics = json.loads(run("voc", "topics", "--format", "json", "--db", str(db)).stdout)
    assert topics[0]["topic"] == "delivery"
    pp = run("voc", "pain-points", "--format", "csv", "--db", str(db))
    assert pp.exit_code == 0 and pp.stdout.splitlines()[1].startswith("1,delivery,")
    ch = run("voc", "changes", "--db", str(db))
    assert ch.exit_code == 0 and "Welch" in ch.stdout


def test_reading_commands_need_a_workspace(run, tmp_path: Path) -> None:
    assert run("voc", "scores", "--db", str(tmp_path / "none.duckdb")).exit_code == 2
