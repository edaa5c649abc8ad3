"""The integer-arithmetic UTC helpers equal the calendar functions they replace, on both
engines, before and after 1970 and at unit boundaries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.store.timestamps import (
    epoch_micros,
    epoch_seconds,
    utc_floor,
    utc_hour,
    utc_weekday,
)

EDGES = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(1969, 12, 31, 0, 0, tzinfo=UTC),
    datetime(1960, 2, 29, 13, 30, 15, 5, tzinfo=UTC),
    datetime(2024, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # a DST night in Europe: UTC has none
    datetime(2026, 12, 7, 0, 0, 0, 1, tzinfo=UTC),
]


def _table(stamps: list[datetime]) -> pa.Table:
    return pa.table({"i": list(range(len(stamps))),
                     "ts": pa.array(stamps, pa.timestamp("us", tz="UTC"))})


def _stored(ws, stamps: list[datetime]):
    ws.store.replace("ts_probe", _table(stamps))  # a stored table: the query runs on ws
    return ws.store.table("ts_probe")


def _check(ws, stamps: list[datetime]) -> None:
    t = _stored(ws, stamps)
    expr = t.select(
        "i", "ts",
        us=epoch_micros(t.ts), secs=epoch_seconds(t.ts),
        day=utc_floor(t.ts, "D"), hour=utc_floor(t.ts, "h"), minute=utc_floor(t.ts, "m"),
        second=utc_floor(t.ts, "s"), weekday=utc_weekday(t.ts), hod=utc_hour(t.ts),
    ).order_by("i")
    got = ws.store.execute(expr)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for row, ts in zip(got.itertuples(), stamps, strict=True):
        micros = (ts - epoch) // timedelta(microseconds=1)
        assert row.us == micros
        assert row.secs == pytest.approx(micros / 1e6, abs=1e-6)
        assert row.day == ts.replace(hour=0, minute=0, second=0, microsecond=0)
        assert row.hour == ts.replace(minute=0, second=0, microsecond=0)
        assert row.minute == ts.replace(second=0, microsecond=0)
        assert row.second == ts.replace(microsecond=0)
        assert row.weekday == ts.weekday()
        assert row.hod == ts.hour


def test_helpers_equal_the_calendar_on_edge_cases(make_workspace):
    _check(make_workspace(), EDGES)


def test_utc_floor_equals_duckdb_date_trunc(tmp_path):
    """The fast form gives exactly what Ibis's truncate gives in a UTC DuckDB session."""
    from touchlens import Workspace

    with Workspace.open(tmp_path / "w.duckdb") as ws:
        t = _stored(ws, EDGES)
        fast = ws.store.execute(t.select("i", d=utc_floor(t.ts, "D"), h=utc_floor(t.ts, "h"))
                                .order_by("i"))
        slow = ws.store.execute(t.select("i", d=t.ts.truncate("D"), h=t.ts.truncate("h"))
                                .order_by("i"))
        for col in ("d", "h"):  # Ibis's truncate comes back without a zone; the values agree
            stamps = pd.to_datetime(slow[col])
            slow[col] = stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps
            assert fast[col].tolist() == slow[col].tolist()


def test_unknown_unit_is_refused():
    import ibis

    t = ibis.table({"ts": "timestamp('UTC')"}, name="t")
    with pytest.raises(ValueError, match="unit must be one of"):
        utc_floor(t.ts, "W")


_STAMPS = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2199, 12, 31),
                       timezones=st.just(UTC))


@settings(max_examples=25, deadline=None)
@given(st.lists(_STAMPS, min_size=1, max_size=30))
def test_helpers_equal_python_on_random_stamps(tmp_path_factory, stamps):
    from touchlens import Workspace

    with Workspace.open(tmp_path_factory.mktemp("ts") / "w.duckdb") as ws:
        _check(ws, stamps)
