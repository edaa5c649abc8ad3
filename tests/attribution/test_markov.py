"""Markov chain: the exact solve against brute-force walks and the classic worked example."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from touchlens.attribution import from_path_frame, markov
from touchlens.attribution.markov import CONV, NULL, START, solve, transitions_expr


def test_classic_worked_example() -> None:
    """Three journeys: c1>c2>c3 converts, c1 and c2>c3 do not (the widely used example).

    P(conv) = (2/3·1/2 + 1/3)·1/2 = 1/3; removing c1 leaves 1/6 (effect 0.5), removing c2
    or c3 leaves 0 (effect 1): shares 0.2 / 0.4 / 0.4.
    """
    paths = pd.DataFrame({"path": ["c1 > c2 > c3", "c1", "c2 > c3"],
                          "total_conversions": [1, 0, 0], "total_null": [0, 1, 1]})
    result = markov(paths)
    notes = result.attrs["notes"]["markov"]
    assert notes["p_conversion"] == pytest.approx(1 / 3)
    assert notes["removal_effects"] == pytest.approx({"c1": 0.5, "c2": 1.0, "c3": 1.0})
    shares = dict(zip(result["channel"], result["share"], strict=True))
    assert shares == pytest.approx({"c1": 0.2, "c2": 0.4, "c3": 0.4})


def walk_probability(trans: pd.DataFrame, removed: set[str], max_depth: int = 60) -> float:
    """P(conversion) by enumerating every walk from (start) (depth-first, pruned at 1e-13)."""
    out: dict[str, dict[str, float]] = {}
    for row in trans.itertuples():
        out.setdefault(row.from_state, {})[row.to_state] = (
            out.get(row.from_state, {}).get(row.to_state, 0.0) + row.n)
    for s, d in out.items():
        total = sum(d.values())
        out[s] = {t: n / total for t, n in d.items()}

    def go(state: str, p: float, depth: int) -> float:
        if state == CONV:
            return p
        if state == NULL or state in removed or p < 1e-13 or depth > max_depth:
            return 0.0
        return sum(go(t, p * q, depth + 1) for t, q in out[state].items())

    return go(START, 1.0, 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exact_solve_equals_brute_force_enumeration(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = ["a", "b", "c"]
    paths = [" > ".join(rng.choice(labels, size=rng.integers(1, 5))) for _ in range(12)]
    df = pd.DataFrame({"path": paths, "total_conversions": rng.integers(0, 4, 12),
                       "total_null": rng.integers(0, 4, 12)})
    df.loc[0, "total_conversions"] = 3  # at least one conversion
    source = from_path_frame(df)
    trans = source.execute(transitions_expr(source))
    sol = solve(trans)
    p = walk_probability(trans, set())
    assert sol.p_conversion == pytest.approx(p, abs=1e-9)
    for label, effect in zip(sol.labels, sol.removal_effect, strict=True):
        assert effect == pytest.approx(1 - walk_probability(trans, {label}) / p, abs=1e-9)


def test_transition_counts_match_a_direct_count() -> None:
    df = pd.DataFrame({"path": ["a > b > a", "b", "", "a > a"],
                       "total_conversions": [2, 0, 1, 1], "total_null": [1, 3, 2, 0],
                       "total_conversion_value": [20.0, 0.0, 5.0, 7.0]})
    source = from_path_frame(df)
    got = source.execute(transitions_expr(source)).set_index(["from_state", "to_state"])
    expected = {  # journeys per transition, by hand
        (START, "a"): 4, ("a", "b"): 3, ("b", "a"): 3, ("a", CONV): 3, ("a", NULL): 1,
        (START, "b"): 3, ("b", NULL): 3, (START, CONV): 1, (START, NULL): 2, ("a", "a"): 1,
    }
    assert got["n"].to_dict() == pytest.approx(expected)
    assert got.loc[("a", CONV), "value"] == pytest.approx(27.0)


def test_higher_order_states_and_credit_sum() -> None:
    df = pd.DataFrame({"path": ["a > b > c", "b > c", "a > c", "c"],
                       "total_conversions": [4, 1, 2, 0], "total_null": [1, 3, 2, 5],
                       "total_conversion_value": [40.0, 10.0, 20.0, 0.0]})
    for order in (1, 2, 3):
        result = markov(df, order=order)
        assert result["conversions"].sum() == pytest.approx(7)
        assert result["revenue"].sum() == pytest.approx(70.0)
        assert result.attrs["notes"]["markov"]["order"] == order
    assert markov(df, order=2).attrs["notes"]["markov"]["states"] > markov(df).attrs[
        "notes"]["markov"]["states"]


def test_bootstrap_interval_brackets_the_estimate() -> None:
    rng = np.random.default_rng(5)
    paths = [" > ".join(rng.choice(["a", "b", "c"], size=rng.integers(1, 4)))
             for _ in range(40)]
    df = pd.DataFrame({"path": paths, "total_conversions": rng.integers(0, 30, 40),
                       "total_null": rng.integers(0, 60, 40)})
    result = markov(df, bootstrap=50, seed=3)
    assert (result["ci_low"] <= result["conversions"] + 1e-9).all()
    assert (result["conversions"] <= result["ci_high"] + 1e-9).all()
    assert (result["ci_high"] > result["ci_low"]).all()
    again = markov(df, bootstrap=50, seed=3)
    pd.testing.assert_frame_equal(result, again)
