"""Property tests of the column parsers: never raise, bad values flagged, good values exact."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from touchlens.io import parse as P

texts = st.one_of(st.none(), st.text(max_size=30), st.floats(allow_nan=True), st.integers())


@given(st.lists(texts, max_size=30))
def test_parsers_never_raise_and_flag_only_present_values(values):
    s = pd.Series(values, dtype=object)
    for parsed, bad in (P.numbers(s), P.timestamps(s), P.integers(s, 0, 10), P.dates(s)):
        assert len(parsed) == len(bad) == len(s)
        blank = P.blank_to_none(s).isna()
        assert not (bad & blank).any(), "a missing value is not a bad value"
        assert parsed[bad].isna().all(), "a bad value never leaks through"


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_numbers_round_trip_and_decimal_comma(x):
    values, bad = P.numbers(pd.Series([repr(x), f"{x:.2f}".replace(".", ",")], dtype=object))
    assert not bad.any()
    assert values[0] == x
    assert math.isclose(values[1], round(x, 2), rel_tol=1e-12, abs_tol=1e-9)


@given(st.datetimes(min_value=datetime(1991, 1, 1), max_value=datetime(2099, 1, 1),
                    timezones=st.just(UTC)))
def test_iso_timestamps_round_trip_to_utc(ts):
    ts = ts.replace(microsecond=ts.microsecond)  # stored in microseconds
    shifted = ts.astimezone(__import__("datetime").timezone(timedelta(hours=2)))
    values, bad = P.timestamps(pd.Series([ts.isoformat(), shifted.isoformat()], dtype=object))
    assert not bad.any()
    assert values[0] == pd.Timestamp(ts) == values[1]


def test_naive_timestamps_take_the_mapping_zone_and_format():
    s = pd.Series(["01.07.2026 12:00", "31.12.2026 23:30", "2026-07-01"], dtype=object)
    values, bad = P.timestamps(s, "%d.%m.%Y %H:%M", "Europe/Warsaw")
    assert values[0] == pd.Timestamp("2026-07-01 10:00", tz="UTC")  # CEST = UTC+2
    assert values[1] == pd.Timestamp("2026-12-31 22:30", tz="UTC")  # CET = UTC+1
    assert list(bad) == [False, False, True]


def test_timestamps_out_of_range_are_bad():
    values, bad = P.timestamps(pd.Series(["1970-01-01T00:00:00Z", "2150-01-01"], dtype=object))
    assert bad.all() and values.isna().all()


@given(st.integers(-5, 15))
def test_integers_enforce_range(n):
    values, bad = P.integers(pd.Series([str(n)], dtype=object), 0, 10)
    assert bool(bad[0]) == (not 0 <= n <= 10)
    if 0 <= n <= 10:
        assert values[0] == n


def test_integers_reject_fractions():
    _, bad = P.integers(pd.Series(["7.5", "7.0", "7"], dtype=object), 0, 10)
    assert list(bad) == [True, False, False]
