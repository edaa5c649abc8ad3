"""``touchlens ingest``: per-file summaries, JSON Lines output and exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from touchlens.cli.ingest import INGEST_COLUMNS


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_summary_accounts_for_every_row(run: Callable[..., Result], events_csv: Path) -> None:
    result = run("ingest", str(events_csv), "--kind", "events", "--output", "json")
    assert result.exit_code == 0, result.output
    [summary] = _json_lines(result.stdout)
    assert tuple(summary) == INGEST_COLUMNS
    assert Path(summary["file"]).name == "events.csv"
    assert summary["rows_in"] == 4
    assert summary["quarantined"] == 1
    assert summary["rows_in"] == summary["stored"] + summary["quarantined"] + summary["duplicates"]


def test_format_json_means_json_output(run: Callable[..., Result], events_csv: Path) -> None:
    first = run("ingest", str(events_csv), "--kind", "events", "--format", "json")
    again = run("ingest", str(events_csv), "--kind", "events", "--format", "json")
    assert first.exit_code == again.exit_code == 0, again.output
    [summary] = _json_lines(again.stdout)
    assert summary["stored"] == 0  # a re-run stores nothing new
    assert summary["rows_in"] == summary["stored"] + summary["quarantined"] + summary["duplicates"]


def test_format_json_contradicting_output_table_is_a_usage_error(
    run: Callable[..., Result], events_csv: Path
) -> None:
    result = run("ingest", str(events_csv), "--kind", "events", "--format", "json",
                 "--output", "table")
    assert result.exit_code == 2


def test_table_summary(run: Callable[..., Result], events_csv: Path) -> None:
    result = run("ingest", str(events_csv), "--kind", "events")
    assert result.exit_code == 0, result.output
    for header in ("file", "rows in", "stored", "quarantined", "duplicates", "events.csv"):
        assert header in result.stdout
    assert "touchlens quarantine" in result.stderr


def test_unreadable_file_exits_3_naming_it_and_ingests_the_rest(
    run: Callable[..., Result], events_csv: Path, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(b"\x00\x01 this is not parquet")
    missing = tmp_path / "missing.csv"
    result = run("ingest", str(garbage), str(missing), str(events_csv), "--kind", "events",
                 "--output", "json")
    assert result.exit_code == 3
    assert "garbage.parquet" in result.stderr
    assert "missing.csv" in result.stderr
    [summary] = _json_lines(result.stdout)  # nothing but the good file's line on stdout
    assert Path(summary["file"]).name == "events.csv"


def test_file_lacking_required_columns_exits_3(
    run: Callable[..., Result], tmp_path: Path
) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("foo,bar\n1,2\n", encoding="utf-8")
    result = run("ingest", str(path), "--kind", "events")
    assert result.exit_code == 3
    assert "wrong.csv" in result.stderr


def test_unknown_kind_is_a_usage_error(run: Callable[..., Result], events_csv: Path) -> None:
    result = run("ingest", str(events_csv), "--kind", "nonsense")
    assert result.exit_code == 2
