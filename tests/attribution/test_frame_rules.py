"""Rule models on a path DataFrame build the converting rows' steps alone, unmerged
(``frame_rules``): the same credits as the general route."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.attribution import attribute, engine, from_path_frame
from touchlens.attribution.frame_rules import applies, rows_source
from touchlens.errors import SchemaError

from .test_frame_markov import path_table

RULE_SETS = [["first", "last", "linear"], ["last_non_direct", "participation", "position"],
             ["j_curve", "inverse_j", "w_shaped"]]


def _same_credits(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    """Equal rows up to float summation order: labels with equal credit may be listed in
    either order (their sums differ in the last bits), so rows are compared by label."""
    def by_label(df: pd.DataFrame) -> pd.DataFrame:
        return df.sort_values(["model", "channel"], ignore_index=True)

    pd.testing.assert_frame_equal(by_label(fast), by_label(slow), check_exact=False,
                                  rtol=1e-12, atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), sep=st.sampled_from([" > ", ">", "|"]),
       rules=st.sampled_from(RULE_SETS), exclude=st.sampled_from([None, "direct", "email"]),
       fractional=st.booleans())
def test_rows_give_the_general_routes_credits(seed: int, sep: str, rules: list[str],
                                              exclude: str | None, fractional: bool) -> None:
    """Repeated paths and spacing variants included: rule credits are linear in rows."""
    df = path_table(150, seed, sep, fractional=fractional)
    fast = engine.attribute(rows_source(df, sep=sep, level="channel", exclude=exclude), rules)
    slow = engine.attribute(from_path_frame(df, sep=sep, exclude=exclude), rules)
    _same_credits(fast, slow)


def test_attribute_takes_the_route_for_rule_models_only() -> None:
    df = pd.concat([path_table(400, 2, spacing=False)] * 3)  # repeated rows, unmerged
    assert applies(["first", "linear"], {})
    assert not applies(["first", "markov"], {})
    assert not applies("first", {"bootstrap": 10})
    assert not applies("first", {"no_such_option": 1})
    _same_credits(attribute(df, ["first", "linear"]),
                  engine.attribute(from_path_frame(df), ["first", "linear"]))


def test_only_converting_rows_become_steps_and_none_keeps_its_credit() -> None:
    df = pd.DataFrame({"path": ["a > b", "b > c > a", "", "c", ""],
                       "total_conversions": [1.0, 0.0, 2.0, 0.0, 0.0],
                       "total_conversion_value": [10.0, 5.0, 4.0, 0.0, 0.0],
                       "total_null": [3.0, 1.0, 0.0, 7.0, 2.0]})
    source = rows_source(df, sep=" > ", level="channel", exclude=None)
    steps = source.execute(source.touches.order_by(["path_key", "step"]))
    assert steps["label"].tolist() == ["a", "b", "b", "c", "a"]  # rows 1 and 2 (revenue)
    got = attribute(df, ["first", "linear"]).set_index(["model", "channel"])
    assert got.loc[("first", "(none)"), "conversions"] == 2.0
    assert got.loc[("first", "b"), "revenue"] == 5.0  # revenue without a conversion counts
    assert got.loc[("linear", "a"), "revenue"] == pytest.approx(5.0 + 5.0 / 3)
    _same_credits(attribute(df, ["first", "linear"]),
                  engine.attribute(from_path_frame(df), ["first", "linear"]))


@pytest.mark.parametrize("column, bad", [("total_conversions", float("nan")),
                                          ("total_null", -1.0), ("path", "a >  > b")])
def test_bad_rows_are_named_as_the_general_route_names_them(column: str, bad) -> None:
    """Non-converting rows too: every row is validated, though only converting ones count."""
    df = path_table(30, 5, spacing=False).groupby("path", as_index=False).sum()
    df["total_conversions"] = 0.0
    df["total_conversion_value"] = 0.0
    df.loc[3, column] = bad
    with pytest.raises(SchemaError) as fast:
        attribute(df, ["first"])
    with pytest.raises(SchemaError) as slow:
        engine.attribute(from_path_frame(df), ["first"])
    assert str(fast.value) == str(slow.value)
    assert "row 4" in str(fast.value)
