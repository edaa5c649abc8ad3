"""Formatting of results: plain JSON/CSV values and human table cells."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchlens.cli.output import (
    MISSING,
    fmt_int,
    fmt_money,
    fmt_pct,
    plain,
    records,
    score_with_n,
    single_currency,
    write_csv,
    write_json,
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": ["a", None],
            "rate": [0.25, np.nan],
            "n": pd.array([3, None], dtype="Int64"),
            "at": pd.to_datetime(["2024-03-01 12:30:00+01:00", None], utc=True),
            "ok": [True, False],
        }
    )


def test_records_are_plain_and_keep_the_documented_order() -> None:
    rows = records(_frame(), ["at", "name", "rate", "n", "ok"])
    assert list(rows[0]) == ["at", "name", "rate", "n", "ok"]
    assert rows[0] == {"at": "2024-03-01T11:30:00Z", "name": "a", "rate": 0.25, "n": 3, "ok": True}
    assert rows[1] == {"at": None, "name": None, "rate": None, "n": None, "ok": False}


def test_records_name_a_missing_column() -> None:
    with pytest.raises(KeyError, match="missing_col"):
        records(_frame(), ["name", "missing_col"])


def test_json_output_is_strict_json(capsys: pytest.CaptureFixture[str]) -> None:
    write_json(records(_frame(), ["name", "rate", "at"]))
    out = capsys.readouterr().out
    assert "NaN" not in out
    assert json.loads(out)[1] == {"name": None, "rate": None, "at": None}


def test_csv_output_has_header_and_empty_nulls(capsys: pytest.CaptureFixture[str]) -> None:
    columns = ["name", "rate", "ok"]
    write_csv(records(_frame(), columns), columns)
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows == [columns, ["a", "0.25", "true"], ["", "", "false"]]


def test_naive_timestamps_are_taken_as_utc() -> None:
    assert plain(datetime(2024, 1, 2, 3, 4, 5)) == "2024-01-02T03:04:05Z"
    assert plain(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)) == "2024-01-02T03:04:05Z"


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_plain_floats_are_json_safe(x: float) -> None:
    value = plain(np.float64(x))
    json.dumps(value, allow_nan=False)
    assert value is None or value == x


def test_human_formats() -> None:
    assert fmt_pct(0.12345) == "12.3%"
    assert fmt_pct(float("nan")) == MISSING
    assert fmt_money("PLN")(1234567.891) == "1,234,567.89 PLN"
    assert fmt_money(None)(None) == MISSING
    assert fmt_int(np.int64(12345)) == "12,345"


def test_scores_flag_small_n() -> None:
    assert score_with_n(0.8, 12, fmt_pct).plain == "80.0% (12)*"
    assert score_with_n(0.8, 120, fmt_pct).plain == "80.0% (120)"
    assert score_with_n(float("nan"), 0, fmt_pct).plain == MISSING


def test_a_currency_is_shown_only_when_the_data_holds_one() -> None:
    assert single_currency(["PLN", None, "PLN", float("nan")]) == "PLN"
    assert single_currency(["PLN", "EUR"]) is None
    assert single_currency([None]) is None
