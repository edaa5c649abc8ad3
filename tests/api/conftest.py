"""API fixtures: a small simulated workspace, its keys, and a TestClient on the app factory.

- ``template_db`` (session): 300 simulated customers over 60 days (Jan–Feb 2026), built once.
- ``served``: a fresh copy of it with a read and a write key; ``served.client`` is a
  TestClient inside the app's lifespan (writer thread running), closed after the test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from touchlens import Workspace
from touchlens.api import ApiSettings, create_app
from touchlens.api.security import create_key

LOGIN_TOKEN = "one-time-token-for-tests"


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from touchlens.simulate import simulate_retailer

    path = tmp_path_factory.mktemp("api-template") / "ws.duckdb"
    world = simulate_retailer(300, seed=3, days=60)
    with Workspace.open(path) as ws:
        for kind in ("events", "feedback", "costs", "identities"):
            ws.ingest_arrow(getattr(world, kind), kind, source=f"sim:{kind}")
    return path


@dataclass
class Served:
    client: TestClient
    db: Path
    read_key: str
    write_key: str

    @property
    def read(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.read_key}"}

    @property
    def write(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.write_key}"}


def open_served(db: Path, **settings: object) -> Iterator[Served]:
    with Workspace.open(db) as ws:
        read_key, _ = create_key(ws, "read", "tests")
        write_key, _ = create_key(ws, "write", "tests")
    app = create_app(ApiSettings(db=db, login_token=LOGIN_TOKEN, **settings))
    with TestClient(app) as client:
        yield Served(client, db, read_key, write_key)


@pytest.fixture
def served(template_db: Path, tmp_path: Path) -> Iterator[Served]:
    db = tmp_path / "ws.duckdb"
    shutil.copy(template_db, db)
    yield from open_served(db)


@pytest.fixture
def empty_served(tmp_path: Path) -> Iterator[Served]:
    """A served workspace with no data at all (a collector-first start)."""
    yield from open_served(tmp_path / "empty.duckdb", max_batch_items=50,
                           max_body_bytes=64 * 1024)
