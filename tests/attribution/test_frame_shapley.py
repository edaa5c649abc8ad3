"""The Shapley model on a path DataFrame takes a shortcut (``frame_shapley``: label sets as
bitmasks in numpy): the same credits, bootstrap samples and notes as the long way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.attribution import attribute, engine, from_path_frame
from touchlens.attribution.frame_shapley import applies, shapley_of_frame
from touchlens.errors import SchemaError

from .test_frame_markov import path_table


def long_way(df: pd.DataFrame, sep: str = " > ", exclude: str | None = None,
             **kwargs: object) -> pd.DataFrame:
    return engine.attribute(from_path_frame(df, sep=sep, exclude=exclude), "shapley",
                            **kwargs)


def assert_same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(fast.drop(columns=["ci_low", "ci_high"]),
                                  slow.drop(columns=["ci_low", "ci_high"]),
                                  check_exact=False, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(fast[["ci_low", "ci_high"]].to_numpy(float),
                               slow[["ci_low", "ci_high"]].to_numpy(float), rtol=1e-9,
                               atol=1e-9)
    assert fast.attrs["notes"]["shapley"].keys() == slow.attrs["notes"]["shapley"].keys()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), sep=st.sampled_from([" > ", ">", "|"]),
       value=st.sampled_from([None, "conversions", "rate"]),
       exclude=st.sampled_from([None, "direct", "email,social"]),
       fractional=st.booleans())
def test_the_shortcut_equals_the_long_way(seed: int, sep: str, value: str | None,
                                          exclude: str | None, fractional: bool) -> None:
    df = path_table(200, seed, sep, fractional=fractional)
    options = {} if value is None else {"shapley_value": value}
    assert applies("shapley", options)
    fast = shapley_of_frame(df, sep=sep, level="channel", exclude=exclude, **options)
    assert fast is not None  # the shortcut itself, not the long way behind attribute
    assert_same(fast, long_way(df, sep=sep, exclude=exclude, **options))
    assert_same(attribute(df, "shapley", sep=sep, exclude=exclude, **options), fast)


@pytest.mark.parametrize("value", ["conversions", "rate"])
def test_bootstrap_replicates_are_the_same(value: str) -> None:
    df = path_table(300, 4)
    fast = attribute(df, "shapley", shapley_value=value, bootstrap=30, seed=3)
    assert fast["ci_low"].notna().any()
    assert_same(fast, long_way(df, shapley_value=value, bootstrap=30, seed=3))


def test_other_models_and_bad_options_take_the_long_way() -> None:
    assert not applies(["shapley", "markov"], {})
    assert not applies("shapley", {"shapley_value": "nonsense"})
    assert not applies("shapley", {"bootstrap": -1})
    assert not applies("shapley", {"unknown_option": 1})


def test_bad_rows_are_named_as_the_long_way_names_them() -> None:
    df = path_table(20, 1)
    df.loc[7, "total_null"] = -1
    with pytest.raises(SchemaError) as fast:
        shapley_of_frame(df, sep=" > ", level="channel", exclude=None)
    with pytest.raises(SchemaError) as slow:
        long_way(df)
    assert str(fast.value) == str(slow.value)


def test_only_paths_without_touch_give_the_none_bucket() -> None:
    df = pd.DataFrame({"path": ["", "", "a > b"], "total_conversions": [2.0, 1.0, 1.0],
                       "total_conversion_value": [20.0, 5.0, 7.0], "total_null": [1.0, 0, 3]})
    fast = attribute(df, "shapley")
    assert_same(fast, long_way(df))
    assert fast.loc[fast.channel == "(none)", "conversions"].item() == 3.0
