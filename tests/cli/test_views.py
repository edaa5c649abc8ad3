"""Read-only commands: stable JSON/CSV columns, tables, --db resolution, error translation."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

from touchlens import Workspace
from touchlens.cli.views import (
    QUARANTINE_COLUMNS,
    SCORECARD_COLUMNS,
    TOP_PATH_COLUMNS,
    TOUCHPOINT_COLUMNS,
)
from touchlens.errors import ConfigError, StoreError

VIEWS = [
    (["touchpoints"], TOUCHPOINT_COLUMNS),
    (["journeys"], TOP_PATH_COLUMNS),
    (["journeys", "--converting-only", "--level", "channel", "--top", "3"], TOP_PATH_COLUMNS),
    (["scorecard"], SCORECARD_COLUMNS),
    (["quarantine"], QUARANTINE_COLUMNS),
]


@pytest.mark.parametrize(("args", "columns"), VIEWS)
def test_json_is_an_array_of_rows_with_the_documented_columns(
    run: Callable[..., Result], tiny_db: Path, args: list[str], columns: tuple[str, ...]
) -> None:
    result = run(*args, "--format", "json", "--db", str(tiny_db))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    assert all(tuple(row) == columns for row in rows)


@pytest.mark.parametrize(("args", "columns"), VIEWS)
def test_csv_has_the_documented_header(
    run: Callable[..., Result], tiny_db: Path, args: list[str], columns: tuple[str, ...]
) -> None:
    result = run(*args, "--format", "csv", "--db", str(tiny_db))
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert tuple(rows[0]) == columns
    assert all(len(row) == len(columns) for row in rows)


def test_views_return_the_tiny_data(run: Callable[..., Result], tiny_db: Path) -> None:
    touchpoints = json.loads(run("touchpoints", "-f", "json", "--db", str(tiny_db)).stdout)
    assert {"newsletter", "search_ad", "store_cashier"} <= {t["touchpoint"] for t in touchpoints}
    paths = json.loads(run("journeys", "-f", "json", "--top", "50", "--db", str(tiny_db)).stdout)
    assert 0 < len(paths) <= 50
    assert sum(p["n_conversions"] for p in paths) == 3  # 2 purchases + 1 signup


def test_quarantine_lists_the_bad_row(
    run: Callable[..., Result], events_csv: Path, tmp_path: Path
) -> None:
    assert run("ingest", str(events_csv), "--kind", "events").exit_code == 0
    rows = json.loads(run("quarantine", "--format", "json").stdout)
    [bad] = rows
    assert bad["row_number"] == 3
    assert bad["reason"]
    assert bad["quarantined_at"].endswith("Z")
    table = run("quarantine")
    assert table.exit_code == 0
    assert "events.csv" in table.stdout


@pytest.mark.parametrize("args", [["touchpoints"], ["journeys"], ["scorecard"]])
def test_tables_render(run: Callable[..., Result], tiny_db: Path, args: list[str]) -> None:
    result = run(*args, "--db", str(tiny_db))
    assert result.exit_code == 0, result.output
    assert "touchpoint" in result.stdout or "path" in result.stdout


def test_db_from_env_global_option_and_command_option(
    run: Callable[..., Result], tiny_db: Path, tmp_path: Path
) -> None:
    elsewhere = str(tmp_path / "nowhere.duckdb")
    assert run("touchpoints", env={"TOUCHLENS_DB": str(tiny_db)}).exit_code == 0
    assert run("--db", str(tiny_db), "touchpoints").exit_code == 0
    assert run("--db", elsewhere, "touchpoints", "--db", str(tiny_db)).exit_code == 0
    assert run("--db", elsewhere, "touchpoints").exit_code == 2


def test_missing_workspace_is_a_usage_error(run: Callable[..., Result], tmp_path: Path) -> None:
    result = run("scorecard", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 2
    assert "none.duckdb" in result.stderr
    assert not (tmp_path / "none.duckdb").exists()


@pytest.mark.parametrize(
    ("error", "code"), [(ConfigError("bad setting"), 2), (StoreError("locked"), 1)]
)
def test_touchlens_errors_become_exit_codes(
    run: Callable[..., Result], tiny_db: Path, monkeypatch: pytest.MonkeyPatch,
    error: Exception, code: int,
) -> None:
    def fail(self: Workspace) -> None:
        raise error

    monkeypatch.setattr(Workspace, "scorecard", fail)
    result = run("scorecard", "--db", str(tiny_db))
    assert result.exit_code == code
    assert str(error) in result.stderr
    assert result.stdout == ""


def test_unexpected_errors_are_not_swallowed(
    run: Callable[..., Result], tiny_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: Workspace) -> None:
        raise ZeroDivisionError("bug")

    monkeypatch.setattr(Workspace, "scorecard", fail)
    result = run("scorecard", "--db", str(tiny_db))
    assert isinstance(result.exception, ZeroDivisionError)
    assert result.exit_code == 1
