"""API keys: stored hashed, verified by id + secret, scoped, revocable."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens import ConfigError, Workspace
from touchlens.api.security import create_key, list_keys, revoke_key, verify_key
from touchlens.api.security.keys import _matches, hash_secret


@pytest.fixture
def ws(tmp_path: Path):
    with Workspace.open(tmp_path / "keys.duckdb") as workspace:
        yield workspace


def test_created_key_verifies_and_only_its_hash_is_stored(ws: Workspace) -> None:
    plain, info = create_key(ws, "read", "dashboard")
    assert plain.startswith("tlr_") and info.scope == "read"
    assert verify_key(ws, plain) == info
    stored = ws.store.execute(ws.store.table("api_keys"))
    assert len(stored) == 1
    secret = plain.split("_", 2)[2]
    assert secret not in stored["key_hash"].iloc[0]
    assert stored["key_hash"].iloc[0].startswith("sha256$")
    assert "key_hash" not in list_keys(ws).columns


@pytest.mark.parametrize("mangle", [
    lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"),  # wrong secret
    lambda k: "tlw" + k[3:],  # scope prefix changed
    lambda k: k.replace("_", "-"),  # malformed
    lambda k: "",
    lambda k: "Bearer " + k,
])
def test_tampered_keys_do_not_verify(ws: Workspace, mangle) -> None:
    plain, _ = create_key(ws, "read")
    assert verify_key(ws, mangle(plain)) is None


def test_revoked_key_stops_working(ws: Workspace) -> None:
    plain, info = create_key(ws, "write")
    assert revoke_key(ws, info.key_id)
    assert verify_key(ws, plain) is None
    assert not revoke_key(ws, info.key_id)  # already revoked
    listed = list_keys(ws)
    assert listed["revoked_at"].notna().all()


def test_unknown_scope_is_a_config_error(ws: Workspace) -> None:
    with pytest.raises(ConfigError, match="scope"):
        create_key(ws, "owner")


def test_keys_differ_and_salts_differ(ws: Workspace) -> None:
    a, _ = create_key(ws, "read")
    b, _ = create_key(ws, "read")
    assert a != b
    hashes = ws.store.execute(ws.store.table("api_keys"))["key_hash"]
    assert hashes.str.split("$").str[1].nunique() == 2


@settings(max_examples=50, deadline=None)
@given(secret=st.text(min_size=1, max_size=80), other=st.text(min_size=1, max_size=80))
def test_hash_matches_only_its_secret(secret: str, other: str) -> None:
    stored = hash_secret(secret)
    assert _matches(stored, secret)
    assert _matches(stored, other) == (other == secret)


def test_admin_keys_and_key_changes_are_audited(ws: Workspace) -> None:
    from touchlens.governance import acting_as

    with acting_as("cli"):
        key, info = create_key(ws, "admin", "dpo")
        assert revoke_key(ws, info.key_id)
    assert key.startswith("tla_") and info.scope == "admin"
    log = ws.audit_log()
    assert list(log.action) == ["key_create", "key_revoke"]
    assert list(log.target) == [info.key_id] * 2 and set(log.actor) == {"cli"}
    assert key.split("_", 2)[2] not in log.to_string()
