"""The local SparkSession: UTC, loopback, no files in the cwd; same results as DuckDB."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlparse

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from touchlens.errors import ConfigError
from touchlens.store.spark import connect_spark, spark_conf, spark_session


def test_conf_is_loopback_utc_and_out_of_cwd(tmp_path: Path) -> None:
    conf = spark_conf("local[2]", tmp_path / "wh", tmp_path / "scratch", "t")
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.driver.host"] == conf["spark.driver.bindAddress"] == "127.0.0.1"
    assert conf["spark.ui.enabled"] == "false"
    assert conf["spark.sql.execution.arrow.pyspark.enabled"] == "true"
    assert Path(urlparse(conf["spark.sql.warehouse.dir"]).path) == (tmp_path / "wh").resolve()
    assert f"-Dderby.system.home={tmp_path / 'scratch'}" in conf["spark.driver.extraJavaOptions"]
    assert conf["spark.driver.memory"] == "4g"  # Spark's 1g ran out of heap at 10M events
    assert spark_conf("local[2]", tmp_path, tmp_path, "t", "12g")["spark.driver.memory"] == "12g"


def test_missing_pyspark_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pyspark", None)
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    with pytest.raises(ConfigError, match=r"pip install -e \.\[spark\]"):
        spark_session()
    with pytest.raises(ConfigError, match="'spark' extra"):
        connect_spark(None)


@pytest.mark.spark
def test_session_is_utc_loopback_and_local(spark) -> None:
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    # Epoch 0 rendered by the session zone: only UTC gives midnight.
    row = spark.sql("SELECT CAST(CAST(0 AS TIMESTAMP) AS STRING) AS s").first()
    assert row.s == "1970-01-01 00:00:00"
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert conf.get("spark.driver.memory") == "4g"
    assert spark.conf.get("spark.sql.execution.arrow.pyspark.enabled") == "true"


@pytest.mark.spark
def test_tables_are_written_outside_the_cwd(
    spark, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    warehouse = Path(urlparse(spark.conf.get("spark.sql.warehouse.dir")).path)
    assert not warehouse.is_relative_to(Path.cwd())
    con = connect_spark(spark)
    con.create_table("tl_probe", pa.table({"a": [1, 2, 3]}), overwrite=True)
    try:
        assert con.table("tl_probe").count().to_pyarrow().as_py() == 3
        assert (warehouse / "tl_probe").is_dir()
    finally:
        con.drop_table("tl_probe", force=True)
    left_behind = {p.name for p in tmp_path.iterdir()}
    assert not {"spark-warehouse", "metastore_db", "derby.log"} & left_behind


def _ordered_channel_paths(events: ir.Table) -> ir.Table:
    """Per customer: channels in time order (collect structs, then sort: works on both)."""
    touch = ibis.struct({"ts": events.occurred_at, "channel": events.channel})
    per_customer = events.group_by("customer_id").agg(
        touches=touch.collect(),
        first_at=events.occurred_at.min(),
        n=events.count(),
        revenue=events.revenue.sum().fill_null(0.0),
    )
    return per_customer.select(
        "customer_id",
        "n",
        "revenue",
        first_at=per_customer.first_at.strftime("%Y-%m-%d %H:%M:%S"),
        path=per_customer.touches.sort().map(lambda t: t.channel),
    ).order_by("customer_id")


@pytest.mark.spark
def test_same_expression_same_result_on_duckdb_and_spark(spark, tiny_events: pa.Table) -> None:
    results = {}
    duck = ibis.duckdb.connect()
    duck.raw_sql("SET TimeZone='UTC'")
    sp = connect_spark(spark)
    try:
        for name, con in {"duckdb": duck, "spark": sp}.items():
            events = con.create_table("tl_tiny_events", tiny_events, overwrite=True)
            df = _ordered_channel_paths(events).to_pandas()
            df["path"] = df["path"].map(list)
            results[name] = df.to_dict("records")
    finally:
        sp.drop_table("tl_tiny_events", force=True)
        duck.disconnect()
    assert results["duckdb"] == results["spark"]
    assert [r["path"] for r in results["spark"]] == [
        ["display", "display", "search", "web", "email", "web"],
        ["social", "social", "email", "email", "email", "web", "chat"],
        ["search", "search", "web", "email", "email", "store", "store"],
    ]
    assert [r["first_at"] for r in results["spark"]] == [
        "2024-03-01 09:00:00",
        "2024-03-01 12:00:00",
        "2024-03-02 11:00:00",
    ]
    assert [r["revenue"] for r in results["spark"]] == [120.0, 0.0, 80.0]


@pytest.mark.spark
def test_harmless_warnings_are_quiet_and_the_hidden_named_tables_still_read(spark) -> None:
    """Globs and ``_…`` work tables made Spark print warnings (one with a stack trace) on
    every attach and identity stitching; their loggers are at ERROR, and the tables read."""
    from touchlens.store.spark import HARMLESS_WARNINGS

    jvm = spark.sparkContext._jvm
    for name in HARMLESS_WARNINGS:
        level = jvm.org.apache.logging.log4j.LogManager.getLogger(name).getLevel()
        assert level.toString() == "ERROR", name
    spark.createDataFrame([(1,), (2,)], ["a"]).write.mode("overwrite").saveAsTable("_tl_hid")
    spark.createDataFrame([(3,)], ["a"]).write.mode("overwrite").saveAsTable("_tl_hid")
    assert spark.table("_tl_hid").count() == 1
    spark.sql("DROP TABLE _tl_hid")
