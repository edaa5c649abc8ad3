"""Readers: turn a CSV, JSONL or Parquet file into a DataFrame of raw rows, losing nothing.

Each reader returns ``(frame, bad_rows)``: ``frame`` holds the parsable records with a
``_row_number`` column (1 = first record after the header / first line / first Parquet row);
``bad_rows`` lists records that could not even be split into fields (wrong field count,
invalid JSON), as ``(row_number, field, reason, raw_text)``, for the quarantine.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from touchlens.errors import UnreadableFileError

FORMATS = ("csv", "jsonl", "parquet", "ga4")  # ga4: BigQuery export, see io.adapters.ga4
ROW = "_row_number"
BadRow = tuple[int, str, str, str]
NUL_REASON = "a NUL character or invalid Unicode (lone surrogate) in a value; not text"


def detect_format(path: Path, fmt: str | None) -> str:
    """The input format: ``fmt`` if given, else from the extension (``.csv``, ``.jsonl``…)."""
    if fmt:
        fmt = fmt.lower()
        if fmt == "json":
            fmt = "jsonl"
        if fmt not in FORMATS:
            raise UnreadableFileError(f"{path}: unknown format {fmt!r}; use one of {FORMATS}")
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    for ext, name in ((".csv", "csv"), (".tsv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                      (".json", "jsonl"), (".parquet", "parquet"), (".pq", "parquet")):
        if ext in suffixes:
            return name
    raise UnreadableFileError(f"{path}: cannot tell the format from the name; pass --format")


def read_file(path: Path, fmt: str) -> tuple[pd.DataFrame, list[BadRow]]:
    if not path.exists():
        raise UnreadableFileError(f"{path}: no such file")
    if fmt == "ga4":
        from touchlens.io.adapters.ga4 import read_ga4  # the adapter reads through this module

        return read_ga4(path)
    if fmt == "parquet":
        return read_parquet(path), []
    text = _decode(path)
    if fmt == "csv":
        return read_csv_text(text, path)
    return read_jsonl_text(text, path)


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip-compressed export
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise UnreadableFileError(f"{path}: broken gzip file ({exc})") from exc
    if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") or data[:2] in (b"\xff\xfe",
                                                                             b"\xfe\xff"):
        codec = "utf-32" if data[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff") else "utf-16"
        try:  # "Unicode text" exports (Excel, PowerShell) carry a UTF-16/32 byte-order mark
            return data.decode(codec)
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(f"{path}: broken {codec.upper()} text ({exc})") from exc
    sample = data[:65536]
    if sample.count(b"\x00") * 100 > len(sample):  # over 1% NUL bytes
        # Many NULs: binary (or UTF-16 without a byte-order mark). A stray NUL only costs its
        # row (quarantined by the readers).
        raise UnreadableFileError(f"{path}: binary content (NUL bytes); not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Polish exports from older Windows tools are often cp1250; every byte decodes there
        # except a few, so a file that fails both is not text.
        try:
            return data.decode("cp1250")
        except UnicodeDecodeError as exc:
            raise UnreadableFileError(f"{path}: not UTF-8 or CP1250 text ({exc})") from exc


def read_csv_text(text: str, path: Path) -> tuple[pd.DataFrame, list[BadRow]]:
    """Parse CSV text (delimiter sniffed among , ; tab |); every value stays a string."""
    sample = text[:65536]
    try:
        dialect = csv.Sniffer().sniff(sample.split("\n", 1)[0] or sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration as exc:
        raise UnreadableFileError(f"{path}: empty file, no header") from exc
    except csv.Error as exc:
        raise UnreadableFileError(f"{path}: not CSV ({exc})") from exc
    header = [h.strip() for h in header]
    if not any(header):
        raise UnreadableFileError(f"{path}: the header row is empty")
    if len(set(header)) != len(header):
        dupes = sorted({h for h in header if header.count(h) > 1})
        raise UnreadableFileError(f"{path}: duplicate column names in header: {dupes}")
    width = len(header)
    has_nul = "\x00" in text
    rows: list[list[str]] = []
    numbers: list[int] = []
    bad: list[BadRow] = []
    n = 0
    while True:
        try:
            rec = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            n += 1
            bad.append((n, "_row", f"unparsable CSV record: {exc}", ""))
            continue
        if not rec or (len(rec) == 1 and rec[0] == ""):
            continue  # blank line: not a record
        n += 1
        if len(rec) != width:
            bad.append((n, "_row", f"expected {width} fields, got {len(rec)}",
                        json.dumps(rec, ensure_ascii=False)))
            continue
        if has_nul and any("\x00" in v for v in rec):
            bad.append((n, "_row", NUL_REASON, json.dumps(rec)))
            continue
        rows.append(rec)
        numbers.append(n)
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame[ROW] = pd.Series(numbers, dtype="int64")
    return frame, bad


def read_jsonl_text(text: str, path: Path) -> tuple[pd.DataFrame, list[BadRow]]:
    """Parse JSON Lines; a JSON array file is accepted too. Nested values are kept as JSON."""
    stripped = text.lstrip()
    escapes = "\\u" in text  # only \u escapes can smuggle NULs or lone surrogates in
    records: list[dict] = []
    numbers: list[int] = []
    bad: list[BadRow] = []
    if stripped.startswith("["):
        try:
            items = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise UnreadableFileError(f"{path}: invalid JSON array ({exc})") from exc
        lines = [(i + 1, item, None) for i, item in enumerate(items)]
    else:
        lines = []
        for i, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                lines.append((i, json.loads(line), None))
            except json.JSONDecodeError as exc:
                lines.append((i, None, f"invalid JSON: {exc.msg} at column {exc.colno}"))
                bad.append((i, "_line", lines[-1][2], line[:2000]))
    for number, obj, err in lines:
        if err:
            continue
        if not isinstance(obj, dict):
            bad.append((number, "_line", f"expected a JSON object, got {type(obj).__name__}",
                        json.dumps(obj)[:2000]))
            continue
        if escapes and not _clean_text(obj):
            bad.append((number, "_line", NUL_REASON, json.dumps(obj)[:2000]))
            continue
        records.append({k: _flatten(v) for k, v in obj.items()})
        numbers.append(number)
    if not records and not bad:
        raise UnreadableFileError(f"{path}: no JSON records")
    frame = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    frame = frame.astype(object)
    frame[ROW] = pd.Series(numbers, dtype="int64")
    return frame, bad


def _clean_text(value: object) -> bool:
    """False when a parsed JSON value holds a NUL or a lone surrogate (from ``\\u`` escapes):
    such strings cannot be stored as UTF-8 text."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_clean_text(k) and _clean_text(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_clean_text(v) for v in value)
    return True


def _flatten(value: object) -> object:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return value


def read_parquet(path: Path) -> pd.DataFrame:
    return arrow_to_frame(_parquet_table(path))


def read_parquet_rows(path: Path, positions: list[int]) -> pd.DataFrame:
    """The rows at ``positions`` (0-based, ascending) of :func:`read_parquet`'s frame, with
    its index, row numbers and dtypes: an integer column holding a NULL anywhere in the file
    is float64 there (a boolean one object), so it is here too, whatever rows are taken."""
    table = _parquet_table(path)
    frame = table.take(pa.array(positions, pa.int64())).to_pandas(types_mapper=None)
    for name, column in zip(table.column_names, table.columns, strict=True):
        if column.null_count and pa.types.is_integer(column.type):
            frame[name] = frame[name].astype("float64")
        elif column.null_count and pa.types.is_boolean(column.type):
            frame[name] = frame[name].astype(object)
    frame.index = pd.Index(positions, dtype="int64")
    frame[ROW] = pd.Series([p + 1 for p in positions], index=frame.index, dtype="int64")
    return frame


def _parquet_table(path: Path) -> pa.Table:
    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise UnreadableFileError(f"{path}: not a Parquet file ({exc})") from exc


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as raw rows (numbered from 1) for the validators."""
    frame = table.to_pandas(types_mapper=None)
    frame[ROW] = pd.RangeIndex(1, len(frame) + 1, dtype="int64")
    return frame
