"""The ChannelAttribution path format: validation errors name the row; round trips."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchlens.attribution import PATH_COLUMNS, attribute, read_paths, write_paths
from touchlens.errors import ConfigError, SchemaError, UnreadableFileError


def frame(paths: list, conv: list, value: list | None = None, null: list | None = None
          ) -> pd.DataFrame:
    df = pd.DataFrame({"path": paths, "total_conversions": conv})
    if value is not None:
        df["total_conversion_value"] = value
    if null is not None:
        df["total_null"] = null
    return df


@pytest.mark.parametrize(("df", "message"), [
    (frame(["a > b", None], [1, 1]), "row 2: path is missing"),
    (frame(["a >  > b"], [1]), "row 1: empty step"),
    (frame(["a > ", "b"], [1, 1]), "row 1: empty step"),
    (frame(["a > b", "a>b"], [1, 1]), "row 2: step 'a>b' holds '>'"),
    (frame(["a", "b"], [1, -2]), "row 2: total_conversions is negative"),
    (frame(["a", "b"], [1, float("nan")]), "row 2: total_conversions is missing"),
    (frame(["a", "b"], [1, "many"]), "row 2: total_conversions is not a finite number"),
    (frame(["a", "b"], [1, 1], null=[0, float("inf")]), "row 2: total_null is not a finite"),
    (frame(["a", "b"], [1, 1], value=[-5, 1]), "row 1: total_conversion_value is negative"),
    (frame(["a|b", "c"], [1, 1]), "row 1: path 'a|b' does not contain the separator"),
    (pd.DataFrame({"path": ["a"]}), "lacks column(s) ['total_conversions']"),
])
@pytest.mark.parametrize("model", ["first", "markov"])  # markov: the shortcut of frame_markov
def test_bad_input_names_the_row(df: pd.DataFrame, message: str, model: str) -> None:
    with pytest.raises(SchemaError, match=message.replace("(", r"\(").replace(")", r"\)")
                       .replace("[", r"\[").replace("]", r"\]").replace("|", r"\|")):
        attribute(df, model)


def test_empty_separator_is_a_usage_error() -> None:
    with pytest.raises(ConfigError, match="separator"):
        attribute(frame(["a"], [1]), "first", sep="")


def test_conversion_without_touch_is_counted_in_none() -> None:
    result = attribute(frame(["", "a"], [2, 1], value=[30.0, 10.0]), ["first", "markov"])
    for _, g in result.groupby("model"):
        none = g[g["channel"] == "(none)"].iloc[0]
        assert none["conversions"] == 2 and none["revenue"] == 30.0
        assert g["conversions"].sum() == pytest.approx(3)


def test_other_separator_and_optional_columns() -> None:
    result = attribute(frame(["a|b", "b"], [1, 1]), "last", sep="|")
    assert dict(zip(result["channel"], result["conversions"], strict=True)) == {"b": 2, "a": 0}
    assert result["revenue"].sum() == 0


def test_read_write_round_trip(tmp_path: Path) -> None:
    df = frame(["a > b", "", "c"], [1.0, 2.0, 0.0], value=[10.0, 3.5, 0.0], null=[4, 0, 7])
    path = write_paths(df, tmp_path / "paths.csv")
    back = read_paths(path)
    assert list(back.columns) == list(PATH_COLUMNS)
    assert back["path"].tolist() == ["a > b", "", "c"]
    assert back["total_null"].tolist() == [4.0, 0.0, 7.0]


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFileError, match="no such file"):
        read_paths(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("path,total_conversions\na > b,1\nc,-1\n", encoding="utf-8")
    with pytest.raises(SchemaError, match=r"bad\.csv: row 2: total_conversions is negative"):
        read_paths(bad)


@given(st.lists(st.integers(0, 6), max_size=30))
def test_positions_count_within_each_group(lengths: list[int]) -> None:
    from touchlens.attribution.pathfile import positions

    expected = [i for n in lengths for i in range(n)]
    assert positions(np.array(lengths, dtype=np.int64)).tolist() == expected
