"""Dashboard sessions: a random id in an HttpOnly cookie, mapped in memory to a scope.

A session starts from a read key typed into the login form, or from the one-time token that
``touchlens serve`` prints (``/?token=…``, Jupyter-style: it works once, then only the
cookie it set does). Sessions live in the server's memory: a restart logs everyone out.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from dataclasses import dataclass

COOKIE = "touchlens_session"


@dataclass(frozen=True)
class Session:
    """A logged-in browser: its scope, the key it came from (None for the one-time token) and
    its expiry (``time.time()`` seconds)."""

    scope: str
    key_id: str | None
    expires_at: float


class SessionStore:
    """Thread-safe map of session ids to :class:`Session`, plus the one-time login token."""

    def __init__(self, *, hours: float, login_token: str | None = None) -> None:
        self._ttl = hours * 3600.0
        self._sessions: dict[str, Session] = {}
        self._token = login_token
        self._lock = threading.Lock()

    def start(self, scope: str, key_id: str | None) -> str:
        """A new session id for ``scope``."""
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = Session(scope, key_id, time.time() + self._ttl)
        return sid

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        with self._lock:
            session = self._sessions.get(sid)
            if session and session.expires_at < time.time():
                del self._sessions[sid]
                return None
            return session

    def end(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def use_token(self, token: str | None) -> bool:
        """True when ``token`` is the one-time login token, which is then spent (works once)."""
        with self._lock:
            expected = self._token
            ok = bool(token and expected and hmac.compare_digest(token, expected))
            if ok:
                self._token = None
            return ok
