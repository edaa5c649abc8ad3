"""The bulk path of events ingest: the validation rules run as SQL inside DuckDB.

Same outcome as the general path of :mod:`touchlens.io.ingest` (stored rows, quarantine rows
and reasons, the ``rows_in = stored + quarantined + duplicates`` accounting; tested property,
``tests/io/test_ingest_bulk.py``), at DuckDB speed for the rows that need no work.

Which files take it (:func:`bulk_source`): events, Parquet, the DuckDB backend, and

- a mapping of plain renames at most (no constants, value recodes or formats; with a
  timezone other than ``UTC`` naive timestamps are not canonical, see below);
- at least one row, and every column the validators require (otherwise the general path
  raises its usual error);
- columns that Arrow, pandas and DuckDB read under the same names: no names differing only
  in case, no stored pandas index, no ``_row_number`` or ``file_row_number`` column; a path
  that is not a glob pattern.

Everything else — CSV, JSONL, GA4 exports, Arrow tables, other kinds, Spark, mappings with
constants, recodes or formats — takes the general pandas/Arrow path.

Inside such a file the rows split in two (:mod:`touchlens.store.bulk_events` lists the rules
and holds the SQL): *canonical* rows, for which every validator keeps the value as it is, are
checked and written by SQL without leaving DuckDB. The other rows — bad values, missing
fields, emails, blanks to trim, names to snake_case, extra columns to merge into
``attributes``, missing event ids, AI-assistant referrals — are read with Arrow as the general
path reads them (same frame dtypes) and go through the same mapping, AI-arrival rule and
validators, which word their quarantine reasons. One ``INSERT … SELECT`` then writes both:
the first row per ``event_id`` in file order, unless already stored.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from touchlens.config import Settings
from touchlens.errors import StoreError
from touchlens.io import validate_fast as VF

# tag_ai_arrivals' own candidate test: rows it may change must take the pandas path
from touchlens.io.adapters.referrals import referral_hits
from touchlens.io.ingest import IngestResult, Prepared, validate_frame, write_prepared
from touchlens.io.mapping import Mapping
from touchlens.io.readers import ROW, read_parquet_rows
from touchlens.store import Store
from touchlens.store import bulk_events as SQL
from touchlens.store import schema as S
from touchlens.store.bulk_events import ParquetEvents

_GLOB = "*?[{"


def bulk_source(store: Store, path: Path, kind: str, fmt: str, mapping: Mapping,
                settings: Settings) -> ParquetEvents | None:
    """The file as a :class:`ParquetEvents` when it takes the bulk path, else None."""
    if kind != "events" or fmt != "parquet" or store.engine != "duckdb":
        return None
    if mapping.constants or mapping.values or mapping.formats:
        return None
    if any(ch in str(path) for ch in _GLOB):  # read_parquet would expand it
        return None
    try:
        meta = pq.ParquetFile(path)
        names = meta.schema_arrow.names
        frame_columns = list(meta.schema_arrow.empty_table().to_pandas().columns)
        rows = meta.metadata.num_rows
    except Exception:  # unreadable: the general path says why
        return None
    lowered = [n.lower() for n in names]
    if (not rows or frame_columns != names or len(set(lowered)) != len(names)
            or ROW in names or "file_row_number" in lowered):
        return None
    described = SQL.parquet_columns(store, str(path))
    if described is None or [n for n, _ in described] != names:
        return None
    if any(src not in names for src in mapping.columns.values()):
        return None  # the general path raises the mapping error
    source = ParquetEvents(str(path), dict(described), dict(mapping.columns),
                           naive_utc=mapping.timezone == "UTC", currency=settings.currency)
    have = set(source.named())
    spec = S.KINDS["events"]
    if not set(spec["required"]) <= have or not have & set(spec["one_of"]):
        return None  # the general path raises the schema error
    try:
        return _with_attributes(store, source)
    except StoreError:  # the file reads badly after all: the general path says why
        return None


def ingest_bulk(store: Store, source: ParquetEvents, *, file: str, sha256: str,
                mapping: Mapping, settings: Settings, started: datetime,
                salt: str) -> IngestResult:
    """Ingest a file that :func:`bulk_source` accepted (one transaction, as the general
    path)."""
    with SQL.staged(store, source) as stage:
        rows_in, slow = SQL.slow_rows(store, stage)
        others = S.EVENTS.empty_table().append_column(SQL.FILE_ROW, pa.array([], pa.int64()))
        problems = pd.DataFrame(columns=[ROW, "field", "reason", "raw"])
        if slow:
            frame = read_parquet_rows(Path(source.path), [r - 1 for r in slow])
            validated = validate_frame(frame, [], "events", file=file, mapping=mapping,
                                       settings=settings, salt=salt)
            rejected = set(validated.problems[ROW].astype("int64").tolist())
            kept = pa.array([r for r in slow if r not in rejected], pa.int64())
            others = validated.good.append_column(SQL.FILE_ROW, kept)
            problems = validated.problems
        prepared = Prepared("events", file, sha256, started, rows_in, problems,
                            S.EVENTS.empty_table(), [])
        return write_prepared(store, prepared,
                              insert=lambda: SQL.insert_events(store, stage, others))


def _with_attributes(store: Store, source: ParquetEvents) -> ParquetEvents:
    """``source`` with its map of canonical ``attributes`` texts → stored form: JSON objects
    that mention no AI assistant (few distinct values in practice: mapped once each)."""
    column = source.named().get("attributes")
    if column is None or source.columns[column] != "VARCHAR":
        return source
    values = SQL.distinct_text(store, source.path, column)
    mentions = referral_hits(pd.Series(values, dtype=object)) if values else []
    raws, stored = [], []
    for value, mention in zip(values, mentions, strict=True):
        if mention:
            continue
        try:
            stored.append(VF.stored_attributes(value))
        except ValueError:
            continue
        raws.append(value)
    table = pa.table({"raw": pa.array(raws, pa.string()), "value": pa.array(stored, pa.string())})
    return dataclasses.replace(source, attributes=table)
