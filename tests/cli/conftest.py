"""CLI fixtures: a runner with a wide terminal and small input files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner, Result

from touchlens.cli import app

EVENTS_CSV = """\
event_id,occurred_at,customer_id,channel,touchpoint,event_type,revenue,currency
x1,2024-03-01T09:00:00Z,k1,search,search_ad,click,,
x2,2024-03-01T09:05:00Z,k1,web,product_page,page_view,,
x3,not-a-timestamp,k1,web,checkout_page,purchase,50.0,EUR
x4,2024-03-02T10:00:00Z,k2,email,newsletter,open,,
"""


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """``run(*args)`` invokes ``touchlens`` in ``tmp_path``, with a 200-column terminal."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TOUCHLENS_DB", raising=False)
    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
        return runner.invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})

    return invoke


@pytest.fixture
def events_csv(tmp_path: Path) -> Path:
    """4 events, one with an unparsable timestamp (row 3)."""
    path = tmp_path / "events.csv"
    path.write_text(EVENTS_CSV, encoding="utf-8")
    return path


@pytest.fixture
def tiny_parquet(tmp_path: Path, tiny_events: pa.Table) -> Path:
    """The shared 20-event fixture as a Parquet file."""
    path = tmp_path / "tiny.parquet"
    pq.write_table(tiny_events, path)
    return path


@pytest.fixture
def tiny_db(run: Callable[..., Result], tiny_parquet: Path, tmp_path: Path) -> Path:
    """A workspace holding the 20 tiny events, ingested through the CLI."""
    db = tmp_path / "tiny.duckdb"
    result = run("ingest", str(tiny_parquet), "--kind", "events", "--db", str(db))
    assert result.exit_code == 0, result.output
    return db
