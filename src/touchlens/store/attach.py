"""Parquet folders read in place: a workspace table can be extended by external Parquet files
(local paths, globs, or any URL the engine reads — e.g. ``s3://`` with DuckDB's httpfs or
Spark's Hadoop connectors) without copying them into the store.

An attached location becomes a view with the table's schema (columns missing in the files are
NULL; types are cast), and :meth:`Store.table` returns the stored rows UNION ALL the attached
ones. Attached data is read-only for touchlens: it is not validated row by row at attach time —
:func:`attached_problems` counts the rows that break the table's rules — and erasure cannot
rewrite it (``touchlens erase`` lists such locations as unreachable).
Hive-style partition folders (``date=2026-01-01/``) are read as columns.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import ibis.expr.types as ir

from touchlens.errors import ConfigError, StoreError
from touchlens.store import schema as S

if TYPE_CHECKING:
    from touchlens.store.backends import Store

_META = "attached:"
_SPARK_TYPES = {"VARCHAR": "STRING", "DOUBLE": "DOUBLE", "INTEGER": "INT", "BIGINT": "BIGINT",
                "DATE": "DATE", "BOOLEAN": "BOOLEAN", "TIMESTAMPTZ": "TIMESTAMP"}


def view_name(table: str) -> str:
    return f"_attached_{table}"


def attached_locations(store: Store) -> dict[str, list[str]]:
    """Table → attached locations, as recorded in the workspace's meta table."""
    meta = store.table("meta")
    rows = store.execute(meta.filter(meta.key.startswith(_META)))
    return {r.key[len(_META):]: json.loads(r.value) for r in rows.itertuples()}


def attach_parquet(store: Store, table: str, location: str, *, hive: bool = True) -> None:
    """Attach the Parquet files at ``location`` (a folder, glob or URL) to ``table``."""
    from touchlens.store.backends import ATTACHABLE

    if table not in ATTACHABLE:
        raise ConfigError(f"only events, feedback, costs or identities can be attached, "
                          f"not {table!r}")
    locations = attached_locations(store).get(table, [])
    if location not in locations:
        locations = [*locations, location]
    _create_view(store, table, locations, hive)
    store.set_meta(_META + table, json.dumps(locations))
    store._attached = None
    store.set_meta("identity_map_stale", "1")


def detach(store: Store, table: str) -> None:
    """Forget the attached locations of ``table`` (the files are not touched)."""
    store.set_meta(_META + table, "[]")
    store._attached = None
    store.set_meta("identity_map_stale", "1")
    if store.engine == "duckdb":
        store.con.con.execute(f'DROP VIEW IF EXISTS "{view_name(table)}"')
    else:
        store.session.catalog.dropTempView(view_name(table))


def restore_views(store: Store) -> None:
    """Re-create the views after opening (Spark's temporary views live per session)."""
    for table, locations in attached_locations(store).items():
        if locations:
            _create_view(store, table, locations, hive=True)


def _glob(location: str) -> str:
    if any(ch in location for ch in "*?[") or location.endswith(".parquet"):
        return location
    return location.rstrip("/") + "/**/*.parquet"


def _create_view(store: Store, table: str, locations: list[str], hive: bool) -> None:
    from touchlens.store.backends import DUCK_TYPES

    schema = S.TABLES[table]
    try:
        if store.engine == "duckdb":
            raw = store.con.con
            parts = []
            for loc in locations:
                src = (f"read_parquet('{_glob(loc)}', hive_partitioning={str(hive).lower()}, "
                       "union_by_name=true)")
                have = {row[0] for row in raw.execute(f"DESCRIBE SELECT * FROM {src}").fetchall()}
                cols = ", ".join(
                    (f'CAST("{f.name}" AS {DUCK_TYPES[f.type]})' if f.name in have
                     else f"CAST(NULL AS {DUCK_TYPES[f.type]})") + f' AS "{f.name}"'
                    for f in schema)
                parts.append(f"SELECT {cols} FROM {src}")
            raw.execute(f'CREATE OR REPLACE VIEW "{view_name(table)}" AS '
                        + " UNION ALL ".join(parts))
        else:
            frames = None
            for loc in locations:
                df = store.session.read.option("recursiveFileLookup", str(not hive).lower())
                df = df.parquet(loc)
                have = set(df.columns)
                exprs = [
                    (f"CAST(`{f.name}` AS {_SPARK_TYPES[DUCK_TYPES[f.type]]})" if f.name in have
                     else f"CAST(NULL AS {_SPARK_TYPES[DUCK_TYPES[f.type]]})") + f" AS `{f.name}`"
                    for f in schema]
                df = df.selectExpr(*exprs)
                frames = df if frames is None else frames.unionByName(df)
            frames.createOrReplaceTempView(view_name(table))
    except ConfigError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot attach {locations} to {table}: {exc}") from exc


def with_attached(store: Store, name: str, stored: ir.Table, attached: set[str]) -> ir.Table:
    """``stored`` UNION ALL the attached rows of ``name`` (when any are attached)."""
    if name not in attached:
        return stored
    return stored.union(store.con.table(view_name(name)), distinct=False)


def attached_problems(store: Store, table: str = "events") -> dict[str, int]:
    """Counts of attached rows that break the table's rules (they are read as they are)."""
    if table not in store.attached:
        return {}
    t = store.con.table(view_name(table))
    spec = S.KINDS[table]
    checks = {f"missing {c}": t[c].isnull() for c in spec["required"]}
    if spec["one_of"]:
        cond = None
        for c in spec["one_of"]:
            cond = t[c].isnull() if cond is None else cond & t[c].isnull()
        checks["missing " + " and ".join(spec["one_of"])] = cond
    if table == "events":
        checks["unknown event_type"] = ~t.event_type.isin(S.EVENT_TYPES)
    agg = t.aggregate(**{k.replace(" ", "_"): v.cast("int64").sum() for k, v in checks.items()},
                      rows=t.count())
    row = store.execute(agg).iloc[0]
    return {k: int(v or 0) for k, v in row.items()}
