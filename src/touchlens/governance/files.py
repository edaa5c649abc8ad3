"""Files touchlens wrote (exports, reports): a registry, and scrubbing them on erasure.

Every face that writes a file with customer data calls
:func:`register_written_file` (``ws.register_written_file(path, kind)``): the path is kept in
``written_files`` and an ``export`` entry goes to the audit log. On erasure, :func:`scrub_file`
handles each registered file:

- CSV/TSV, JSON Lines, JSON arrays of records, Parquet: rows holding one of the person's
  identifiers are removed and the file is rewritten atomically (temp file + rename);
- other text (HTML, Markdown, TXT, SVG, XML): searched; a hit is reported as *unreachable*
  (touchlens cannot rewrite a rendered report: regenerate or delete it);
- binary formats (PDF, images, spreadsheets): *unverified*, to be checked by hand;
- a file that is gone is *missing* (nothing to do).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from touchlens.governance import audit
from touchlens.governance.actor import current_actor
from touchlens.store import Store
from touchlens.store import schema as S
from touchlens.store.erase import json_value_pattern

TEXT_REPORTS = (".html", ".htm", ".md", ".txt", ".svg", ".xml")


def register_written_file(store: Store, path: str | Path, kind: str) -> None:
    """Record that touchlens wrote ``path`` (absolute) holding ``kind`` (e.g. "export",
    "report"); also audited as an ``export``."""
    resolved = str(Path(path).expanduser().resolve())
    now = datetime.now(UTC)
    with store.transaction():
        store.append("written_files", pa.table({
            "path": [resolved], "kind": [kind], "written_at": [now],
            "actor": [current_actor()]}, schema=S.WRITTEN_FILES))
        audit.record(store, "export", target=resolved, details={"kind": kind}, at=now)


def written_files(store: Store) -> pd.DataFrame:
    """Registered files, latest registration per path: path, kind, written_at, actor."""
    frame = store.execute(store.table("written_files").order_by("written_at"))
    return frame.drop_duplicates("path", keep="last").reset_index(drop=True)


class Matcher:
    """Tells whether a value or a text holds one of a person's identifiers."""

    def __init__(self, values: Iterable[str], clear: Iterable[str] = ()) -> None:
        self.values = frozenset(values)
        self.clear = tuple(c.lower() for c in clear if c)
        self.json_value = re.compile(json_value_pattern(self.values))
        alts = "|".join(re.escape(v) for v in sorted(self.values, key=len, reverse=True))
        self.token = re.compile(f"(?<![\\w-])(?:{alts})(?![\\w-])")

    def cell(self, value: object) -> bool:
        """A field of a record: equal to an identifier, or holding one as a JSON value or
        (clear email/phone given by the requester) as text."""
        if value is None or isinstance(value, bool | int | float):
            return value is not None and str(value) in self.values
        text = str(value)
        if text.strip() in self.values or self.json_value.search(text):
            return True
        lowered = text.lower()
        return any(c in lowered for c in self.clear)

    def record(self, obj: object) -> bool:
        """A parsed JSON value, searched recursively."""
        if isinstance(obj, dict):
            return any(self.cell(k) or self.record(v) for k, v in obj.items())
        if isinstance(obj, list):
            return any(self.record(v) for v in obj)
        return self.cell(obj)

    def text(self, text: str) -> bool:
        """Free text (a rendered report): an identifier as a whole token, or a clear form."""
        lowered = text.lower()
        return bool(self.token.search(text)) or any(c in lowered for c in self.clear)


def _replace_atomically(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _decode(data: bytes) -> tuple[str, str]:
    for codec in ("utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8", "cp1250"):
        try:
            return data.decode(codec), codec
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _scrub_csv(text: str, match: Matcher) -> tuple[str, int]:
    try:
        delimiter = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    keep = rows[:1] + [r for r in rows[1:] if not any(match.cell(v) for v in r)]
    out = io.StringIO()
    ending = "\r\n" if "\r\n" in text else "\n"
    csv.writer(out, delimiter=delimiter, lineterminator=ending).writerows(keep)
    return out.getvalue(), len(rows) - len(keep)


def _scrub_jsonl(text: str, match: Matcher) -> tuple[str, int]:
    kept, removed = [], 0
    for line in text.splitlines(keepends=True):
        try:
            hit = match.record(json.loads(line)) if line.strip() else False
        except json.JSONDecodeError:
            hit = match.text(line)
        if hit:
            removed += 1
        else:
            kept.append(line)
    return "".join(kept), removed


def _scrub_parquet(path: Path, match: Matcher) -> tuple[pa.Table, int]:
    table = pq.read_table(path)
    values = pa.array(sorted(match.values), pa.string())
    hit = pa.array([False] * table.num_rows)
    for name in table.column_names:
        column = table[name]
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            col = pc.cast(column, pa.string())
            found = pc.or_(pc.is_in(col, value_set=values),
                           pc.match_substring_regex(col, match.json_value.pattern))
            hit = pc.or_(hit, pc.fill_null(found, False))
    return table.filter(pc.invert(hit)), int(pc.sum(hit).as_py() or 0)


def scrub_file(path: str | Path, match: Matcher, *, dry_run: bool = False) -> str:
    """Remove the person from one written file; returns the outcome (see module docstring)."""
    path = Path(path)
    done = "would remove {n} row(s)" if dry_run else "rewritten: {n} row(s) removed"
    try:
        if not path.exists():
            return "missing"
        suffix = "".join(path.suffixes[-1:]).lower()
        if suffix == ".parquet":
            kept, removed = _scrub_parquet(path, match)
            if removed and not dry_run:
                sink = pa.BufferOutputStream()
                pq.write_table(kept, sink)
                _replace_atomically(path, sink.getvalue().to_pybytes())
            return done.format(n=removed) if removed else "clean"
        data = path.read_bytes()
        text, codec = _decode(data)
        if suffix in (".csv", ".tsv", ".jsonl", ".ndjson") or (
                suffix == ".json" and text.lstrip().startswith("[")):
            if suffix == ".json":
                items = json.loads(text)
                kept_items = [i for i in items if not match.record(i)]
                new_text, removed = json.dumps(kept_items, ensure_ascii=False, indent=1), len(
                    items) - len(kept_items)
            elif suffix in (".csv", ".tsv"):
                new_text, removed = _scrub_csv(text, match)
            else:
                new_text, removed = _scrub_jsonl(text, match)
            if removed and not dry_run:
                _replace_atomically(path, new_text.encode(codec))
            return done.format(n=removed) if removed else "clean"
        if suffix in TEXT_REPORTS or suffix == ".json":
            if match.text(text):
                return ("unreachable: holds the person's identifiers and cannot be rewritten; "
                        "regenerate or delete it")
            return "clean"
        if match.text(data.decode("latin-1")):
            return "unreachable: holds the person's identifiers; regenerate or delete it"
        return "unverified: binary format, check it by hand"
    except (OSError, ValueError, pa.ArrowException) as exc:
        return f"unreachable: {type(exc).__name__}: {exc}"
