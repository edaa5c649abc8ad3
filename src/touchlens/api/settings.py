"""Settings of the HTTP face, validated once (pydantic); nothing is read at import time."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

MAX_BATCH_ITEMS = 1000
MAX_BODY_BYTES = 4 * 1024 * 1024


class ApiSettings(BaseModel):
    """What :func:`touchlens.api.create_app` needs.

    - ``db``: the DuckDB workspace file the server owns (one process per file: DuckDB's lock).
    - ``max_batch_items`` / ``max_body_bytes``: the largest collector request (items, bytes);
      larger ones get 413 and nothing is stored.
    - ``writer_max_rows``: rows the single writer thread ingests in one transaction (it merges
      queued requests up to this size); ``writer_queue_size``: queued requests before the
      collector answers 503 (back-pressure). ``writer_linger_ms``: how long the writer
      waits, at most, for requests already being received before it commits, so that
      requests sent together share one transaction (only while some are announced).
    - ``cache_entries``: analytics results kept per data version (the writer bumps it).
    - ``max_lag_s``: while the collector streams events in, how many seconds the analytics
      results (dashboard, read API) may lag behind them, so they are reused between commits
      instead of recomputed after each; 0 = every commit is visible at once. Other writes
      (ingest, erasure, experiments) are always visible at once.
    - ``cors_origins``: browser origins allowed to call the API; empty = CORS off (default).
    - ``login_token``: a one-time token that opens the dashboard (``/?token=…``) once; ``None``
      = none (log in with a read key).
    - ``secure_cookies``: set the session cookie's ``Secure`` flag (serve behind HTTPS).
    - ``session_hours``: lifetime of a dashboard session.
    """

    db: Path
    max_batch_items: int = Field(MAX_BATCH_ITEMS, ge=1, le=100_000)
    max_body_bytes: int = Field(MAX_BODY_BYTES, ge=1024)
    writer_max_rows: int = Field(10_000, ge=1)
    writer_queue_size: int = Field(1_000, ge=1)
    writer_linger_ms: float = Field(10.0, ge=0, le=1000)
    cache_entries: int = Field(256, ge=0)
    max_lag_s: float = Field(10.0, ge=0, le=3600)
    cors_origins: list[str] = Field(default_factory=list)
    login_token: str | None = None
    secure_cookies: bool = False
    session_hours: float = Field(12.0, gt=0)
