"""``touchlens demo`` on a tiny simulated retailer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import Result

TABLE_TITLES = ("Touchpoint catalogue", "Top 10 converting journeys", "Touchpoint scorecard")


@pytest.fixture
def demo_db(run: Callable[..., Result], tmp_path: Path) -> tuple[Path, Result]:
    db = tmp_path / "demo.duckdb"
    return db, run("demo", "--customers", "300", "--days", "30", "--seed", "1", "--db", str(db))


def test_demo_prints_the_three_tables(demo_db: tuple[Path, Result]) -> None:
    db, result = demo_db
    assert result.exit_code == 0, result.output
    for title in TABLE_TITLES:
        assert title in result.stdout
    for header in ("cost type", "conv. rate", "infl. revenue", "CSAT (n)", "NPS (n)"):
        assert header in result.stdout
    assert "Next steps" in result.stdout
    assert "Done in" in result.stdout
    for step in ("simulate", "ingest events", "ingest feedback", "ingest costs",
                 "ingest identities", "build journeys"):
        assert step in result.stderr
    assert db.exists()


def test_demo_rerun_replaces_its_own_workspace(
    run: Callable[..., Result], demo_db: tuple[Path, Result]
) -> None:
    db, _ = demo_db
    result = run("demo", "--customers", "300", "--days", "30", "--seed", "1", "--db", str(db))
    assert result.exit_code == 0, result.output
    assert "replaced" in result.stderr


def test_demo_refuses_to_overwrite_user_data_without_fresh(
    run: Callable[..., Result], tiny_db: Path
) -> None:
    refused = run("demo", "--customers", "300", "--days", "30", "--db", str(tiny_db))
    assert refused.exit_code == 2
    assert "--fresh" in refused.stderr
    assert run("touchpoints", "--db", str(tiny_db)).exit_code == 0  # still intact
    fresh = run("demo", "--customers", "300", "--days", "30", "--db", str(tiny_db), "--fresh")
    assert fresh.exit_code == 0, fresh.output


def test_demo_rejects_a_non_positive_size(run: Callable[..., Result]) -> None:
    assert run("demo", "--customers", "0").exit_code == 2


def test_demo_serves_the_dashboard_when_asked_and_in_a_terminal(
    run: Callable[..., Result], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from touchlens.cli import demo as demo_module
    from touchlens.cli import serve as serve_module

    served: list[Path] = []
    monkeypatch.setattr(serve_module, "run_server", lambda path, port: served.append(path))
    db = tmp_path / "served.duckdb"
    args = ("demo", "--customers", "200", "--days", "20", "--db", str(db))
    assert run(*args, "--no-serve").exit_code == 0 and served == []
    result = run(*args, "--serve", "--port", "8799")
    assert result.exit_code == 0, result.output
    assert served == [db]
    # without a flag: a terminal serves, a pipe or a script does not
    assert demo_module.should_serve(None, interactive=True)
    assert not demo_module.should_serve(None, interactive=False)
    assert not demo_module.should_serve(False, interactive=True)
