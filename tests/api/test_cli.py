"""``touchlens keys`` and ``touchlens serve`` (uvicorn replaced by a stub)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from touchlens import Workspace
from touchlens.api.security import verify_key
from touchlens.cli import app


def run(*args: str):
    return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    db = str(tmp_path / "k.duckdb")
    r = run("keys", "create", "--scope", "write", "--label", "shop", "--db", db)
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[-1]
    assert key.startswith("tlw_")
    with Workspace.open(db) as ws:
        info = verify_key(ws, key)
    assert info is not None and info.scope == "write" and info.label == "shop"
    listed = run("keys", "list", "--db", db)
    assert info.key_id in listed.stdout and "shop" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout
    assert run("keys", "revoke", info.key_id, "--db", db).exit_code == 0
    assert "revoked" in run("keys", "list", "--db", db).stdout
    assert run("keys", "revoke", info.key_id, "--db", db).exit_code == 2
    with Workspace.open(db) as ws:
        assert verify_key(ws, key) is None
        log = ws.audit_log()
        changes = log[log.action.isin(["key_create", "key_revoke"])]
        assert list(changes.action) == ["key_create", "key_revoke"]
        assert set(changes.target) == {info.key_id} and set(changes.actor) == {"cli"}
        assert key.split("_", 2)[2] not in log.to_string()  # the secret is never logged


def test_keys_create_refuses_unknown_scope(tmp_path: Path) -> None:
    r = run("keys", "create", "--scope", "owner", "--db", str(tmp_path / "k.duckdb"))
    assert r.exit_code == 2 and "scope" in r.output


def test_serve_prints_a_one_time_link(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {}

    def fake_run(app, host, port, log_level):
        calls.update(app=app, host=host, port=port)

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", fake_run)
    r = run("serve", "--db", str(tmp_path / "s.duckdb"), "--port", "9999")
    assert r.exit_code == 0, r.output
    assert calls["host"] == "127.0.0.1" and calls["port"] == 9999
    token = calls["app"].state.settings.login_token
    assert token and f"http://127.0.0.1:9999/?token={token}" in r.output.replace("\n", "")
    assert calls["app"].state.settings.cors_origins == []
