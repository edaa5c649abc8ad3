"""Rule models on a table of distinct paths skip the merge by path string (``frame_rules``):
the same credits as the general route."""

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
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12, atol=1e-9)


def test_attribute_takes_the_route_for_distinct_paths_only() -> None:
    df = path_table(400, 2, spacing=False)
    distinct = df.groupby("path", as_index=False).sum()
    assert applies(["first", "linear"], {}, distinct["path"])
    assert not applies(["first", "linear"], {}, pd.concat([df] * 3)["path"])  # merge pays
    assert not applies(["first", "markov"], {}, distinct["path"])
    assert not applies("first", {"bootstrap": 10}, distinct["path"])
    pd.testing.assert_frame_equal(
        attribute(distinct, ["first", "linear"]),
        engine.attribute(from_path_frame(distinct), ["first", "linear"]),
        check_exact=False, rtol=1e-12, atol=1e-9)


def test_bad_rows_are_named_as_the_general_route_names_them() -> None:
    df = path_table(30, 5, spacing=False).groupby("path", as_index=False).sum()
    df.loc[3, "total_conversions"] = float("nan")
    with pytest.raises(SchemaError) as fast:
        attribute(df, ["first"])
    with pytest.raises(SchemaError) as slow:
        engine.attribute(from_path_frame(df), ["first"])
    assert str(fast.value) == str(slow.value)
