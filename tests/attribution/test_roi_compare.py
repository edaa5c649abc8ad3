"""ROI view (bounded, budget-neutral suggestion) and the model comparison table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.attribution import compare
from touchlens.attribution.roi import combine_spend, reallocate, roi_table
from touchlens.errors import ConfigError


def test_roi_columns_and_ratios() -> None:
    credit = pd.DataFrame({"channel": ["a", "b", "(none)", "c"],
                           "conversions": [10.0, 5.0, 2.0, 1.0],
                           "revenue": [1000.0, 200.0, 50.0, 10.0]})
    spend = pd.Series({"a": 100.0, "b": 100.0, "d": 50.0})
    out = roi_table(credit, spend, "channel", max_change=0.2).set_index("channel")
    assert "(none)" not in out.index
    assert out.loc["a", "cpa"] == pytest.approx(10.0)
    assert out.loc["a", "roas"] == pytest.approx(10.0)
    assert np.isnan(out.loc["c", "roas"])  # no spend
    assert out.loc["d", "roas"] == 0.0  # spend without credit
    assert out["suggested_spend"].sum() == pytest.approx(250.0)
    assert out.loc["a", "suggested_change_pct"] == pytest.approx(0.2)
    # portfolio ROAS 4.8: a is capped at +20 %; b and d (both below) share the rest equally
    assert out.loc["d", "suggested_change_pct"] == pytest.approx(-2 / 15)
    assert out.loc["b", "suggested_change_pct"] == pytest.approx(-2 / 15)
    assert np.isnan(out.loc["c", "suggested_spend"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0.01, 1e4), st.floats(0, 50)), min_size=1, max_size=8),
       st.floats(0.05, 0.9))
def test_reallocation_is_budget_neutral_and_bounded(rows: list, max_change: float) -> None:
    spend = np.array([s for s, _ in rows])
    roas = np.array([r for _, r in rows])
    new = reallocate(spend, roas, max_change)
    assert new.sum() == pytest.approx(spend.sum(), rel=1e-6)
    assert np.all(new >= spend * (1 - max_change) - 1e-6)
    assert np.all(new <= spend * (1 + max_change) + 1e-6)
    hi, lo = np.argmax(roas), np.argmin(roas)
    assert new[hi] / spend[hi] >= new[lo] / spend[lo] - 1e-9  # money moves towards ROAS


def test_costs_table_wins_over_event_cost() -> None:
    table = pd.DataFrame({"label": ["a", None], "spend": [10.0, 3.0]})
    event = pd.DataFrame({"label": ["a", "b"], "spend": [99.0, 4.0]})
    assert combine_spend(table, event).to_dict() == {"a": 10.0, "b": 4.0}


def test_bad_max_change() -> None:
    with pytest.raises(ConfigError, match="max_change"):
        roi_table(pd.DataFrame({"channel": ["a"], "conversions": [1.0], "revenue": [1.0]}),
                  pd.Series({"a": 1.0}), "channel", max_change=1.5)


def test_compare_spread() -> None:
    result = pd.DataFrame({
        "model": ["first", "first", "last", "last", "last"],
        "channel": ["a", "b", "a", "b", "(none)"],
        "share": [0.7, 0.3, 0.2, 0.6, 0.2],
    })
    table = compare(result).set_index("channel")
    assert list(table.columns) == ["first", "last", "min_share", "max_share", "spread"]
    assert table.loc["a", "spread"] == pytest.approx(0.5)
    assert table.loc["b", "spread"] == pytest.approx(0.3)
    assert np.isnan(table.loc["(none)", "spread"])
    assert table.index[-1] == "(none)"


def test_an_empty_workspace_gives_empty_frames_not_errors(tmp_path):
    from touchlens import Workspace

    with Workspace.open(tmp_path / "empty.duckdb") as ws:
        assert ws.attribution(["last", "markov"]).empty
        compared = ws.attribution_compare(["last", "markov"])
        assert compared.empty and {"channel", "min_share", "spread"} <= set(compared.columns)
        assert ws.attribution_roi("markov").empty
