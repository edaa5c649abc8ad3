"""API keys of a workspace, kept in its ``api_keys`` table as salted SHA-256 hashes.

A key reads ``tl<r|w>_<key_id>_<secret>``: the prefix tells the scope at a glance, ``key_id``
finds the row, and only ``sha256(salt + secret)`` is stored (``key_hash`` =
``sha256$<salt>$<hex digest>``, a fresh 16-byte salt per key). The plain key is shown once, at
creation. Scopes: ``write`` (the collector), ``read`` (analytics and the dashboard) and
``admin`` (erasure over the API: ``POST /v1/erase``). A key holds exactly one scope. Creating
and revoking a key are audited (``key_create`` / ``key_revoke``, target the key id).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from touchlens.errors import ConfigError
from touchlens.governance import audit
from touchlens.store.schema import API_KEYS

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

SCOPES = ("read", "write", "admin")
TABLE = "api_keys"
LIST_COLUMNS = ["key_id", "scope", "label", "created_at", "revoked_at"]
_TOKEN = re.compile(r"^tl([rwa])_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")


@dataclass(frozen=True)
class KeyInfo:
    """A verified key: its id, scope and label."""

    key_id: str
    scope: str
    label: str | None


def _digest(salt: str, secret: str) -> str:
    return hashlib.sha256((salt + secret).encode()).hexdigest()


def hash_secret(secret: str, salt: str | None = None) -> str:
    """The stored form of a secret: ``sha256$<salt>$<sha256(salt + secret)>``."""
    salt = salt or secrets.token_hex(16)
    return f"sha256${salt}${_digest(salt, secret)}"


def _matches(stored: str, secret: str) -> bool:
    algo, _, rest = stored.partition("$")
    salt, _, digest = rest.partition("$")
    if algo != "sha256" or not salt or not digest:
        return False
    return hmac.compare_digest(digest, _digest(salt, secret))


def create_key(ws: Workspace, scope: str, label: str | None = None) -> tuple[str, KeyInfo]:
    """Create a key; returns ``(plain_key, info)``. The plain key is not stored anywhere."""
    if scope not in SCOPES:
        raise ConfigError(f"scope must be one of {SCOPES}, not {scope!r}")
    key_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = pa.table({
        "key_id": [key_id], "key_hash": [hash_secret(secret)], "scope": [scope],
        "created_at": [datetime.now(UTC)], "revoked_at": pa.array([None], API_KEYS.field(
            "revoked_at").type), "label": [label],
    }, schema=API_KEYS)
    with ws.store.transaction():  # the key and its audit entry commit together
        ws.store.append(TABLE, row)
        audit.record(ws.store, "key_create", key_id, {"scope": scope})
    return f"tl{scope[0]}_{key_id}_{secret}", KeyInfo(key_id, scope, label)


def list_keys(ws: Workspace) -> pd.DataFrame:
    """Every key (revoked ones too), oldest first: key_id, scope, label, created_at,
    revoked_at. Hashes are never returned."""
    t = ws.store.table(TABLE)
    return ws.store.execute(t.select(LIST_COLUMNS).order_by(["created_at", "key_id"]))


def revoke_key(ws: Workspace, key_id: str) -> bool:
    """Revoke a key by id; False when there is no such (unrevoked) key."""
    t = ws.store.table(TABLE)
    rows = ws.store.execute(t.filter((t.key_id == key_id) & t.revoked_at.isnull()))
    if rows.empty:
        return False
    updated = pa.Table.from_pandas(rows.assign(revoked_at=pd.Timestamp.now(tz="UTC")),
                                   schema=API_KEYS, preserve_index=False)
    with ws.store.transaction():
        ws.store.delete_where(TABLE, "key_id", [key_id])
        ws.store.append(TABLE, updated)
        audit.record(ws.store, "key_revoke", key_id, {"scope": str(rows["scope"].iloc[0])})
    return True


def verify_key(ws: Workspace, token: str | None) -> KeyInfo | None:
    """The key's info when ``token`` is a valid, unrevoked key of this workspace, else None."""
    match = _TOKEN.match((token or "").strip())
    if not match:
        return None
    prefix, key_id, secret = match.groups()
    t = ws.store.table(TABLE)
    rows = ws.store.execute(t.filter((t.key_id == key_id) & t.revoked_at.isnull()))
    for row in rows.itertuples():
        if row.scope[0] == prefix and _matches(row.key_hash, secret):
            return KeyInfo(row.key_id, row.scope, None if pd.isna(row.label) else row.label)
    return None
