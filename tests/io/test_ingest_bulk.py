"""The bulk (SQL) path of Parquet event ingest gives exactly what the general path gives."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchlens.config import Settings
from touchlens.io import Mapping
from touchlens.io.ingest import ingest_path
from touchlens.io.ingest_bulk import bulk_source
from touchlens.store import Store
from touchlens.store import schema as S

_ID = st.one_of(st.none(), st.sampled_from(
    ["e1", "e2", "e3", "dup", " e1", "e2 ", "", "  ", "g:0123456789abcdef", "é1", "x\ty",
     "ünï", "a@b.co"]), st.text(max_size=5))
_PERSON = st.one_of(st.none(), st.sampled_from(
    ["c1", "C00042", " c1", "", "Jan.Kowalski@Example.com", "a@b", "ünï", "x y", "c1\n"]),
    st.text(max_size=5))
_SNAKE = st.one_of(st.none(), st.sampled_from(
    ["email", "web", "paid_search", "Web", "web site", "a-b", "", " web", "click", "Click",
     "not_a_type", "purchase", "return", "page_view", "visit", "x" * 70, "referral"]))
_TEXT = st.one_of(st.none(), st.sampled_from(["O1", " O1", "", "Wiosna 2026", "ä", "a\u00a0"]),
                  st.text(max_size=4))
_TS_TEXT = st.one_of(st.none(), st.sampled_from([
    "2026-04-01T10:00:00+00:00", "2026-04-01T10:00:00Z", "2026-04-01T10:00:00.5+02:00",
    "2026-04-01T10:00:00.123456-05:30", "2026-04-01T10:00:00", "2026-02-30T10:00:00Z",
    "1989-12-31T23:59:59Z", "2099-12-31T23:59:59+00:00", "2100-01-01T00:30:00+01:00",
    "2026-04-01 10:00:00+00:00", "not a date", "2026-04-01T24:00:00Z", "2026-04-01",
    "2026-04-01T10:00:00+0200", "2026-04-01T10:00:00z", " 2026-04-01T10:00:00Z",
    "2026-04-01T10:00:00+14:00", "2026-04-01T10:00:00-12:30"]), st.text(max_size=4))
# µs (or ns) since the epoch, around the 1990-2100 window
_TS_NUMBER = st.one_of(st.none(), st.sampled_from([631_152_000_000_000, 631_151_999_999_999,
                                                   4_102_444_800_000_000, 1_775_000_000_123_456]),
                       st.integers(600_000_000_000_000, 4_200_000_000_000_000))
_NUM = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 12.5, -3.0, 1e300, float("nan")]),
                 st.floats(allow_nan=True, allow_infinity=True))
_NUM_TEXT = st.one_of(st.none(), st.sampled_from(["12,50", "1 200", "abc", "", "7", "-1"]))
_CUR = st.one_of(st.none(), st.sampled_from(["EUR", "eur", "PLN", "EURO", "", " USD", "ıab"]))
_ATTR = st.one_of(st.none(), st.sampled_from(
    ['{"a": 1}', "{}", "[1]", "nope", ' {"b": "ü"}', '{"n": {"x": [1, 2]}}', '{"f": NaN}',
     '{"utm_source": "chatgpt.com"}', '{"ref": "perplexity.ai"}', '{"store_id": "S1"}']))
_EXTRA = {"email": st.one_of(st.none(), st.sampled_from(["ola@example.pl", " ", "x"])),
          "utm_source": st.one_of(st.none(), st.sampled_from(["chatgpt.com", "newsletter"])),
          "note": st.one_of(st.none(), st.sampled_from(["", "hello", "+48 600 100 200"]))}
_TS_TYPES = {"text": pa.string(), "us_utc": pa.timestamp("us", tz="UTC"),
             "ns_utc": pa.timestamp("ns", tz="UTC"),
             "ms_warsaw": pa.timestamp("ms", tz="Europe/Warsaw"),
             "us_naive": pa.timestamp("us"), "ns_naive": pa.timestamp("ns")}
_NUM_TYPES = {"float64": pa.float64(), "float32": pa.float32(), "int64": pa.int64(),
              "text": pa.string()}
# what a generated file looks like: its column types and which optional columns it has
_LAYOUT = st.fixed_dictionaries({
    "ts": st.sampled_from(sorted(_TS_TYPES)), "revenue": st.sampled_from(sorted(_NUM_TYPES)),
    "cost": st.sampled_from(["float64", "int64"]), "order_id": st.sampled_from(["text", "int64"]),
    "drop": st.sets(st.sampled_from(["event_id", "touchpoint", "anonymous_id", "currency",
                                     "attributes"]), max_size=2),
    "extras": st.sets(st.sampled_from(sorted(_EXTRA)), max_size=2)})
_CLEAN = {"event_id": st.sampled_from(["e1", "e2", "e3", "e4", "dup"]),
          "customer_id": st.sampled_from(["c1", "c2", None]),
          "anonymous_id": st.sampled_from(["a1", None]),
          "channel": st.sampled_from(["web", "email", "paid_search"]),
          "touchpoint": st.sampled_from([None, "cart", "newsletter"]),
          "event_type": st.sampled_from(["visit", "purchase", "click", "return"]),
          "order_id": st.sampled_from([None, "O1"]), "revenue": st.sampled_from([None, 9.5]),
          "currency": st.sampled_from([None, "PLN"]), "cost": st.sampled_from([None, 1.0]),
          "campaign": st.sampled_from([None, "spring"]), "device": st.sampled_from([None, "ios"]),
          "attributes": st.sampled_from([None, '{"store_id": "S1"}'])}
_ODD = {"event_id": _ID, "customer_id": _PERSON, "anonymous_id": _PERSON, "channel": _SNAKE,
        "touchpoint": _SNAKE, "event_type": _SNAKE, "order_id": _TEXT, "revenue": _NUM,
        "currency": _CUR, "cost": _NUM, "campaign": _TEXT, "device": _TEXT, "attributes": _ATTR}


def _row(layout: dict) -> st.SearchStrategy[dict]:
    """A clean row with up to three fields replaced by arbitrary (often bad) values."""
    ts = _TS_TEXT if layout["ts"] == "text" else _TS_NUMBER
    clean = {**_CLEAN, "occurred_at": st.sampled_from(
        ["2026-04-01T10:00:00Z"] if layout["ts"] == "text" else [1_775_000_000_000_000])}
    odd = {**_ODD, "occurred_at": ts, **{e: _EXTRA[e] for e in layout["extras"]}}
    if layout["revenue"] == "text":
        odd["revenue"] = _NUM_TEXT
    base = st.fixed_dictionaries(clean).map(lambda r: {**r, **dict.fromkeys(layout["extras"])})
    return base.flatmap(lambda row: st.lists(st.sampled_from(sorted(odd)), max_size=3,
                                             unique=True).flatmap(
        lambda names: st.fixed_dictionaries({n: odd[n] for n in names}).map(
            lambda new: {**row, **new})))


def _column(name: str, values: list, layout: dict) -> pa.Array:
    if name == "occurred_at":
        typ = _TS_TYPES[layout["ts"]]
        if typ != pa.string() and typ.unit == "ns":
            values = [None if v is None else v * 1000 + 789 for v in values]
        elif typ != pa.string() and typ.unit == "ms":
            values = [None if v is None else v // 1000 for v in values]
        return pa.array(values, typ)
    if name in ("revenue", "cost", "order_id"):
        typ = _NUM_TYPES.get(layout[name], pa.string())
        if pa.types.is_integer(typ):
            values = [None if v is None else _to_int(v) for v in values]
        elif typ == pa.string():
            values = [v if v is None or isinstance(v, str) else str(v) for v in values]
        return pa.array(values, typ)
    return pa.array(values, pa.string())


def _to_int(v: object) -> int | None:
    if isinstance(v, float):
        return int(v) if v == v and abs(v) < 1e15 else None
    return int(v) if isinstance(v, str) and v.lstrip("-").isdigit() else 7


@st.composite
def _file(draw: st.DrawFn) -> tuple[dict, list[dict], list[dict]]:
    layout = draw(_LAYOUT)
    prior = draw(st.lists(_row(layout), max_size=4))
    rows = draw(st.lists(_row(layout), min_size=1, max_size=12))
    return layout, prior, rows


def _write(path: Path, rows: list[dict], layout: dict) -> Path:
    names = [n for n in [*S.EVENTS.names, *sorted(layout["extras"])] if n not in layout["drop"]]
    pq.write_table(pa.table({n: _column(n, [r.get(n) for r in rows], layout) for n in names}),
                   path)
    return path


def _store() -> Store:
    store = Store.open_duckdb(":memory:")
    store.set_meta("pii_salt", "s")
    return store


def _dump(store: Store) -> tuple[list, list]:
    raw = store.con.con
    # TIMESTAMPTZ values as text: DuckDB's Python conversion of them needs pytz, which is not
    # a dependency (the product never fetches them as Python objects)
    cols = raw.execute("SELECT column_name, data_type FROM information_schema.columns "
                       "WHERE table_name = 'events' ORDER BY ordinal_position").fetchall()
    select = ", ".join(f'CAST("{c}" AS VARCHAR) AS "{c}"' if "TIME ZONE" in t else f'"{c}"'
                       for c, t in cols)
    events = raw.execute(f"SELECT {select} FROM events ORDER BY event_id").fetchall()
    quarantine = raw.execute("SELECT file, row_number, field, reason, raw FROM quarantine "
                             "ORDER BY file, row_number").fetchall()
    return events, quarantine


def _same_outcome(paths: list[Path], mapping: Mapping | None = None) -> tuple[Store, Store]:
    bulk, general = _store(), _store()
    for path in paths:
        assert bulk_source(bulk, path, "events", "parquet", mapping or Mapping(),
                           Settings()) is not None
        a = ingest_path(bulk, path, "events", mapping=mapping)
        b = ingest_path(general, path, "events", mapping=mapping, bulk=False)
        assert (a.rows_in, a.stored, a.quarantined, a.duplicates) == (
            b.rows_in, b.stored, b.quarantined, b.duplicates)
        assert a.rows_in == a.stored + a.quarantined + a.duplicates
    got, want = _dump(bulk), _dump(general)
    assert repr(got[0]) == repr(want[0])  # repr: -0.0 and 0.0 differ, NaN equals NaN
    assert got[1] == want[1]
    return bulk, general


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_file())
def test_bulk_path_equals_general_path(case: tuple[dict, list[dict], list[dict]]) -> None:
    layout, prior, rows = case
    with tempfile.TemporaryDirectory() as tmp:
        paths = [_write(Path(tmp) / "prior.parquet", prior, layout)] if prior else []
        main = _write(Path(tmp) / "events.parquet", rows, layout)
        _same_outcome([*paths, main, main])  # the second time: all duplicates


_BASE = {"event_id": "e1", "occurred_at": "2026-04-01T10:00:00Z", "customer_id": "c1",
         "anonymous_id": "a1", "channel": "web", "touchpoint": None, "event_type": "visit",
         "order_id": None, "revenue": None, "currency": None, "cost": None, "campaign": None,
         "device": None, "attributes": None}
_EDGES = [  # (column, value, Arrow type or None for the default) next to a clean row
    *[("event_id", v, None) for v in [" e1", "e1 ", "", None, "é1", "x\ty", "e\u00a0",
                                       "\u2003e", "g:0123456789abcdef"]],
    *[("occurred_at", v, None) for v in [
        "2026-04-01T10:00:00.5+02:00", "2026-04-01T10:00:00", "2026-02-30T10:00:00Z",
        "1989-12-31T23:59:59Z", "2100-01-01T00:30:00+01:00", "2026-04-01T24:00:00Z",
        "2026-04-01T10:00:00+14:00", "2026-04-01T10:00:00+0200", "2026-04-01 10:00:00Z",
        "2026-04-01T10:00:00z", "2026-04-01T10:00:60Z", "2026-04-01T10:00:00.1234567Z"]],
    ("occurred_at", 1_775_000_000_123_456_789, pa.timestamp("ns", tz="UTC")),
    ("occurred_at", 1_775_000_000_123_456_789, pa.timestamp("ns")),
    ("occurred_at", 1_775_000_000_123, pa.timestamp("ms", tz="Europe/Warsaw")),
    ("occurred_at", 631_151_999_999_999, pa.timestamp("us")),
    ("occurred_at", 4_102_444_800_000_000, pa.timestamp("us", tz="UTC")),
    ("occurred_at", None, pa.timestamp("us", tz="UTC")),
    *[("customer_id", v, None) for v in ["Jan.Kowalski@Example.com", "a@b", " c1", "", "c1\n",
                                          "ünï", None]],
    ("customer_id", 42, pa.int64()), ("customer_id", None, pa.int64()),
    *[("channel", v, None) for v in ["Web", "web site", "a-b", "", None, "x" * 70]],
    ("channel", "web", pa.dictionary(pa.int32(), pa.string())),
    ("channel", " Web", pa.dictionary(pa.int32(), pa.string())),
    ("channel", "web", pa.large_string()),
    *[("touchpoint", v, None) for v in ["Cart", "cart", "", "a.b"]],
    *[("event_type", v, None) for v in ["Click", "not_a_type", "page view", None]],
    *[("order_id", v, None) for v in [" O1", "", "Wiosna 2026", "ä"]],
    ("order_id", 12345678901234567, pa.int64()), ("order_id", 7.0, pa.float64()),
    *[("revenue", v, pa.float64()) for v in [float("nan"), -0.0, -3.0, float("inf"), 1e300]],
    ("revenue", 5, pa.int64()), ("revenue", "12,50", pa.string()), ("revenue", 2.5, pa.float32()),
    *[("cost", v, pa.float64()) for v in [float("nan"), -1.0, float("-inf"), 0.0]],
    *[("currency", v, None) for v in ["eur", "EURO", "", " USD", "ıab", "U$D"]],
    *[("attributes", v, None) for v in ['{"a": 1}', "{}", "[1]", "nope", ' {"b": "ü"}',
                                         '{"f": NaN}', '{"utm_source": "chatgpt.com"}', "  "]],
    *[("email", v, None) for v in ["ola@example.pl", " ", None]],
    ("utm_source", "chatgpt.com", None), ("note", "", None), ("note", 3, pa.int64()),
    ("note", None, pa.int64()), ("flag", None, pa.bool_()), ("flag", True, pa.bool_()),
]


@pytest.mark.parametrize(("column", "value", "typ"), _EDGES)
def test_edge_values_give_the_same_outcome(tmp_path: Path, column: str, value: object,
                                           typ: pa.DataType | None) -> None:
    base = dict(_BASE)
    if column == "occurred_at" and typ is not None:  # the clean rows typed alike
        base["occurred_at"] = {"ns": 1_775_000_000_000_000_000, "ms": 1_775_000_000_000}.get(
            typ.unit, 1_775_000_000_000_000)
    elif typ is not None:
        base[column] = None
    odd = {**base, "event_id": "e2", column: value}
    if column in ("revenue", "currency"):
        odd["event_type"] = "return" if value == -3.0 else "purchase"
        odd["revenue"] = value if column == "revenue" else 10.0
    rows = [base, odd, {**base, "event_id": "e3"}]
    types = {name: pa.float64() if name in ("revenue", "cost") else pa.string()
             for name in [*_BASE, column]}
    types[column] = typ or types[column]
    table = pa.table({name: pa.array([r.get(name) for r in rows], t)
                      for name, t in types.items()})
    path = tmp_path / "edge.parquet"
    pq.write_table(table, path)
    _same_outcome([path, path])


def test_clean_file_never_leaves_duckdb(tmp_path: Path) -> None:
    rows = [{"event_id": f"e{i}", "occurred_at": datetime(2026, 4, 1, i, tzinfo=UTC),
             "customer_id": "c1", "channel": "web", "event_type": "visit",
             "revenue": 5.0 if i % 2 else None, "attributes": '{"k": "v"}' if i else None}
            for i in range(10)]
    path = tmp_path / "clean.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    from touchlens.store.bulk_events import slow_rows, staged  # rows SQL takes as they are

    store = _store()
    source = bulk_source(store, path, "events", "parquet", Mapping(), Settings())
    assert source is not None
    with staged(store, source) as stage:
        assert slow_rows(store, stage) == (10, [])
    bulk, _ = _same_outcome([path])
    stored = bulk.con.con.execute("SELECT currency, attributes FROM events ORDER BY event_id"
                                  ).fetchall()
    assert stored[1] == ("PLN", '{"k": "v"}') and stored[0] == (None, None)


def test_renaming_mapping_takes_the_bulk_path(tmp_path: Path) -> None:
    path = tmp_path / "export.parquet"
    pq.write_table(pa.table({
        "id": ["e1", "e2", " e3"], "when": ["2026-04-01T10:00:00Z", "bad", "2026-04-01T11:00:00Z"],
        "who": ["c1", "c2", "c3"], "channel": ["web", "web", "Web"],
        "event_type": ["visit", "visit", "click"]}), path)
    mapping = Mapping(columns={"event_id": "id", "occurred_at": "when", "customer_id": "who"})
    bulk, _ = _same_outcome([path], mapping)
    assert bulk.count("events") == 2 and bulk.count("quarantine") == 1


@pytest.mark.parametrize("case", ["csv", "constant", "format", "kind", "missing_column",
                                  "case_clash", "glob"])
def test_other_inputs_take_the_general_path(tmp_path: Path, case: str) -> None:
    table = pa.table({"event_id": ["e1"], "occurred_at": ["2026-04-01T10:00:00Z"],
                      "customer_id": ["c1"], "channel": ["web"], "event_type": ["visit"]})
    path = tmp_path / ("ev[1].parquet" if case == "glob" else "ev.parquet")
    if case == "missing_column":
        table = table.drop_columns(["channel"])
    if case == "case_clash":
        table = table.append_column("Channel", pa.array(["web"]))
    pq.write_table(table, path)
    mapping = {"constant": Mapping(constants={"device": "ios"}),
               "format": Mapping(formats={"occurred_at": "%Y"})}.get(case, Mapping())
    kind, fmt = ("feedback" if case == "kind" else "events"), ("csv" if case == "csv" else
                                                                 "parquet")
    assert bulk_source(_store(), path, kind, fmt, mapping, Settings()) is None
