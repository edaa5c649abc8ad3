"""Workspace settings, validated once (pydantic)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

DEFAULT_DB = "touchlens.duckdb"


def default_db_path() -> Path:
    """The workspace file: ``$TOUCHLENS_DB`` if set, else ``./touchlens.duckdb``."""
    return Path(os.environ.get("TOUCHLENS_DB", DEFAULT_DB))


# Driver heap of a local Spark session touchlens starts (local mode: every task runs in it).
# Spark's default of 1g runs out at ~10M events; the JVM takes only what it uses.
SPARK_DRIVER_MEMORY = "4g"


class Settings(BaseModel):
    """Analysis and engine settings of a workspace.

    - ``lookback_days``: a conversion journey holds the touches of at most this many days
      before the conversion (DOMAIN.md default 30); older touches form a separate null journey.
    - ``currency``: ISO 4217 code given to revenue/spend rows that carry none.
    - ``duckdb_memory_limit`` / ``duckdb_threads`` / ``duckdb_temp_directory``: engine limits.
    - ``spark_driver_memory``: heap of the local Spark driver touchlens starts (in local mode
      the driver runs every task; Spark's own default of 1g runs out of memory at ~10M
      events). Ignored for a session the caller passes in.
    - ``consent_default`` / ``retention_days``: privacy settings (docs/privacy.md).
    """

    lookback_days: float = Field(30.0, gt=0)
    currency: str = Field("PLN", min_length=3, max_length=3)
    duckdb_memory_limit: str | None = None
    duckdb_threads: int | None = Field(None, ge=1)
    duckdb_temp_directory: str | None = None
    spark_driver_memory: str = Field(SPARK_DRIVER_MEMORY, pattern=r"^\d+[kmgtKMGT]$")
    # Governance (docs/privacy.md): customers without a consent record count as "denied"
    # (opt-in) or "granted" (opt-out); retention periods in days per table.
    consent_default: Literal["denied", "granted"] = "denied"
    retention_days: dict[str, float] = Field(default_factory=dict)
