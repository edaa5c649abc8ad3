"""Keys (hashed, in the workspace) and dashboard sessions (in memory)."""

from touchlens.api.security.keys import (
    SCOPES,
    KeyInfo,
    create_key,
    list_keys,
    revoke_key,
    verify_key,
)
from touchlens.api.security.sessions import Session, SessionStore

__all__ = ["SCOPES", "KeyInfo", "Session", "SessionStore", "create_key", "list_keys",
           "revoke_key", "verify_key"]
