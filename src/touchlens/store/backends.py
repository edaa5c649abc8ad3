"""The one storage interface over an Ibis backend: DuckDB (embedded file) or PySpark.

Everything backend-specific in touchlens lives in this package. Analytics receive Ibis tables
from :meth:`Store.table` and never see which engine runs them.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from ibis.backends.sql.datatypes import DuckDBType

from touchlens.config import Settings
from touchlens.errors import StoreError
from touchlens.store import schema as S
from touchlens.store.compiled import duckdb_sql
from touchlens.store.timestamps import DUCKDB_MACROS

DUCK_TYPES = {
    pa.string(): "VARCHAR",
    pa.float64(): "DOUBLE",
    pa.int32(): "INTEGER",
    pa.int64(): "BIGINT",
    pa.date32(): "DATE",
    pa.bool_(): "BOOLEAN",
    S.TS: "TIMESTAMPTZ",
}


ATTACHABLE = ("events", "feedback", "costs", "identities")
# Tables whose columns only this package's code sets (created by ensure_schema, or derived
# tables of fixed format): their DuckDB schemas are read once per database, not on every
# Store.table (a DESCRIBE each: ~0.1 s of a page's requests on a fresh server).
FIXED_SCHEMAS = frozenset(S.TABLES) | {S.JOURNEY_CACHE, S.JOURNEYS_CACHE,
                                       S.CUSTOMER_TOUCHPOINTS_CACHE}
_IMMUTABLE_META = ("pii_salt", "schema_version")  # safe to cache: never change once written
_VALUES_ROWS = 16  # appends up to this many rows go as INSERT … VALUES (cheaper than a view)


@dataclass(frozen=True)
class KeyLookup:
    """Keys looked up in a table (``checked``) and those of them found stored."""

    checked: set[Any]
    stored: set[Any]


def _typed_select(expr: ir.Table) -> str:
    """DuckDB SQL of ``expr`` with every column cast to the type its Ibis schema declares:
    DuckDB's own result types can be wider (SUM of BIGINT is HUGEINT), and a stored table
    must read back with the types the expression promised."""
    cols = ", ".join(f"CAST({_quote(c)} AS {DuckDBType.to_string(t)}) AS {_quote(c)}"
                     for c, t in expr.schema().items())
    return f"SELECT {cols} FROM ({duckdb_sql(expr)}) AS _expr"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _key_range(table: pa.Table, key: tuple[str, ...]) -> tuple[Any, Any] | None:
    """(least, greatest) of a one-column ``key`` of ``table`` when it has no NULL: only
    stored rows in that range can hold one of its keys. A scan filtered by the range skips
    the row groups whose min/max lie outside it, so checking a batch of keys that grow over
    time (event ids from a sequence, ULIDs, UUIDv7) reads a few row groups, not every
    stored key (a cost that grew with the workspace). None: no range to use (a key of
    several columns or of another type than text and integers)."""
    if len(key) != 1:
        return None
    column = table[key[0]]
    plain = pa.types.is_string(column.type) or pa.types.is_integer(column.type)
    if not plain or column.null_count or not len(column):
        return None
    bounds = pc.min_max(column)
    return bounds["min"].as_py(), bounds["max"].as_py()


class Store:
    """Owns the backend connection and the workspace tables.

    ``engine`` is ``"duckdb"`` or ``"spark"``. Writes go through :meth:`insert_new`,
    :meth:`append` and :meth:`replace`; on DuckDB they can be grouped in one
    :meth:`transaction` (all or nothing). Spark has no multi-table transactions: there the
    context manager only orders the writes (data first, the ingest log last).
    """

    def __init__(self, con: Any, engine: str, *, session: Any = None,
                 owns_session: bool = False, schemas: dict[str, Any] | None = None) -> None:
        self.con = con
        self.engine = engine
        self.session = session
        self.owns_session = owns_session
        # FIXED_SCHEMAS' schemas as read (name -> ibis Schema), shared with the stores on
        # cursors of the same connection (touchlens.api.served.CursorStore)
        self._schemas: dict[str, Any] = {} if schemas is None else schemas
        self._attached: set[str] | None = None
        self._meta_cache: dict[str, str] = {}
        self._tx_meta: dict[str, str] | None = None  # meta as this transaction sees it
        self._in_tx = False

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open_duckdb(cls, path: str | Path, settings: Settings | None = None) -> Store:
        """Open (or create) a DuckDB workspace file; ``":memory:"`` for a throw-away one."""
        settings = settings or Settings()
        try:
            con = ibis.duckdb.connect(str(path))
        except Exception as exc:  # duckdb raises IOException for locked/corrupt files
            raise StoreError(f"cannot open workspace {path}: {exc}") from exc
        raw = con.con
        # Timestamps are stored as TIMESTAMPTZ and must come back in UTC whatever the host zone.
        raw.execute("SET TimeZone='UTC'")
        if settings.duckdb_memory_limit:
            raw.execute(f"SET memory_limit='{settings.duckdb_memory_limit}'")
        if settings.duckdb_threads:
            raw.execute(f"SET threads={int(settings.duckdb_threads)}")
        if settings.duckdb_temp_directory:
            raw.execute(f"SET temp_directory='{settings.duckdb_temp_directory}'")
        store = cls(con, "duckdb")
        store.ensure_schema()
        store._ensure_macros()
        return store

    def _ensure_macros(self) -> None:
        """Create the DuckDB macros :mod:`touchlens.store.timestamps` needs, once per file
        (stored in it, seen by every cursor): opening a workspace writes nothing when they
        exist."""
        raw = self.con.con
        names = [name for name, _ in DUCKDB_MACROS]
        have = {r[0] for r in raw.execute(
            "SELECT DISTINCT function_name FROM duckdb_functions() WHERE function_type = "
            "'macro' AND schema_name = current_schema() AND list_contains(?, function_name)",
            [names]).fetchall()}
        for name, sql in DUCKDB_MACROS:
            if name not in have:
                try:
                    raw.execute(sql)
                except Exception as exc:
                    raise StoreError(f"cannot prepare the workspace (creating {name}): "
                                     f"{exc}") from exc

    @classmethod
    def open_spark(cls, session: Any, *, owns_session: bool = False) -> Store:
        """Wrap a configured SparkSession (see :mod:`touchlens.store.spark`); the session is
        stopped on :meth:`close` only when ``owns_session``."""
        from touchlens.store.spark import connect_spark

        store = cls(connect_spark(session), "spark", session=session, owns_session=owns_session)
        store.ensure_schema()
        store.refresh_attached()  # Spark's temporary views do not outlive a session
        return store

    def close(self) -> None:
        # Ibis's PySpark disconnect() stops the SparkSession: only do it for our own session.
        if self.engine == "spark" and not self.owns_session:
            return
        with contextlib.suppress(Exception):
            self.con.disconnect()

    # -- schema --------------------------------------------------------------------------
    def ensure_schema(self) -> None:
        """Create missing tables; record schema version and the workspace PII salt."""
        existing = set(self.con.list_tables())
        for name, arrow_schema in S.TABLES.items():
            if name in existing:
                continue
            if self.engine == "duckdb":
                cols = ", ".join(f"{_quote(f.name)} {DUCK_TYPES[f.type]}" for f in arrow_schema)
                self.con.con.execute(f"CREATE TABLE IF NOT EXISTS {_quote(name)} ({cols})")
            else:
                self.con.create_table(name, schema=ibis.Schema.from_pyarrow(arrow_schema))
        if self.get_meta("schema_version") is None:
            self.set_meta("schema_version", str(S.SCHEMA_VERSION))
        if self.get_meta("pii_salt") is None:
            self.set_meta("pii_salt", secrets.token_hex(16))

    def get_meta(self, key: str) -> str | None:
        if key in _IMMUTABLE_META and key in self._meta_cache:
            return self._meta_cache[key]
        if self.engine == "duckdb" and self._in_tx:
            value = self._meta_in_tx().get(key)
        elif self.engine == "duckdb":  # a hot path (every ingest batch): skip Ibis compilation
            rows = self.con.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
            value = str(rows[-1][0]) if rows else None
        else:
            t = self.table("meta")
            df = self.execute(t.filter(t.key == key).select("value"))
            value = None if df.empty else str(df["value"].iloc[-1])
        if key in _IMMUTABLE_META and value is not None:
            self._meta_cache[key] = value
        return value

    def scalar(self, expr: ir.Scalar) -> object:
        """One value of a scalar expression (counts, flags)."""
        try:
            return expr.to_pyarrow().as_py()
        except Exception as exc:
            raise StoreError(f"query failed on {self.engine}: {exc}") from exc

    def set_meta(self, key: str, value: str) -> None:
        if self.engine == "duckdb":  # a hot path (ingest batches): an UPDATE, no Arrow view
            raw = self.con.con
            known = self._tx_meta if self._in_tx else None
            with getattr(self, "write_lock", None) or contextlib.nullcontext():
                if known is not None and key not in known:
                    raw.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [key, value])
                else:
                    done = raw.execute("UPDATE meta SET value = ? WHERE key = ?",
                                       [value, key]).fetchone()
                    if known is None and (not done or not done[0]):
                        raw.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [key, value])
            if known is not None:
                known[key] = value
        else:
            self.delete_where("meta", "key", [key])
            self.append("meta", pa.table({"key": [key], "value": [value]}, schema=S.META))
        if key in _IMMUTABLE_META:
            self._meta_cache[key] = value

    def _meta_in_tx(self) -> dict[str, str]:
        """The meta table as the open DuckDB transaction sees it, read once: other
        connections' commits are not visible inside a transaction (snapshot isolation) and
        this one's own meta writes go through :meth:`set_meta`, which keeps it up to date.
        Saves a statement per key an ingest reads (the collector reads two per commit)."""
        if self._tx_meta is None:
            rows = self.con.con.execute("SELECT key, value FROM meta").fetchall()
            self._tx_meta = {str(k): str(v) for k, v in rows}  # the last row of a key wins
        return self._tx_meta

    # -- reading -------------------------------------------------------------------------
    def table(self, name: str) -> ir.Table:
        """A workspace table, including Parquet attached in place (see store.attach)."""
        stored = self._stored(name)
        if name in ATTACHABLE and name in self.attached:
            from touchlens.store.attach import with_attached

            return with_attached(self, name, stored, self.attached)
        return stored

    def _stored(self, name: str) -> ir.Table:
        """The stored table ``name``; on DuckDB the schema of a :data:`FIXED_SCHEMAS` table
        comes from the cache after its first read (:meth:`replace` forgets it)."""
        if self.engine != "duckdb" or name not in FIXED_SCHEMAS:
            return self.con.table(name)
        schema = self._schemas.get(name)
        if schema is None:
            stored = self.con.table(name)
            self._schemas[name] = stored.schema()
            return stored
        # what ibis's Backend.table builds after its DESCRIBE (ibis is pinned exactly)
        return ops.DatabaseTable(name, schema=schema, source=self.con,
                                 namespace=ops.Namespace(catalog=None, database=None)
                                 ).to_expr()

    def exists(self, name: str) -> bool:
        """Whether the table (or view) ``name`` is stored."""
        if self.engine == "duckdb":
            # ibis's list_tables reads information_schema (three queries, ~13 ms, more
            # under load): the rollups' stamps ask this for every read. duckdb_tables()
            # answers in ~1.5 ms; views, rarer, are looked for only when no table is.
            where = ("= $name AND database_name IN (current_database(), 'temp') "
                     "AND schema_name = current_schema()")
            raw = self.con.con
            for sql in (f"SELECT count(*) FROM duckdb_tables() WHERE table_name {where}",
                        f"SELECT count(*) FROM duckdb_views() WHERE view_name {where}"):
                if raw.execute(sql, {"name": name}).fetchone()[0]:
                    return True
            return False
        return name in self.con.list_tables()

    def tables_like(self, pattern: str) -> list[str]:
        """The stored tables whose name matches the regular expression ``pattern``."""
        return sorted(self.con.list_tables(like=pattern))

    def drop(self, name: str) -> None:
        """Drop the (derived) table ``name`` if it exists."""
        try:
            self.con.drop_table(name, force=True)
        except Exception as exc:
            raise StoreError(f"dropping {name} failed: {exc}") from exc
        finally:  # after, as replace does: a reader may cache the schema while it runs
            self.forget_schema(name)

    def forget_schema(self, name: str) -> None:
        """Drop ``name``'s cached schema: its table was created, dropped or replaced."""
        self._schemas.pop(name, None)

    @property
    def attached(self) -> set[str]:
        """Tables that have Parquet locations attached."""
        if self._attached is None:
            from touchlens.store.attach import attached_locations

            self._attached = {k for k, v in attached_locations(self).items() if v}
        return self._attached

    def refresh_attached(self) -> None:
        from touchlens.store.attach import restore_views

        self._attached = None
        restore_views(self)

    def execute(self, expr: ir.Expr) -> pd.DataFrame:
        try:
            frame = expr.to_pandas()
        except Exception as exc:
            raise StoreError(f"query failed on {self.engine}: {exc}") from exc
        if self.engine == "spark":
            # Spark's TIMESTAMP has no zone; the session runs in UTC, so label the values UTC
            # to give the same frames as DuckDB's TIMESTAMPTZ.
            for col in frame.columns:
                if pd.api.types.is_datetime64_dtype(frame[col]) and frame[col].dt.tz is None:
                    frame[col] = frame[col].dt.tz_localize("UTC").astype("datetime64[us, UTC]")
        return frame

    def count(self, name: str) -> int:
        return int(self.table(name).count().to_pyarrow().as_py())

    # -- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside commit together or not at all (DuckDB)."""
        if self.engine != "duckdb" or self._in_tx:
            yield
            return
        raw = self.con.con
        raw.execute("BEGIN TRANSACTION")
        self._in_tx = True
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):  # keep the original error if this fails too
                raw.execute("ROLLBACK")
            raise
        else:
            try:
                raw.execute("COMMIT")
            except Exception as exc:  # e.g. disk full while writing the WAL
                with contextlib.suppress(Exception):
                    raw.execute("ROLLBACK")
                raise StoreError(f"commit failed, nothing was written: {exc}") from exc
        finally:
            self._in_tx = False
            self._tx_meta = None

    def append(self, name: str, table: pa.Table) -> int:
        """Append rows as they are; returns the number written."""
        return self._insert(name, table, key=())

    def insert_new(self, name: str, table: pa.Table, key: tuple[str, ...], *,
                   lookup: KeyLookup | None = None) -> int:
        """Append the rows whose ``key`` is not yet in ``name`` (NULL keys compare equal).

        The batch must already be free of duplicate keys. Returns the number written.
        ``lookup``: the caller has just looked the batch's keys up (:meth:`existing_keys`,
        same transaction); when it covers every key of the batch, the rows are filtered
        with it instead of anti-joined against the whole table (a second scan).
        """
        if lookup is not None and len(key) == 1 and table.num_rows:
            keys = table[key[0]]
            typ = table.schema.field(key[0]).type
            checked = pa.array(list(lookup.checked), typ)
            if keys.null_count == 0 and pc.all(pc.is_in(keys, value_set=checked)).as_py():
                if not lookup.stored:
                    return self._insert(name, table, key=())
                stored = pa.array(list(lookup.stored), typ)
                return self._insert(name, table.filter(
                    pc.invert(pc.is_in(keys, value_set=stored))), key=())
        return self._insert(name, table, key=key)

    def existing_keys(self, name: str, column: str, values: Collection[Any]) -> KeyLookup:
        """Which of ``values`` are already stored in ``name.column`` (one scan of it)."""
        checked = set(values)
        if not checked:
            return KeyLookup(checked, set())
        if self.engine == "duckdb":  # hot path (the collector): one parameterised query
            typ = DUCK_TYPES[S.TABLES[name].field(column).type]
            ordered = sorted(checked)
            # the range first: stored row groups outside it are skipped (see _key_range)
            sql = (f"SELECT DISTINCT {_quote(column)} FROM {_quote(name)} WHERE {_quote(column)}"
                   f" BETWEEN ?::{typ} AND ?::{typ} AND {_quote(column)}"
                   f" IN (SELECT UNNEST(?::{typ}[]))")
            rows = self.con.con.execute(sql, [ordered[0], ordered[-1], ordered]).fetchall()
            return KeyLookup(checked, {r[0] for r in rows})
        t = self.table(name)
        found = self.execute(t.filter(t[column].isin(list(checked))).select(column).distinct())
        return KeyLookup(checked, set(found[column].tolist()))

    def _insert(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int:
        if table.num_rows == 0:
            return 0
        table = table.select(S.TABLES[name].names).cast(S.TABLES[name])
        if self.engine == "duckdb":
            return self._insert_duckdb(name, table, key)
        return self._insert_spark(name, table, key)

    def _insert_duckdb(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int:
        raw = self.con.con
        if not key and table.num_rows <= _VALUES_ROWS:  # a few rows: parameters, no view
            cols = ", ".join(_quote(c) for c in table.column_names)
            row = "(" + ", ".join("?" * table.num_columns) + ")"
            params = [v for r in zip(*(c.to_pylist() for c in table.columns), strict=True)
                      for v in r]
            try:
                raw.execute(f"INSERT INTO {_quote(name)} ({cols}) VALUES "
                            + ", ".join([row] * table.num_rows), params)
            except Exception as exc:
                raise StoreError(f"writing {name} failed: {exc}") from exc
            return table.num_rows
        view = f"_tl_batch_{secrets.token_hex(4)}"
        raw.register(view, table)
        try:
            cols = ", ".join(_quote(c) for c in table.column_names)
            sql = f"INSERT INTO {_quote(name)} ({cols}) SELECT {cols} FROM {view} b"
            params: list[Any] = []
            if key:
                cond = " AND ".join(
                    f"t.{_quote(k)} IS NOT DISTINCT FROM b.{_quote(k)}" for k in key
                )
                span = _key_range(table, key)
                if span is not None:
                    cond += f" AND t.{_quote(key[0])} BETWEEN ? AND ?"
                    params = list(span)
                sql += f" WHERE NOT EXISTS (SELECT 1 FROM {_quote(name)} t WHERE {cond})"
            row = raw.execute(sql, params).fetchone()
            return int(row[0]) if row else 0
        except Exception as exc:
            raise StoreError(f"writing {name} failed: {exc}") from exc
        finally:
            raw.unregister(view)

    def _insert_spark(self, name: str, table: pa.Table, key: tuple[str, ...]) -> int:
        # Spark: build a DataFrame from Arrow, anti-join on the key with null-safe equality,
        # then insertInto the managed table (column order = schema order).
        spark = self.session
        df = spark.createDataFrame(table)  # pyspark 4 takes Arrow directly (no pandas detour)
        if key:
            existing = spark.table(name).select(*[f"`{k}`" for k in key]).alias("t")
            cond = [df[k].eqNullSafe(existing[k]) for k in key]
            df = df.join(existing, on=cond, how="left_anti")
        df = df.select(*table.column_names).cache()
        n = df.count()
        if n:
            df.write.insertInto(name)
        df.unpersist()
        return n

    def delete_where(self, name: str, column: str, values: list[Any]) -> None:
        """Delete rows whose ``column`` is in ``values``."""
        if not values:
            return
        if self.engine == "duckdb":
            marks = ", ".join("?" for _ in values)
            self.con.con.execute(
                f"DELETE FROM {_quote(name)} WHERE {_quote(column)} IN ({marks})", values
            )
            return
        t = self.table(name)
        keep = t.filter(~t[column].isin(values) | t[column].isnull())
        self.replace(name, keep)

    def insert_select(self, name: str, expr: ir.Table) -> None:
        """Append the rows of ``expr`` to the table ``name``, matched by column name (DuckDB
        only: incremental updates of a derived table, inside the caller's transaction)."""
        self._duckdb_only("insert_select")
        try:
            self.con.con.execute(f"INSERT INTO {_quote(name)} BY NAME {_typed_select(expr)}")
        except Exception as exc:
            raise StoreError(f"appending to {name} failed: {exc}") from exc

    def delete_in(self, name: str, column: str, keys: ir.Table) -> int:
        """Delete the rows of ``name`` whose ``column`` is among the values of ``keys``' one
        column (DuckDB only); returns how many went."""
        self._duckdb_only("delete_in")
        try:
            row = self.con.con.execute(self._delete_in_sql(name, column, keys)).fetchone()
        except Exception as exc:
            raise StoreError(f"deleting from {name} failed: {exc}") from exc
        return int(row[0]) if row else 0

    @staticmethod
    def _delete_in_sql(name: str, column: str, keys: ir.Table) -> str:
        (key,) = keys.columns
        sql = duckdb_sql(keys)
        return (f"DELETE FROM {_quote(name)} WHERE {_quote(column)} IN "
                f"(SELECT {_quote(key)} FROM ({sql}) AS _keys)")

    def row_mark(self, name: str) -> int:
        """The highest row number of ``name`` (DuckDB's ``rowid``; -1 when empty): rows
        appended later get higher ones (DuckDB only)."""
        self._duckdb_only("row_mark")
        row = self.con.con.execute(f"SELECT coalesce(max(rowid), -1) FROM {_quote(name)}"
                                   ).fetchone()
        return int(row[0])

    def mark_and_rows(self, name: str) -> tuple[int, int]:
        """(:meth:`row_mark`, rows) of ``name`` in one snapshot (DuckDB only)."""
        self._duckdb_only("mark_and_rows")
        row = self.con.con.execute(
            f"SELECT coalesce(max(rowid), -1), count(*) FROM {_quote(name)}").fetchone()
        return int(row[0]), int(row[1])

    def rows_up_to(self, name: str, mark: int) -> int:
        """Rows of ``name`` numbered at most ``mark`` (DuckDB only): as many as when the
        mark was taken unless rows were deleted since (or renumbered after a delete)."""
        self._duckdb_only("rows_up_to")
        row = self.con.con.execute(
            f"SELECT count(*) FROM {_quote(name)} WHERE rowid <= {int(mark)}").fetchone()
        return int(row[0])

    def appended_since(self, name: str, mark: int) -> ir.Table:
        """The rows of ``name`` whose row number is above ``mark`` (:meth:`row_mark`), read
        by DuckDB from the row groups past it instead of comparing keys with every stored
        row. A delete may renumber rows (DuckDB compacts row groups at checkpoints), so a
        caller checks the count it expects (DuckDB only)."""
        self._duckdb_only("appended_since")
        return self.con.sql(f"SELECT * FROM {_quote(name)} WHERE rowid > {int(mark)}")

    def _duckdb_only(self, what: str) -> None:
        if self.engine != "duckdb":
            raise StoreError(f"{what} is implemented for DuckDB only")

    def replace(self, name: str, obj: ir.Table | pa.Table) -> None:
        """Replace a (derived) table with the rows of an expression or Arrow table."""
        try:
            if self.engine == "duckdb" and isinstance(obj, ir.Table):
                self.con.con.execute(f"CREATE OR REPLACE TABLE {_quote(name)} AS "
                                     f"{_typed_select(obj)}")
            elif self.engine == "duckdb":
                view = f"_tl_batch_{secrets.token_hex(4)}"
                self.con.con.register(view, obj)
                try:
                    self.con.con.execute(
                        f"CREATE OR REPLACE TABLE {_quote(name)} AS SELECT * FROM {view}"
                    )
                finally:
                    self.con.con.unregister(view)
            elif isinstance(obj, ir.Table):
                # The executors write the rows (nothing is collected to the driver: identity
                # stitching's work tables, an erasure's rewrite of events at 10M+ events).
                # Spark cannot overwrite a table the query reads from, so the rows go to a
                # new table that then takes the name (two catalog operations).
                staging = f"{name}__new_{secrets.token_hex(4)}"
                self.con.create_table(staging, obj)
                try:
                    self.con.drop_table(name, force=True)
                    self.con.rename_table(staging, name)
                except Exception as exc:
                    raise StoreError(f"replacing {name} failed; its new rows are in the "
                                     f"table {staging}: {exc}") from exc
            else:
                frame = self.session.createDataFrame(obj.combine_chunks())
                frame.write.mode("overwrite").saveAsTable(name)
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"replacing {name} failed: {exc}") from exc
        finally:  # again: a reader may have cached the old schema while it ran
            self.forget_schema(name)
