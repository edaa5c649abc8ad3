"""Ingest: read → map → validate → de-duplicate → write, one file = one all-or-nothing batch.

Invariant (tested): ``rows_in = stored + quarantined + duplicates`` for every file.
``duplicates`` counts rows whose key is already stored (or repeated inside the file), and the
bad rows of a file that was already ingested (its quarantine rows are not written twice).

Parquet event files on DuckDB take the bulk path of :mod:`touchlens.io.ingest_bulk` (the
rules as SQL inside DuckDB, same outcome); its docstring says which files qualify.
"""

from __future__ import annotations

import hashlib
import io as _io
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from touchlens.config import Settings
from touchlens.errors import SchemaError
from touchlens.io import validate_fast as VF
from touchlens.io.adapters.referrals import tag_ai_arrivals
from touchlens.io.mapping import Mapping
from touchlens.io.pii import hash_pii_text
from touchlens.io.readers import ROW, BadRow, arrow_to_frame, detect_format, read_file
from touchlens.io.validate import check
from touchlens.store import Store
from touchlens.store import schema as S
from touchlens.store.backends import KeyLookup


@dataclass
class IngestResult:
    """What happened to one file (or Arrow table)."""

    file: str
    kind: str
    rows_in: int
    stored: int
    quarantined: int
    duplicates: int
    batch_id: str
    sha256: str
    ignored_columns: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_arrow(table: pa.Table) -> str:
    sink = _io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue()).hexdigest()


def ingest_path(store: Store, path: str | Path, kind: str, *, fmt: str | None = None,
                mapping: Mapping | None = None, settings: Settings | None = None,
                bulk: bool = True) -> IngestResult:
    """Ingest one file. Raises UnreadableFileError/SchemaError when nothing can be read.

    ``bulk=False``: never the bulk path (same outcome; the tests compare the two)."""
    path = Path(path)
    started = datetime.now(UTC)
    fmt = detect_format(path, fmt)
    if fmt == "ga4" and kind != "events":
        raise SchemaError(f"{path}: a GA4 export holds events; ingest it as kind 'events', "
                          f"not {kind!r}")
    # imported here: the bulk path builds on this module (validate_frame, write_prepared)
    from touchlens.io.ingest_bulk import bulk_source, ingest_bulk

    mapping, settings = mapping or Mapping(), settings or Settings()
    source = bulk_source(store, path, kind, fmt, mapping, settings) if bulk else None
    if source is not None:
        return ingest_bulk(store, source, file=str(path), sha256=sha256_file(path),
                           mapping=mapping, settings=settings, started=started,
                           salt=store.get_meta("pii_salt") or "")
    frame, bad_rows = read_file(path, fmt)
    return _ingest(store, frame, bad_rows, kind, file=str(path), sha256=sha256_file(path),
                   mapping=mapping, settings=settings, started=started,
                   ai_arrivals=fmt != "ga4")


def ingest_table(store: Store, table: pa.Table, kind: str, *, source: str = "<arrow>",
                 mapping: Mapping | None = None, settings: Settings | None = None) -> IngestResult:
    """Ingest an in-memory Arrow table (the simulator, the API collector)."""
    started = datetime.now(UTC)
    return _ingest(store, arrow_to_frame(table), [], kind, file=source,
                   sha256=sha256_arrow(table), mapping=mapping, settings=settings,
                   started=started)


@dataclass
class Prepared:
    """A validated batch, not written yet: :func:`prepare_table` then :func:`write_prepared`
    (the collector validates the next batch while the previous one commits)."""

    kind: str
    file: str
    sha256: str
    started: datetime
    rows_in: int
    problems: pd.DataFrame  # ROW, field, reason, raw (PII hashed)
    unique: pa.Table  # the good rows, first per key
    ignored_columns: list[str]


def prepare_table(table: pa.Table, kind: str, *, salt: str, source: str = "<arrow>",
                  mapping: Mapping | None = None, settings: Settings | None = None,
                  fast: bool = True) -> Prepared:
    """Validate an Arrow table without touching the store (``salt``: the workspace's
    ``pii_salt``).

    ``fast``: a small events table whose rows are all canonical, with no mapping, is
    validated straight from Arrow (:func:`touchlens.io.validate_fast.validate_table`; same
    result as the frame path, tested)."""
    started, sha256 = datetime.now(UTC), sha256_arrow(table)
    plain = mapping is None or mapping == Mapping()
    quick = (VF.validate_table(table, (settings or Settings()).currency)
             if fast and kind == "events" and plain else None)
    if quick is None:
        return _prepare(arrow_to_frame(table), [], kind, file=source, sha256=sha256,
                        mapping=mapping, settings=settings, started=started, salt=salt)
    problems = pd.DataFrame([(n, f, r, hash_pii_text(raw, salt, phones=False))
                             for n, f, r, raw in quick.problems],
                            columns=[ROW, "field", "reason", "raw"])
    return Prepared(kind, source, sha256, started, table.num_rows, problems, quick.unique, [])


def _ingest(store: Store, frame: pd.DataFrame, bad_rows: list[BadRow], kind: str, *, file: str,
            sha256: str, mapping: Mapping | None, settings: Settings | None,
            started: datetime, ai_arrivals: bool = True) -> IngestResult:
    prepared = _prepare(frame, bad_rows, kind, file=file, sha256=sha256, mapping=mapping,
                        settings=settings, started=started, ai_arrivals=ai_arrivals,
                        salt=store.get_meta("pii_salt") or "")
    return write_prepared(store, prepared)


def _prepare(frame: pd.DataFrame, bad_rows: list[BadRow], kind: str, *, file: str,
             sha256: str, mapping: Mapping | None, settings: Settings | None,
             started: datetime, salt: str, ai_arrivals: bool = True) -> Prepared:
    validated = validate_frame(frame, bad_rows, kind, file=file, mapping=mapping,
                               settings=settings, salt=salt, ai_arrivals=ai_arrivals)
    return Prepared(kind, file, sha256, started, validated.rows_in, validated.problems,
                    _first_per_key(validated.good, S.KINDS[kind]["key"]),
                    validated.ignored_columns)


@dataclass
class Validated:
    """Raw rows validated: ``good`` in input order (store schema), ``problems`` by row."""

    rows_in: int
    good: pa.Table
    problems: pd.DataFrame  # ROW, field, reason, raw (PII hashed)
    ignored_columns: list[str]


def validate_frame(frame: pd.DataFrame, bad_rows: list[BadRow], kind: str, *, file: str,
                   mapping: Mapping | None, settings: Settings | None, salt: str,
                   ai_arrivals: bool = True) -> Validated:
    """Map, tag AI-assistant arrivals (events) and validate the raw rows of a reader."""
    settings = settings or Settings()
    mapping = mapping or Mapping()
    if len(frame.columns) > 1 or len(frame):
        frame = mapping.apply(frame, file)
    if kind == "events" and ai_arrivals:  # utm_source=chatgpt.com… → ai_assistant/ai_answer
        frame = tag_ai_arrivals(frame)
    rows_in = len(frame) + len(bad_rows)
    checked = check(kind, frame, file=file, salt=salt, currency=settings.currency,
                    mapping=mapping) if len(frame) else None
    # The quarantine keeps no email/phone in clear (docs/privacy.md): unsplittable rows may
    # hold them anywhere; validated rows had their PII columns hashed, ids may still be emails.
    bad_rows = [(n, f, r, hash_pii_text(raw, salt)) for n, f, r, raw in bad_rows]
    problems = _problem_rows(bad_rows, checked.problems if checked else None)
    problems["raw"] = [hash_pii_text(r, salt, phones=False) for r in problems["raw"]]
    good = checked.good if checked else S.TABLES[kind].empty_table()
    return Validated(rows_in, good, problems, checked.ignored_columns if checked else [])


def write_prepared(store: Store, prepared: Prepared, *, lookup: KeyLookup | None = None,
                   insert: Callable[[], int] | None = None,
                   seen_before: bool | None = None) -> IngestResult:
    """Write a prepared batch in one transaction (all or nothing).

    ``lookup``: the batch's keys already stored, when the caller looked them up in the
    same transaction (the collector does, :meth:`Store.existing_keys`): the insert reuses it.
    ``insert``: writes the batch's rows and returns how many were new, instead of inserting
    ``prepared.unique`` (the bulk path's SQL does). ``seen_before``: whether ingest_log
    already holds this kind and content hash, when the caller asked in the same transaction.
    """
    kind, file, sha256, unique = prepared.kind, prepared.file, prepared.sha256, prepared.unique
    problems, rows_in = prepared.problems, prepared.rows_in
    batch_id = uuid.uuid4().hex
    if seen_before is None:  # only a batch with bad rows needs it (quarantined once)
        seen_before = len(problems) > 0 and _already_ingested(store, kind, sha256)
    with store.transaction():
        if insert is not None:
            stored = insert()
        elif kind == "touchpoints":  # the user's latest description of a touchpoint wins
            store.delete_where("touchpoints", "touchpoint", unique["touchpoint"].to_pylist())
            stored = store.append("touchpoints", unique)
        else:
            stored = store.insert_new(kind, unique, S.KINDS[kind]["key"], lookup=lookup)
        quarantined = 0 if seen_before else len(problems)
        if quarantined:
            store.append("quarantine", _quarantine_table(problems, batch_id, kind, file))
        duplicates = rows_in - stored - quarantined
        store.append("ingest_log", pa.table({
            "batch_id": [batch_id], "kind": [kind], "file": [file], "sha256": [sha256],
            "rows_in": [rows_in], "stored": [stored], "quarantined": [quarantined],
            "duplicates": [duplicates], "started_at": [prepared.started],
            "finished_at": [datetime.now(UTC)],
        }, schema=S.INGEST_LOG))
        if (stored and kind in ("events", "identities")
                and store.get_meta("identity_map_stale") != "1"):  # a read, not a write
            store.set_meta("identity_map_stale", "1")
    return IngestResult(file, kind, rows_in, stored, quarantined, duplicates, batch_id, sha256,
                        prepared.ignored_columns)


def _problem_rows(bad_rows: list[BadRow], checked: pd.DataFrame | None) -> pd.DataFrame:
    reader = pd.DataFrame(bad_rows, columns=[ROW, "field", "reason", "raw"])
    frames = [f for f in (reader, checked) if f is not None and len(f)]
    if not frames:
        return reader
    return pd.concat(frames, ignore_index=True).sort_values(ROW, kind="stable")


def _first_per_key(table: pa.Table, key: tuple[str, ...]) -> pa.Table:
    """Keep the first row of each key inside one batch."""
    if table.num_rows == 0:
        return table
    indexed = table.append_column("__i", pa.array(range(table.num_rows), pa.int64()))
    firsts = indexed.group_by(list(key), use_threads=False).aggregate([("__i", "min")])
    keep = pc.sort_indices(firsts["__i_min"])
    return table.take(pc.take(firsts["__i_min"], keep))


def _already_ingested(store: Store, kind: str, sha256: str) -> bool:
    if store.engine == "duckdb":  # hot path for small API batches: plain SQL, no compile
        row = store.con.con.execute(
            "SELECT count(*) FROM ingest_log WHERE sha256 = ? AND kind = ?", [sha256, kind]
        ).fetchone()
        return bool(row and row[0])
    log = store.table("ingest_log")
    return bool(store.scalar(log.filter((log.sha256 == sha256) & (log.kind == kind)).count()))


def _quarantine_table(problems: pd.DataFrame, batch_id: str, kind: str, file: str) -> pa.Table:
    n = len(problems)
    return pa.table({
        "batch_id": [batch_id] * n, "kind": [kind] * n, "file": [file] * n,
        "row_number": problems[ROW].astype("int64").to_list(),
        "field": problems["field"].to_list(), "reason": problems["reason"].to_list(),
        "raw": problems["raw"].to_list(), "quarantined_at": [datetime.now(UTC)] * n,
    }, schema=S.QUARANTINE)
