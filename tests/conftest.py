"""Shared fixtures: one SparkSession per run, backend-parametrised workspaces, tiny event data.

Fixtures
--------
- ``spark`` (session): a local SparkSession from :func:`touchlens.store.spark.spark_session`.
  Skipped when pyspark is missing, except under CI (``CI`` set), where that is a failure.
- ``backend``: ``"duckdb"`` or ``"spark"`` (the latter marked ``spark``; deselect with
  ``-m "not spark"`` for a quick run).
- ``make_workspace``: factory ``make_workspace(name="ws") -> Workspace`` on ``backend``; every
  workspace it opened is closed after the test and, on Spark, the shared catalog is emptied.
- ``tiny_events``: a 20-row ``pyarrow.Table`` with the ``events`` schema (contents below).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest

from touchlens.store.schema import EVENTS

BACKENDS = ["duckdb", pytest.param("spark", marks=pytest.mark.spark)]


def pytest_configure(config: pytest.Config) -> None:
    # pyspark 4.0 calls pandas APIs that pandas 3 deprecates (astype(copy=...)): not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pyspark.*")


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local SparkSession (local[2], UTC, loopback) for the whole test run."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        reason = "pyspark is not installed: pip install -e .[spark]"
        if _in_ci():
            pytest.fail(f"{reason} (CI must run the spark tests)", pytrace=False)
        pytest.skip(reason)
    from touchlens.store.spark import spark_session

    session = spark_session(master="local[2]", warehouse=tmp_path_factory.mktemp("spark-warehouse"))
    yield session
    session.stop()


def _reset_spark_catalog(session: Any) -> None:
    """Drop every table, view and non-default database so the next test starts empty."""
    if session.sparkContext._jsc is None:
        pytest.fail(
            "a test stopped the shared SparkSession (Ibis's PySpark disconnect() stops it): "
            "Workspace.close() must not stop a session it did not create",
            pytrace=False,
        )
    catalog = session.catalog
    catalog.setCurrentDatabase("default")
    for db in catalog.listDatabases():
        if db.name != "default":
            session.sql(f"DROP DATABASE IF EXISTS `{db.name}` CASCADE")
    for table in catalog.listTables():
        if table.isTemporary:
            catalog.dropTempView(table.name)
        elif table.tableType == "VIEW":
            session.sql(f"DROP VIEW IF EXISTS `default`.`{table.name}`")
        else:
            session.sql(f"DROP TABLE IF EXISTS `default`.`{table.name}`")
    catalog.clearCache()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Name of the engine under test: ``"duckdb"`` or ``"spark"``."""
    return request.param


@pytest.fixture
def make_workspace(
    request: pytest.FixtureRequest, backend: str, tmp_path: Any
) -> Iterator[Callable[..., Any]]:
    """Factory of empty workspaces on ``backend``, stored under ``tmp_path``.

    ``make_workspace(name="ws")`` opens ``tmp_path/"<name>.duckdb"`` (DuckDB) or the shared
    session with warehouse ``tmp_path/"<name>-warehouse"`` (Spark). Calling it again with the
    same name reopens the same workspace (for persistence tests).
    """
    from touchlens import Workspace

    opened: list[Any] = []

    def make(name: str = "ws") -> Any:
        if backend == "duckdb":
            ws = Workspace.open(tmp_path / f"{name}.duckdb")
        else:
            session = request.getfixturevalue("spark")
            ws = Workspace.open_spark(session, warehouse=tmp_path / f"{name}-warehouse")
        opened.append(ws)
        return ws

    yield make

    for ws in reversed(opened):
        with contextlib.suppress(Exception):
            ws.close()
    if backend == "spark":
        _reset_spark_catalog(request.getfixturevalue("spark"))


def _ts(day: int, hour: int, minute: int) -> datetime:
    return datetime(2024, 3, day, hour, minute, tzinfo=UTC)


_TINY_COLUMNS = (
    "event_id", "day", "hour", "minute", "customer_id", "channel", "touchpoint", "event_type",
    "order_id", "revenue", "cost",
)  # fmt: skip
_TINY_EVENTS = [
    ("e01", 1, 9, 0, "c1", "display", "display_banner", "impression", None, None, 0.5),
    ("e02", 1, 9, 5, "c1", "display", "display_banner", "click", None, None, None),
    ("e03", 2, 10, 0, "c1", "search", "search_ad", "click", None, None, 1.2),
    ("e04", 2, 10, 1, "c1", "web", "product_page", "page_view", None, None, None),
    ("e05", 3, 18, 30, "c1", "email", "newsletter", "open", None, None, None),
    ("e06", 3, 18, 32, "c1", "web", "checkout_page", "purchase", "o1", 120.0, None),
    ("e07", 1, 12, 0, "c2", "social", "social_post", "impression", None, None, 0.3),
    ("e08", 1, 12, 1, "c2", "social", "social_post", "engagement", None, None, None),
    ("e09", 4, 8, 0, "c2", "email", "newsletter", "delivered", None, None, None),
    ("e10", 4, 8, 30, "c2", "email", "newsletter", "open", None, None, None),
    ("e11", 4, 8, 31, "c2", "email", "newsletter", "click", None, None, None),
    ("e12", 4, 8, 35, "c2", "web", "product_page", "page_view", None, None, None),
    ("e13", 5, 14, 0, "c2", "chat", "support_chat", "chat", None, None, None),
    ("e14", 2, 11, 0, "c3", "search", "search_ad", "impression", None, None, 0.2),
    ("e15", 2, 11, 1, "c3", "search", "search_ad", "click", None, None, 1.1),
    ("e16", 2, 11, 5, "c3", "web", "signup_form", "signup", None, None, None),
    ("e17", 6, 16, 0, "c3", "email", "welcome_email", "open", None, None, None),
    ("e18", 6, 16, 2, "c3", "email", "welcome_email", "click", None, None, None),
    ("e19", 8, 13, 0, "c3", "store", "store_cashier", "store_visit", None, None, None),
    ("e20", 8, 13, 15, "c3", "store", "store_cashier", "purchase", "o2", 80.0, None),
]


@pytest.fixture
def tiny_events() -> pa.Table:
    """20 hand-made events (``events`` schema) of 3 customers in March 2024, all UTC.

    - c1: display impression+click, search click, web page_view, email open, then a web
      ``purchase`` (e06, order o1, revenue 120.0 EUR) — one converting journey.
    - c2: social impression+engagement, email delivered/open/click, web page_view, chat —
      no conversion.
    - c3: search impression+click, web ``signup`` (e16, no revenue), welcome email open+click,
      store visit, store ``purchase`` (e20, order o2, revenue 80.0 EUR).
    Totals: 3 conversion events (2 purchases, 1 signup), revenue 200.0, cost 3.3 on 5 paid
    events, 7 channels. No two events of one customer share a timestamp; ``anonymous_id`` is
    NULL everywhere; rows are in event_id order, not time order.
    """
    rows = []
    for values in _TINY_EVENTS:
        r = dict(zip(_TINY_COLUMNS, values, strict=True))
        rows.append(
            {
                "event_id": r["event_id"],
                "occurred_at": _ts(r["day"], r["hour"], r["minute"]),
                "customer_id": r["customer_id"],
                "anonymous_id": None,
                "channel": r["channel"],
                "touchpoint": r["touchpoint"],
                "event_type": r["event_type"],
                "order_id": r["order_id"],
                "revenue": r["revenue"],
                "currency": "EUR" if r["revenue"] is not None else None,
                "cost": r["cost"],
                "campaign": "spring24" if r["cost"] is not None else None,
                "device": "mobile" if r["customer_id"] == "c2" else "desktop",
                "attributes": '{"utm_source": "google"}' if r["channel"] == "search" else None,
            }
        )
    return pa.Table.from_pylist(rows, schema=EVENTS)
