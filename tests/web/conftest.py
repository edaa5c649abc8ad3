"""Web fixtures: a small simulated workspace with a read key (built once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from touchlens import Workspace
from touchlens.api.security import create_key


@dataclass
class WebDb:
    path: Path
    read_key: str
    write_key: str


@pytest.fixture(scope="session")
def web_db(tmp_path_factory: pytest.TempPathFactory) -> WebDb:
    """300 simulated customers over 60 days (Jan–Feb 2026), a read and a write key."""
    from touchlens.simulate import simulate_retailer

    path = tmp_path_factory.mktemp("web") / "ws.duckdb"
    world = simulate_retailer(300, seed=3, days=60)
    with Workspace.open(path) as ws:
        for kind in ("events", "feedback", "costs", "identities"):
            ws.ingest_arrow(getattr(world, kind), kind, source=f"sim:{kind}")
        read_key, _ = create_key(ws, "read", "web tests")
        write_key, _ = create_key(ws, "write", "web tests")
    return WebDb(path, read_key, write_key)
