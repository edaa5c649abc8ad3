"""A local, loopback-only SparkSession configured for touchlens, and its Ibis connection.

pyspark is an optional extra (``pip install -e .[spark]``), so it is imported inside the
functions only. The session is configured so that results match the DuckDB backend:

- ``spark.sql.session.timeZone=UTC``: timestamps are read and shown in UTC, like ``occurred_at``.
- Arrow transfer on: results come back to pandas ~5× faster.
- Loopback only (``SPARK_LOCAL_IP``, driver host and bind address 127.0.0.1), UI off.
- Warehouse, Derby metastore and scratch dirs in the given or a temporary directory, never in
  the current working directory (no stray ``./spark-warehouse`` or ``./metastore_db``).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from touchlens.config import SPARK_DRIVER_MEMORY
from touchlens.errors import ConfigError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

MISSING_SPARK = "Spark backend needs the 'spark' extra: pip install -e .[spark]"

#: Shuffle partitions for local mode; Spark's default (200) makes small jobs slow.
LOCAL_SHUFFLE_PARTITIONS = 4


def _import_pyspark() -> Any:
    """Import pyspark.sql or raise ConfigError naming the missing extra."""
    try:
        import pyspark.sql
    except ImportError as exc:
        raise ConfigError(MISSING_SPARK) from exc
    return pyspark.sql


def spark_conf(master: str, warehouse: Path, scratch: Path, app_name: str,
               driver_memory: str = SPARK_DRIVER_MEMORY) -> dict[str, str]:
    """The Spark settings touchlens uses (pure: no JVM started)."""
    derby_home = scratch / "derby"
    return {
        "spark.master": master,
        "spark.app.name": app_name,
        "spark.driver.memory": driver_memory,
        "spark.driver.host": "127.0.0.1",
        "spark.driver.bindAddress": "127.0.0.1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.shuffle.partitions": str(LOCAL_SHUFFLE_PARTITIONS),
        "spark.default.parallelism": str(LOCAL_SHUFFLE_PARTITIONS),
        "spark.sql.warehouse.dir": warehouse.resolve().as_uri(),
        "spark.driver.extraJavaOptions": (f"-Dderby.system.home={derby_home} -Duser.timezone=UTC"),
        "spark.executor.extraJavaOptions": "-Duser.timezone=UTC",
        # Only read if a caller enables Hive support; keeps metastore_db out of the cwd.
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={scratch / 'metastore_db'};create=true"
        ),
    }


def spark_session(
    master: str = "local[2]",
    warehouse: str | Path | None = None,
    app_name: str = "touchlens",
    driver_memory: str = SPARK_DRIVER_MEMORY,
) -> SparkSession:
    """Start (or reuse) a local SparkSession configured for touchlens.

    ``warehouse`` is where ``create_table`` writes managed tables; when None a fresh temporary
    directory is used. The Derby home and metastore always go to a temporary directory.
    ``driver_memory``: the driver's heap (e.g. ``"8g"``). If a session is already active in
    this process, Spark returns it and the static settings (master, warehouse, memory) of
    the first session win. Note that Ibis's ``disconnect()`` on a
    PySpark backend *stops* the session: only call it on sessions you own.
    """
    sql = _import_pyspark()
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    scratch = Path(tempfile.mkdtemp(prefix="touchlens-spark-"))
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    wh = Path(warehouse) if warehouse is not None else scratch / "warehouse"
    wh.mkdir(parents=True, exist_ok=True)
    builder = sql.SparkSession.builder
    for key, value in spark_conf(master, wh, scratch, app_name, driver_memory).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("WARN")
    _quiet_harmless_warnings(session)
    return session


# Spark loggers whose warnings are expected in touchlens's normal use, each with why:
HARMLESS_WARNINGS = (
    # reading a glob (an attached folder, ``events-*.parquet``): Spark first looks for a
    # streaming sink's metadata folder at the literal path and logs the miss with a stack trace
    "org.apache.spark.sql.execution.streaming.FileStreamSink",
    # derived tables named ``_…`` (the identity stitching's work tables): Hadoop calls
    # such paths hidden, and Spark says so before it reads the table's files all the same
    "org.apache.spark.sql.execution.datasources.DataSource",
)


def _quiet_harmless_warnings(session: SparkSession) -> None:
    """Raise the loggers of :data:`HARMLESS_WARNINGS` to ERROR (only on sessions touchlens
    starts; a session the caller built keeps its own logging). Best effort: another logging
    backend than Spark's log4j2 is left as it is."""
    try:
        jvm = session.sparkContext._jvm
        configurator = jvm.org.apache.logging.log4j.core.config.Configurator
        level = jvm.org.apache.logging.log4j.Level.ERROR
        for logger in HARMLESS_WARNINGS:
            configurator.setLevel(logger, level)
    except Exception:  # pragma: no cover - a JVM without log4j2
        return


def connect_spark(session: SparkSession | None = None) -> Any:
    """An Ibis PySpark backend over ``session`` (a new :func:`spark_session` when None)."""
    _import_pyspark()
    try:
        import ibis
        from ibis.backends.pyspark import Backend  # noqa: F401  (fails without the extra)
    except ImportError as exc:
        raise ConfigError(MISSING_SPARK) from exc
    if session is None:
        session = spark_session()
    backend = ibis.pyspark.connect(session)
    _register_memtables_before_caching(backend)
    return backend


def _register_memtables_before_caching(backend: Any) -> None:
    """Make ``expr.cache()`` work over in-memory tables on Spark.

    Ibis 12's PySpark backend compiles an expression for ``.cache()`` without registering
    the ``ibis.memtable`` tables it reads (``execute`` does, through its pre-execute
    hooks), so caching e.g. the moments' signals joined with the VoC sentiment labels failed
    with TABLE_OR_VIEW_NOT_FOUND. Run the same hooks first; DuckDB needs nothing of this."""
    create = backend._create_cached_table

    def create_registered(name: str, expr: Any) -> Any:
        backend._run_pre_execute_hooks(expr)
        return create(name, expr)

    backend._create_cached_table = create_registered
