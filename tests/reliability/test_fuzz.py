"""Fuzzing the readers and validators: whatever the file, ingest never crashes.

Either the file is rejected as a whole with a clear error (UnreadableFileError/SchemaError)
and nothing is written, or every row is accounted for — rows_in = stored + quarantined +
duplicates — and every quarantined row has a field and a reason.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from touchlens import SchemaError, UnreadableFileError, Workspace
from touchlens.store.schema import KINDS

# Valid values per column: most cells are valid, so rows reach validation and storage too.
GOOD = {
    "event_id": ["e1", "e2", "e3", "x-9"], "response_id": ["r1", "r2"],
    "answer_id": ["a1", "a2"], "occurred_at": ["2026-01-01T10:00:00Z", "2026-02-03 04:05"],
    "collected_at": ["2026-01-01T10:00:00Z"], "date": ["2026-01-01", "2026-01-02"],
    "customer_id": ["c1", "c2", "jan@x.pl"], "anonymous_id": ["a1", ""],
    "channel": ["web", "email", "Paid Search"], "touchpoint": ["home", "newsletter"],
    "event_type": ["click", "purchase", "Page View"], "revenue": ["12,50", "10", ""],
    "currency": ["PLN", "eur", ""], "cost": ["0.5", ""], "attributes": ['{"utm": "x"}', ""],
    "email": ["Jan@X.pl", ""], "phone": ["+48 600 100 200", ""], "nps": ["0", "10", "7"],
    "csat": ["1", "5"], "ces": ["7"], "text": ["super", "nie polecam", ""],
    "spend": ["100", "12,5"], "id_type": ["email", "device", "customer"],
    "id_value": ["d1", "jan@x.pl"], "purpose": ["marketing", "personalisation"],
    "status": ["granted", "opt-out"], "stage": ["awareness", "retention"],
    "assistant": ["chatgpt"], "prompt": ["best shop?"], "answer": ["this one"],
    "cited_urls": ["https://a.pl https://b.pl", "[1]"],
}
COLUMNS = sorted(GOOD)
# More examples for a long run: TOUCHLENS_FUZZ_EXAMPLES=500 pytest tests/reliability/test_fuzz.py
FUZZ = settings(max_examples=int(os.environ.get("TOUCHLENS_FUZZ_EXAMPLES", "20")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])

_plausible = st.sampled_from([
    "2026-13-45", "01.02.2026 10:00", "", " ", "-5", "1e400", "NaN", "inf", "null", "[1,2]",
    "{\"a\": 1}", "Łódź ąę", "🙂", "0", "teleport", "2099-12-31T23:59:59+14:00",
])
_odd = st.sampled_from([
    '"unterminated', 'a""b', '"a""b"', "a\nb", "a\r\nb", "x,y", "x;y", "a\tb", "\x00",
    "a\x00b", "\ufeff", "\u2028", "'", "\\", "\r",
])
_huge = st.integers(0, 300_000).map(lambda n: "x" * n)
_noise = st.one_of(_plausible, _odd, st.text(max_size=20), _huge)


def _header(draw, kind: str) -> list[str]:
    """The kind's required columns (usually), some optional ones, maybe a stray one."""
    spec = KINDS[kind]
    needed = list(spec["required"]) + list(spec["one_of"][:1])
    if draw(st.integers(0, 9)) == 0:  # sometimes a required column is missing
        needed = needed[1:]
    extra = draw(st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)),
                          max_size=4))
    return list(dict.fromkeys(needed + extra)) or ["x"]


def _cell(draw, column: str) -> str:
    if column in GOOD and draw(st.integers(0, 3)) > 0:
        return draw(st.sampled_from(GOOD[column]))
    return draw(_noise)


@st.composite
def csv_files(draw, kind: str) -> bytes:
    header = _header(draw, kind)
    delimiter = draw(st.sampled_from([",", ";", "\t", "|"]))
    n_rows = draw(st.integers(0, 12))
    rows = []
    for _ in range(n_rows):
        row = [_cell(draw, c) for c in header]
        if draw(st.integers(0, 9)) == 0:  # wrong field count
            row = row[:-1] if draw(st.booleans()) else [*row, "extra"]
        rows.append(row)
    if draw(st.integers(0, 3)) > 0:  # well-formed quoting
        out = io.StringIO()
        writer = csv.writer(out, delimiter=delimiter, lineterminator=draw(
            st.sampled_from(["\n", "\r\n"])))
        writer.writerow(header)
        writer.writerows(rows)
        text = out.getvalue()
    else:  # naive joining: broken quotes and stray delimiters stay broken
        text = "\n".join(delimiter.join(r) for r in [header, *rows]) + "\n"
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1250", "utf-16", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    return gzip.compress(data) if draw(st.booleans()) and len(data) < 100_000 else data


_json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=15) | _plausible,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner,
                                                              max_size=3),
    max_leaves=6)
_odd_lines = st.sampled_from([
    '{"customer_id": "\\ud800", "channel": "web"}', '{"customer_id": "a\\u0000b"}',
    '{"occurred_at": 1e999}', '{"a": NaN}', "[1, 2", "{}", "   ", "[]", '"text"', "42",
])


@st.composite
def jsonl_files(draw, kind: str) -> bytes:
    header = _header(draw, kind)
    lines = []
    for _ in range(draw(st.integers(0, 12))):
        roll = draw(st.integers(0, 9))
        if roll == 0:
            lines.append(draw(st.one_of(_odd_lines, st.text(max_size=30))))
            continue
        obj = {}
        for column in header:
            if draw(st.integers(0, 4)) == 0:
                obj[column] = draw(_json_value)  # a wrong type, or a nested value
            elif draw(st.integers(0, 9)) > 0:
                obj[column] = _cell(draw, column)
        lines.append(json.dumps(obj, allow_nan=True))
    if draw(st.integers(0, 9)) == 0:
        return ("[" + ",".join(ln for ln in lines if ln.strip()) + "]").encode()
    return "\n".join(lines).encode("utf-8", errors="surrogatepass")


_ARROW_TYPES = ["good", "good", "good", "int", "float", "bool", "string", "timestamp", "date",
                "list", "struct", "null", "binary"]


@st.composite
def arrow_columns(draw, kind: str) -> dict[str, str]:
    return {c: draw(st.sampled_from(_ARROW_TYPES)) for c in _header(draw, kind)}


def _arrow_column(column: str, kind: str, n: int, seed: int) -> pa.Array:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    good = GOOD.get(column, ["v"])
    make = {
        "good": lambda: pa.array([good[(seed + i) % len(good)] for i in range(n)]),
        "int": lambda: pa.array([seed * i - 7 for i in range(n)], pa.int64()),
        "float": lambda: pa.array([None if i % 3 == 0 else seed / (i + 1) for i in range(n)]),
        "bool": lambda: pa.array([i % 2 == 0 for i in range(n)]),
        "string": lambda: pa.array([f"v{seed}_{i}" if i % 4 else None for i in range(n)]),
        "timestamp": lambda: pa.array([t0] * n, pa.timestamp("us", tz="UTC")),
        "date": lambda: pa.array([t0.date()] * n, pa.date32()),
        "list": lambda: pa.array([[i, seed] for i in range(n)]),
        "struct": lambda: pa.array([{"a": i, "b": "x"} for i in range(n)]),
        "null": lambda: pa.nulls(n),
        "binary": lambda: pa.array([b"\x00\xff" * i for i in range(n)], pa.binary()),
    }
    return make[kind]()


def _check(ws: Workspace, run) -> None:
    before = ws.store.count("quarantine")
    try:
        result = run()
    except (UnreadableFileError, SchemaError) as exc:
        event(f"rejected: {type(exc).__name__}")
        assert str(exc)
        assert ws.store.count("events") + ws.store.count("ingest_log") == 0
        assert ws.store.count("quarantine") == before
        return
    r = result.iloc[0]
    event(f"ingested: stored {'>0' if r.stored else '0'}, quarantined "
          f"{'>0' if r.quarantined else '0'}")
    assert r.rows_in == r.stored + r.quarantined + r.duplicates
    q = ws.quarantine()
    assert len(q) - before == r.quarantined
    assert q.reason.str.len().gt(0).all() and q.field.notna().all()
    assert ws.store.count(r.kind) >= r.stored


@FUZZ
@given(st.data(), st.sampled_from(sorted(KINDS)))
def test_any_csv_is_ingested_or_rejected_cleanly(tmp_path_factory, data, kind):
    data = data.draw(csv_files(kind))
    path = tmp_path_factory.mktemp("fuzz") / "input.csv"
    path.write_bytes(data)
    with Workspace.open(":memory:") as ws:
        _check(ws, lambda: ws.ingest(path, kind))


@FUZZ
@given(st.data(), st.sampled_from(sorted(KINDS)))
def test_any_jsonl_is_ingested_or_rejected_cleanly(tmp_path_factory, data, kind):
    data = data.draw(jsonl_files(kind))
    path = tmp_path_factory.mktemp("fuzz") / "input.jsonl"
    path.write_bytes(data)
    with Workspace.open(":memory:") as ws:
        _check(ws, lambda: ws.ingest(path, kind))


@FUZZ
@given(st.data(), st.integers(0, 6), st.integers(1, 50), st.sampled_from(sorted(KINDS)))
def test_any_parquet_types_are_ingested_or_rejected_cleanly(tmp_path_factory, data, n, seed,
                                                             kind):
    columns = data.draw(arrow_columns(kind))
    table = pa.table({name: _arrow_column(name, t, n, seed) for name, t in columns.items()})
    path = tmp_path_factory.mktemp("fuzz") / "input.parquet"
    pq.write_table(table, path)
    with Workspace.open(":memory:") as ws:
        _check(ws, lambda: ws.ingest(path, kind))


def test_cases_the_fuzzers_found(tmp_path):
    """Regressions: each of these used to crash the batch or reject a readable file."""
    header = "event_id,occurred_at,customer_id,channel,event_type\n"
    row = "{},2026-01-01T10:00:00Z,c1,web,click\n"
    cases = {
        # UTF-16 with a byte-order mark (Excel's "Unicode text"): was "binary content"
        "utf16.csv": ((header + row.format("u1")).encode("utf-16"), (1, 1, 0)),
        # one stray NUL in a big file: was stored as is; now that row is quarantined
        "nul.csv": ((header + "".join(row.format(f"n{i}") for i in range(3000))
                     + "n-bad,2026-01-01T10:00:00Z,c\x001,web,click\n").encode(),
                    (3001, 3000, 1)),
        # a lone surrogate from a JSON escape: was a UnicodeEncodeError crashing the batch
        "surrogate.jsonl": (b'{"event_id": "s1", "occurred_at": "2026-01-01", '
                            b'"customer_id": "\\ud800", "channel": "web", '
                            b'"event_type": "click"}\n', (1, 0, 1)),
        "nul.jsonl": (b'{"event_id": "s2", "occurred_at": "2026-01-01", '
                      b'"customer_id": "a\\u0000b", "channel": "web", '
                      b'"event_type": "click"}\n', (1, 0, 1)),
    }
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        for name, (data, expected) in cases.items():
            path = tmp_path / name
            path.write_bytes(data)
            r = ws.ingest(path, "events").iloc[0]
            assert (r.rows_in, r.stored, r.quarantined) == expected, name
        reasons = ws.quarantine().reason
        assert reasons.str.contains("NUL character or invalid Unicode").all()
        # an extra list column in Parquet: crashed merging it into attributes (numpy array)
        pq.write_table(pa.table({"event_id": ["l1"], "occurred_at": ["2026-01-01"],
                                 "customer_id": ["c1"], "channel": ["web"],
                                 "event_type": ["click"], "tags": [[1, 2]]}),
                       tmp_path / "list.parquet")
        assert ws.ingest(tmp_path / "list.parquet", "events").stored.iloc[0] == 1
        attributes = ws.store.execute(ws.store.table("events")).set_index("event_id").attributes
        assert json.loads(attributes["l1"]) == {"tags": [1, 2]}
