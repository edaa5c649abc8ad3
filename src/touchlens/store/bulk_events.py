"""DuckDB SQL of the bulk events ingest (:mod:`touchlens.io.ingest_bulk`).

Backend-specific — SQL over DuckDB's ``read_parquet`` — so it lives in the store package
(architecture rule: engine code only here). Two statements do the work:

- :func:`staged` reads the file once into a temporary table that tells for each row whether
  it is *canonical*: no rule of :mod:`touchlens.io.validate` would do anything to it but keep
  its values as they are, or make a plain, exactly reproducible change (a missing touchpoint
  becomes the channel, a currency code is upper-cased, a missing currency becomes the
  default, NaN becomes NULL). The io layer validates the other rows with the pandas
  validators, which also word the quarantine reasons.
- :func:`insert_events` adds the io layer's good rows to it and writes them all in one
  ``INSERT … SELECT``: the first row per ``event_id`` in file order, but the ids already
  stored (an anti-join), the semantics of ``_first_per_key`` + :meth:`Store.insert_new`.

A canonical row (every condition must hold; columns absent from the file are NULL):

- ``event_id``: text, not NULL, its first and last character printable ASCII but not a space
  (nothing to trim);
- ``occurred_at``: a TIMESTAMPTZ, a naive TIMESTAMP (any unit; only when naive times are
  UTC) or text ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` with ``Z`` or ``±HH:MM`` (hours ≤ 23, offset
  ≤ 14 h), in [1990-01-01, 2100-01-01) UTC;
- ``customer_id``/``anonymous_id``: at least one present; each NULL or untrimmable text
  without ``@`` (emails are hashed by the pandas path);
- ``channel``: ``[a-z0-9_]+``; ``touchpoint``: NULL or ``[a-z0-9_]+``; ``event_type``: one
  of :data:`~touchlens.store.schema.EVENT_TYPES`;
- ``order_id``, ``campaign``, ``device``: NULL or untrimmable text;
- ``revenue``/``cost``: NULL, NaN or a finite number ≥ 0 (revenue < 0 on ``return`` events);
- ``currency``: NULL or three ASCII letters;
- ``attributes``: NULL or one of the values the caller's ``attributes`` map accepts;
- every other column of the file: NULL (nothing to merge into ``attributes``).

A known column of another type (say, a numeric ``order_id``) is canonical only where NULL.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import pyarrow as pa

from touchlens.errors import StoreError
from touchlens.store import schema as S
from touchlens.store.backends import Store, _quote

_SNAKE = "[a-z0-9_]+"
_ISO = (r"\d{4}-\d\d-\d\dT([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
        r"(Z|[+-](0\d|1[0-4]):[0-5]\d)")
_NUMERIC = ("DOUBLE", "FLOAT", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
            "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT")
_NAIVE_TS = ("TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S")
FILE_ROW = "__row"  # 1-based row number in the file, as the readers number rows


@dataclass(frozen=True)
class ParquetEvents:
    """One Parquet file read as raw event rows.

    ``columns``: each column of the file → its DuckDB type; ``renames``: our column name →
    the file's column it is read from (columns not renamed keep their name); ``naive_utc``:
    naive timestamps are UTC; ``currency``: the default currency; ``attributes``: an Arrow
    table (``raw``, ``value``) of the accepted ``attributes`` texts and what to store for
    each (None: no map, every non-NULL ``attributes`` is not canonical).
    """

    path: str
    columns: Mapping[str, str]
    renames: Mapping[str, str]
    naive_utc: bool
    currency: str
    attributes: pa.Table | None = None

    def named(self) -> dict[str, str]:
        """Each column of the raw rows → the file's column it holds (the renames applied as
        :meth:`touchlens.io.mapping.Mapping.apply` applies them)."""
        taken = set(self.renames.values()) - set(self.renames)
        named = {c: c for c in self.columns if c not in taken}
        named.update(self.renames)
        return named


def parquet_columns(store: Store, path: str) -> list[tuple[str, str]] | None:
    """The file's (column, DuckDB type) pairs; None when DuckDB cannot read it.

    Run on a cursor of its own: a failed statement must not abort the caller's transaction.
    """
    cursor = store.con.con.cursor()
    try:
        rows = cursor.execute(f"DESCRIBE SELECT * FROM {_source(path, numbered=False)}"
                              ).fetchall()
    except Exception:  # any reading problem: the caller takes its general path
        return None
    finally:
        cursor.close()
    return [(str(r[0]), str(r[1])) for r in rows]


def distinct_text(store: Store, path: str, column: str) -> list[str]:
    """The distinct non-NULL values of a text column of the file."""
    cursor = store.con.con.cursor()
    try:
        rows = cursor.execute(f"SELECT DISTINCT {_quote(column)} FROM {_source(path)} "
                              f"WHERE {_quote(column)} IS NOT NULL").fetchall()
    except Exception as exc:
        raise StoreError(f"reading {path} failed: {exc}") from exc
    finally:
        cursor.close()
    return [r[0] for r in rows]


@contextlib.contextmanager
def staged(store: Store, source: ParquetEvents) -> Iterator[str]:
    """Read the file once into a temporary table, dropped on exit; yields its name.

    One row per file row: :data:`FILE_ROW`, the stored columns (as a canonical row stores them)
    and ``__ok``, whether the row is canonical. Reading the file once costs less than
    checking the rules in two scans (one to find the rows for pandas, one to insert).
    """
    raw = store.con.con
    name = f"_tl_stage_{secrets.token_hex(4)}"
    try:
        with _registered(raw, source) as attr_view:
            raw.execute(f"CREATE TEMP TABLE {name} AS {_classified(source, attr_view)}")
    except Exception as exc:
        raise StoreError(f"reading {source.path} failed: {exc}") from exc
    try:
        yield name
    finally:
        with contextlib.suppress(Exception):  # already gone with a rolled-back transaction
            raw.execute(f"DROP TABLE IF EXISTS {name}")


def slow_rows(store: Store, stage: str) -> tuple[int, list[int]]:
    """(rows in the file, the numbers of its rows that are not canonical, ascending)."""
    n, slow = store.con.con.execute(
        f"SELECT count(*), list({FILE_ROW} ORDER BY {FILE_ROW}) FILTER (WHERE NOT __ok) "
        f"FROM {stage}").fetchone()
    return int(n), list(slow or [])


def insert_events(store: Store, stage: str, others: pa.Table) -> int:
    """Insert the canonical rows of ``stage`` and ``others`` (the events schema plus
    :data:`FILE_ROW`): the first row per event_id in file order, unless that id is already
    stored. Returns the number of rows written."""
    raw = store.con.con
    cols = ", ".join(_quote(c) for c in S.EVENTS.names)
    view = f"_tl_others_{secrets.token_hex(4)}"
    raw.register(view, others)
    try:
        if others.num_rows:
            raw.execute(f"INSERT INTO {stage} ({cols}, {FILE_ROW}, __ok) "
                        f"SELECT {cols}, {FILE_ROW}, true FROM {view}")
        keep = "__ok"
        repeated = raw.execute(f"SELECT count(*) > count(DISTINCT event_id) FROM {stage} "
                               "WHERE __ok").fetchone()
        if repeated and repeated[0]:  # rare: rank only then (a window costs a sort)
            keep += (f" AND {FILE_ROW} NOT IN (SELECT {FILE_ROW} FROM {stage} WHERE __ok QUALIFY "
                     f"row_number() OVER (PARTITION BY event_id ORDER BY {FILE_ROW}) > 1)")
        # Only stored ids between the batch's least and greatest can equal one of its ids:
        # the range lets the scan skip the stored row groups outside it (their min/max),
        # so with ids that grow over time (sequences, ULIDs, UUIDv7) the check no longer
        # reads every stored id — it did, a cost growing with the workspace (0.6 s per
        # 845k-row file at 5M stored events). With random ids it skips nothing.
        low, high = raw.execute(f"SELECT min(event_id), max(event_id) FROM {stage} "
                                f"WHERE {keep}").fetchone()
        if low is None:
            return 0
        row = raw.execute(
            f"INSERT INTO events ({cols}) SELECT {cols} FROM (SELECT * FROM {stage} "
            f"WHERE {keep}) b ANTI JOIN (SELECT event_id FROM events "
            "WHERE event_id BETWEEN $low AND $high) t ON t.event_id = b.event_id",
            {"low": low, "high": high}).fetchone()
    except Exception as exc:
        raise StoreError(f"writing events failed: {exc}") from exc
    finally:
        raw.unregister(view)
    return int(row[0]) if row else 0


# -- the SQL ----------------------------------------------------------------------------
def _source(path: str, *, numbered: bool = True) -> str:
    """The file as DuckDB reads it: no Hive columns from its folder names (Arrow adds none),
    and ``file_row_number`` (0-based) when ``numbered``."""
    return ("read_parquet('" + path.replace("'", "''") + "', hive_partitioning=false"
            + (", file_row_number=true)" if numbered else ")"))


@contextlib.contextmanager
def _registered(con: object, source: ParquetEvents) -> Iterator[str | None]:
    if source.attributes is None:
        yield None
        return
    view = f"_tl_attributes_{secrets.token_hex(4)}"
    con.register(view, source.attributes)  # type: ignore[attr-defined]
    try:
        yield view
    finally:
        con.unregister(view)  # type: ignore[attr-defined]


def _classified(source: ParquetEvents, attr_view: str | None) -> str:
    """One row per file row: :data:`FILE_ROW`, the stored columns and ``__ok``."""
    out, ok, join = _rules(source, attr_view)
    values = ", ".join(f"{expr} AS {_quote(name)}" for name, expr in out.items())
    rule = "coalesce(" + " AND ".join(f"({r})" for r in ok) + ", false)"
    return (f"SELECT s.file_row_number + 1 AS {FILE_ROW}, {values}, {rule} AS __ok "
            f"FROM {_source(source.path)} s{join}")


def _rules(source: ParquetEvents, attr_view: str | None
           ) -> tuple[dict[str, str], list[str], str]:
    """(stored column → SQL value, the conditions of a canonical row, the join clause)."""
    final = source.named()

    def col(name: str) -> str:
        return f"s.{_quote(final[name])}" if name in final else "CAST(NULL AS VARCHAR)"

    def typ(name: str) -> str | None:
        return source.columns[final[name]] if name in final else None

    def text(name: str) -> tuple[str, str]:
        """(value, rule) of an untrimmable text column."""
        if typ(name) == "VARCHAR":
            return col(name), f"({col(name)} IS NULL OR {_plain(col(name))})"
        return "CAST(NULL AS VARCHAR)", f"{col(name)} IS NULL"

    out: dict[str, str] = {}
    ok: list[str] = []
    # event_id: required, plain
    if typ("event_id") == "VARCHAR":
        out["event_id"] = col("event_id")
        ok.append(f"{col('event_id')} IS NOT NULL AND {_plain(col('event_id'))}")
    else:
        out["event_id"], _ = text("event_id")
        ok.append("false")
    out["occurred_at"] = _timestamp(col("occurred_at"), typ("occurred_at"), source.naive_utc)
    ok.append(f"{out['occurred_at']} >= TIMESTAMPTZ '1990-01-01 00:00:00+00' "
              f"AND {out['occurred_at']} < TIMESTAMPTZ '2100-01-01 00:00:00+00'")
    for name in ("customer_id", "anonymous_id"):
        out[name], rule = text(name)
        ok.append(rule if typ(name) != "VARCHAR" else
                  f"({col(name)} IS NULL OR {_plain_id(col(name))})")
    ok.append(f"({out['customer_id']} IS NOT NULL OR {out['anonymous_id']} IS NOT NULL)")
    snake = typ("channel") == "VARCHAR"
    out["channel"] = col("channel") if snake else "CAST(NULL AS VARCHAR)"
    ok.append(f"regexp_full_match({col('channel')}, '{_SNAKE}')" if snake else "false")
    if typ("touchpoint") == "VARCHAR":
        out["touchpoint"] = f"coalesce({col('touchpoint')}, {out['channel']})"
        ok.append(f"({col('touchpoint')} IS NULL "
                  f"OR regexp_full_match({col('touchpoint')}, '{_SNAKE}'))")
    else:
        out["touchpoint"] = out["channel"]
        ok.append(f"{col('touchpoint')} IS NULL")
    types = ", ".join(f"'{t}'" for t in S.EVENT_TYPES)
    out["event_type"] = (col("event_type") if typ("event_type") == "VARCHAR"
                         else "CAST(NULL AS VARCHAR)")
    ok.append(f"{out['event_type']} IN ({types})")
    for name in ("order_id", "campaign", "device"):
        out[name], rule = text(name)
        ok.append(rule)
    for name in ("revenue", "cost"):
        number = f"CAST({col(name)} AS DOUBLE)" if typ(name) in _NUMERIC else "NULL::DOUBLE"
        out[name] = f"(CASE WHEN isnan({number}) THEN NULL ELSE {number} END)"
        sign = f"{number} >= 0" + (f" OR {out['event_type']} = 'return'"
                                   if name == "revenue" else "")
        ok.append(f"({col(name)} IS NULL OR isnan({number}) OR "
                  f"(isfinite({number}) AND ({sign})))" if typ(name) in _NUMERIC
                  else f"{col(name)} IS NULL")
    default = "'" + source.currency.replace("'", "''") + "'"
    if typ("currency") == "VARCHAR":
        ok.append(f"({col('currency')} IS NULL "
                  f"OR regexp_full_match({col('currency')}, '[A-Za-z]{{3}}'))")
        given = f"upper({col('currency')})"
    else:
        ok.append(f"{col('currency')} IS NULL")
        given = "CAST(NULL AS VARCHAR)"
    out["currency"] = (f"coalesce({given}, CASE WHEN {out['revenue']} IS NOT NULL "
                       f"OR {out['cost']} IS NOT NULL THEN {default} END)")
    join = ""
    if attr_view is not None and typ("attributes") == "VARCHAR":
        join = f" LEFT JOIN {attr_view} a ON {col('attributes')} = a.raw"
        out["attributes"] = "a.value"
        ok.append(f"({col('attributes')} IS NULL OR a.raw IS NOT NULL)")
    else:
        out["attributes"] = "CAST(NULL AS VARCHAR)"
        ok.append(f"{col('attributes')} IS NULL")
    known = set(S.EVENTS.names)
    ok += [f"s.{_quote(src)} IS NULL" for name, src in final.items() if name not in known]
    return out, ok, join


def _plain(expr: str, ends: str = "!-~", inside: str = r"(?s:.*") -> str:
    """First and last character printable ASCII, not a space: no trimming would change it.

    One regular expression (RE2: linear) costs about half of ``ord()`` on both ends."""
    return f"regexp_full_match({expr}, '[{ends}]{inside}[{ends}])?')"


def _plain_id(expr: str) -> str:
    """:func:`_plain` and no ``@`` (an email address is hashed by the pandas path)."""
    return _plain(expr, "!-?A-~", "(?s:[^@]*")


def _timestamp(expr: str, typ: str | None, naive_utc: bool) -> str:
    """The UTC instant of a raw occurred_at, NULL where it is not canonical."""
    if typ == "TIMESTAMP WITH TIME ZONE":
        return expr
    if typ in _NAIVE_TS and naive_utc:  # DuckDB truncates ns to µs, as pandas does
        return f"timezone('UTC', CAST({expr} AS TIMESTAMP))"
    if typ == "VARCHAR":
        return (f"(CASE WHEN regexp_full_match({expr}, '{_ISO}') "
                f"THEN TRY_CAST({expr} AS TIMESTAMPTZ) END)")
    return "CAST(NULL AS TIMESTAMPTZ)"
