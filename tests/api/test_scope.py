"""Period strings and scopes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchlens import ConfigError
from touchlens.api.scope import Scope, make_scope, period_bounds

LATEST = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)


def d(y: int, m: int, day: int) -> datetime:
    return datetime(y, m, day, tzinfo=UTC)


@pytest.mark.parametrize("text, start, end", [
    ("all", None, None),
    ("2026", d(2026, 1, 1), d(2027, 1, 1)),
    ("2026Q1", d(2026, 1, 1), d(2026, 4, 1)),
    ("2026q4", d(2026, 10, 1), d(2027, 1, 1)),
    ("2026-02", d(2026, 2, 1), d(2026, 3, 1)),
    ("2026-12", d(2026, 12, 1), d(2027, 1, 1)),
    ("last7d", d(2026, 2, 23), d(2026, 3, 2)),
])
def test_period_bounds(text: str, start, end) -> None:
    assert period_bounds(text, LATEST) == (start, end)


@pytest.mark.parametrize("text", ["Q1", "2026-13", "last0d", "yesterday", "2026Q5"])
def test_bad_periods_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        period_bounds(text, LATEST)


def test_explicit_days_win_and_end_is_inclusive() -> None:
    s = make_scope(period="2026", start=date(2026, 2, 1), end=date(2026, 2, 28), channel=" Email ")
    assert s == Scope(d(2026, 2, 1), d(2026, 3, 1), "email")
    assert s.label() == "2026-02-01 – 2026-02-28 · email"
    with pytest.raises(ConfigError, match="ends before"):
        make_scope(start=date(2026, 3, 1), end=date(2026, 2, 1))


@given(days=st.integers(1, 400), start=st.dates(date(2000, 1, 1), date(2090, 1, 1)))
def test_previous_window_has_the_same_length_and_touches(days: int, start: date) -> None:
    s = make_scope(start=start, end=date.fromordinal(start.toordinal() + days - 1))
    prev = s.previous()
    assert prev is not None and prev.end == s.start
    assert prev.end - prev.start == s.end - s.start
    assert Scope().previous() is None


def test_days_outside_1900_2199_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="start must be a day in 1900-2199"):
        make_scope(start=date(782, 8, 25), end=date(2026, 1, 1))
    assert make_scope(start=date(1900, 1, 1), end=date(2199, 12, 31)).start is not None
