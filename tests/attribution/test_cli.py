"""``touchlens attribution`` and ``touchlens journeys --export-paths``."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from touchlens import Workspace
from touchlens.attribution import read_paths, result_columns
from touchlens.cli import app


@pytest.fixture
def tiny_db(tmp_path: Path, tiny_events: pa.Table) -> Path:
    db = tmp_path / "tiny.duckdb"
    with Workspace.open(db) as ws:
        ws.ingest_arrow(tiny_events, "events")
    return db


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_json_rows_have_the_documented_columns(tiny_db: Path) -> None:
    result = run("attribution", "--db", str(tiny_db), "-m", "first,markov", "--exclude", "none",
                 "--format", "json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(tuple(r) == result_columns("channel") for r in rows)
    firsts = {r["channel"]: r["conversions"] for r in rows if r["model"] == "first"}
    assert firsts["display"] == 1.0 and firsts["email"] == 1.0


def test_table_compare_and_roi(tiny_db: Path) -> None:
    table = run("attribution", "--db", str(tiny_db), "-m", "linear,markov")
    assert table.exit_code == 0, table.output
    assert "Attribution by channel" in table.stdout and "excluded touches: site" in table.stdout
    both = run("attribution", "--db", str(tiny_db), "--compare", "-m", "first,last",
               "--format", "csv")
    assert both.exit_code == 0, both.output
    assert both.stdout.splitlines()[0] == "channel,first,last,min_share,max_share,spread"
    roi = run("attribution", "--db", str(tiny_db), "--roi", "-m", "linear")
    assert roi.exit_code == 0, roi.output
    assert "SUGGESTION" in roi.stdout and "Suggestion only" in roi.stdout


def test_export_then_read_paths(tiny_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "paths.csv"
    exported = run("journeys", "--db", str(tiny_db), "--level", "channel", "--export-paths",
                   str(out))
    assert exported.exit_code == 0, exported.output
    assert len(read_paths(out)) == 4
    again = run("attribution", "--paths", str(out), "-m", "last", "--format", "json")
    assert again.exit_code == 0, again.output
    lasts = {r["channel"]: r["conversions"] for r in json.loads(again.stdout)
             if r["conversions"]}
    assert lasts == {"email": 1.0, "search": 1.0, "store": 1.0}


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--model", "magic"], 2, "unknown model 'magic'"),
    (["--compare", "--roi"], 2, "pick one"),
    (["--bootstrap", "5"], 2, "at least 20"),
])
def test_usage_errors(tiny_db: Path, args: list[str], code: int, message: str) -> None:
    result = run("attribution", "--db", str(tiny_db), *args)
    assert result.exit_code == code
    assert message in result.output


def test_bad_path_file_is_a_data_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("path,total_conversions\na > b,1\n,x\n", encoding="utf-8")
    result = run("attribution", "--paths", str(bad), "-m", "first")
    assert result.exit_code == 3
    assert "row 2" in result.output
