"""The events fast path gives exactly what the full validators give (validate_fast)."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchlens.io.mapping import Mapping
from touchlens.io.readers import arrow_to_frame
from touchlens.io.validate import check
from touchlens.io.validate_fast import split_events
from touchlens.store import schema as S

_TEXT = st.one_of(
    st.none(), st.sampled_from(["a1", "C00042", "x y", " padded ", "", "ünï", "a@b.co",
                                "tab\t", "A-B", "web", "Web Site", "ok_1"]),
    st.text(max_size=8))
_TS = st.one_of(
    st.none(), st.sampled_from([
        "2026-04-01T10:00:00+00:00", "2026-04-01T10:00:00Z", "2026-04-01T10:00:00.5+02:00",
        "2026-04-01T10:00:00.123456-05:30", "2026-04-01T10:00:00", "2026-02-30T10:00:00Z",
        "1989-12-31T23:59:59Z", "2099-12-31T23:59:59+00:00", "2100-01-01T00:30:00+01:00",
        "2026-04-01 10:00:00+00:00", "not a date", "2026-04-01T24:00:00Z",
        "2026-04-01T10:00:00+0200", "2026-04-01T10:00:00z", " 2026-04-01T10:00:00Z"]),
    st.text(max_size=6))
_SNAKE = st.one_of(st.none(), st.sampled_from(
    ["email", "web", "paid_search", "Web", "web site", "a-b", "", " web", "click", "Click",
     "not_a_type", "purchase", "return", "page_view", "x" * 70]))
_NUM = st.one_of(st.none(), st.sampled_from([0.0, -0.0, 12.5, -3.0, 1e300]),
                 st.floats(allow_nan=True, allow_infinity=True))
_CUR = st.one_of(st.none(), st.sampled_from(["EUR", "eur", "PLN", "EURO", "", " USD"]))
_ATTR = st.one_of(st.none(), st.sampled_from(['{"a": 1}', "{}", "[1]", "nope", ' {"b": "ü"}',
                                             '{"n": {"x": [1, 2]}}', '{"f": NaN}']))


_ODD = {"event_id": _TEXT, "occurred_at": _TS, "customer_id": _TEXT, "anonymous_id": _TEXT,
        "channel": _SNAKE, "touchpoint": _SNAKE, "event_type": _SNAKE, "order_id": _TEXT,
        "revenue": _NUM, "currency": _CUR, "cost": _NUM, "campaign": _TEXT, "device": _TEXT,
        "attributes": _ATTR}
_CANONICAL = {
    "event_id": st.sampled_from(["e1", "e2", "dup"]),
    "occurred_at": st.sampled_from(["2026-04-01T10:00:00Z", "2026-04-01T10:00:00.25+02:00"]),
    "customer_id": st.sampled_from(["C1", "C2"]), "anonymous_id": st.sampled_from([None, "a"]),
    "channel": st.sampled_from(["web", "paid_search"]),
    "touchpoint": st.sampled_from([None, "cart"]),
    "event_type": st.sampled_from(["click", "purchase", "return", "not_a_type"]),
    "order_id": st.sampled_from([None, "O1"]), "revenue": st.sampled_from([None, 0.0, 9.99]),
    "currency": st.sampled_from([None, "PLN"]), "cost": st.sampled_from([None, 1.5]),
    "campaign": st.none(), "device": st.sampled_from([None, "ios"]),
    "attributes": st.sampled_from([None, '{"a": 1}', "{}"])}


def _row(i: int) -> st.SearchStrategy[dict]:
    """A canonical row with up to two fields replaced by arbitrary (often odd) values."""
    return st.fixed_dictionaries(_CANONICAL).flatmap(lambda row: st.lists(
        st.sampled_from(sorted(_ODD)), max_size=2, unique=True).flatmap(
        lambda names: st.fixed_dictionaries({n: _ODD[n] for n in names}).map(
            lambda odd: {**row, **odd})))


def _frame(rows: list[dict]) -> pd.DataFrame:
    cols = {}
    for name in S.EVENTS.names:
        typ = pa.float64() if name in ("revenue", "cost") else pa.string()
        cols[name] = pa.array([r[name] for r in rows], typ)
    return arrow_to_frame(pa.table(cols))


def _same(rows: list[dict]) -> None:
    frame = _frame(rows)
    kw = {"file": "api:events", "salt": "s", "currency": "EUR", "mapping": Mapping()}
    fast, full = check("events", frame, **kw), check("events", frame, fast=False, **kw)
    assert fast.good.equals(full.good), (fast.good.to_pylist(), full.good.to_pylist())
    assert fast.problems.reset_index(drop=True).astype(object).equals(
        full.problems.reset_index(drop=True).astype(object))
    assert fast.ignored_columns == full.ignored_columns


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(*(_row(i) for i in range(n)))))
def test_fast_path_equals_full_validators(rows: tuple[dict, ...]) -> None:
    _same(list(rows))


def test_canonical_batch_takes_the_fast_path_entirely() -> None:
    rows = [{"event_id": f"e{i}", "occurred_at": "2026-04-01T10:00:00Z", "customer_id": "C1",
             "anonymous_id": None, "channel": "web", "touchpoint": None,
             "event_type": "page_view" if i % 3 else "not_a_type", "order_id": None,
             "revenue": 10.0 if i == 2 else None, "currency": None, "cost": None,
             "campaign": None, "device": None, "attributes": '{"k": "v"}'} for i in range(9)]
    split = split_events(_frame(rows), "EUR", Mapping())
    assert split is not None and not split.slow_positions
    assert len(split.problems) == 3 and split.good.num_rows == 6
    _same(rows)
    good = split.good.to_pylist()
    assert good[1]["currency"] == "EUR" and good[0]["touchpoint"] == "web"
    assert json.loads(good[0]["attributes"]) == {"k": "v"}


def test_unusual_frames_use_the_full_path() -> None:
    rows = [{"event_id": "e", "occurred_at": "2026-04-01T10:00:00Z", "customer_id": "C1",
             "channel": "web", "event_type": "click"}]
    frame = pd.DataFrame(rows).assign(_row_number=[1])
    assert split_events(frame.assign(email=["a@b.co"]), "EUR", Mapping()) is None
    assert split_events(frame.assign(utm_source=["x"]), "EUR", Mapping()) is None
    custom = Mapping(formats={"occurred_at": "%d.%m.%Y"})
    assert split_events(frame, "EUR", custom) is None
    assert split_events(frame, "EUR", Mapping()) is not None
