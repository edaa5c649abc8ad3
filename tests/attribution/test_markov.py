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


def chain(trans: pd.DataFrame) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for row in trans.itertuples():
        d = out.setdefault(row.from_state, {})
        d[row.to_state] = d.get(row.to_state, 0.0) + row.n
    return {s: {t: n / sum(d.values()) for t, n in d.items()} for s, d in out.items()}


def enumerate_walks(trans: pd.DataFrame, removed: set[str]) -> float:
    """P(conversion) as the sum over every walk (start → … → conversion) of its probability;
    finite because the test chains are acyclic."""
    p = chain(trans)

    def go(state: str) -> float:
        if state == CONV:
            return 1.0
        if state == NULL or state in removed:
            return 0.0
        return sum(q * go(t) for t, q in p[state].items())

    return go(START)


def by_walk_length(trans: pd.DataFrame, removed: set[str], steps: int = 2000) -> float:
    """P(conversion) = Σ_t P(absorbed into conversion at step t), propagating the walk's
    state distribution one step at a time (works with cycles)."""
    p = chain(trans)
    mass, total = {START: 1.0}, 0.0
    for _ in range(steps):
        nxt: dict[str, float] = {}
        for s, m in mass.items():
            for t, q in p[s].items():
                if t == CONV:
                    total += m * q
                elif t != NULL and t not in removed:
                    nxt[t] = nxt.get(t, 0.0) + m * q
        mass = nxt
        if sum(mass.values()) < 1e-15:
            break
    return total


def random_paths(seed: int, acyclic: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = ["a", "b", "c", "d"]
    paths = []
    for _ in range(15):
        steps = rng.choice(labels, size=rng.integers(1, 5), replace=not acyclic)
        paths.append(" > ".join(sorted(steps) if acyclic else steps))
    df = pd.DataFrame({"path": paths, "total_conversions": rng.integers(0, 4, 15),
                       "total_null": rng.integers(0, 4, 15)})
    df.loc[0, "total_conversions"] = 3  # at least one conversion
    return df


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("acyclic", [True, False])
def test_exact_solve_equals_brute_force(seed: int, acyclic: bool) -> None:
    source = from_path_frame(random_paths(seed, acyclic))
    trans = source.execute(transitions_expr(source))
    brute = enumerate_walks if acyclic else by_walk_length
    sol = solve(trans)
    p = brute(trans, set())
    assert sol.p_conversion == pytest.approx(p, abs=1e-9)
    for label, effect in zip(sol.labels, sol.removal_effect, strict=True):
        assert effect == pytest.approx(1 - brute(trans, {label}) / p, abs=1e-9)


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


def test_agrees_with_channelattribution_within_its_simulation_noise() -> None:
    """ChannelAttribution estimates the same removal effects by random walks (bench extra).

    Its default caps each walk at the longest observed path, which cuts revisiting walks
    short (share differences ~0.01 here); with long walks it agrees within its noise.
    """
    ca = pytest.importorskip("ChannelAttribution")
    rng = np.random.default_rng(11)
    labels = np.array(["a", "b", "c", "d", "e", "f"])
    weights = np.array([5, 4, 3, 3, 2, 1], float)
    paths = [" > ".join(rng.choice(labels, size=rng.integers(1, 6), p=weights / weights.sum()))
             for _ in range(400)]
    df = pd.DataFrame({"path": paths, "total_conversions": rng.poisson(3, 400),
                       "total_null": rng.poisson(12, 400)})
    df["total_conversion_value"] = df["total_conversions"] * 50.0
    ours = markov(df).set_index("channel")["share"]
    theirs = ca.markov_model(df.assign(path=df["path"].str.replace(" > ", ">")), "path",
                             "total_conversions", var_value="total_conversion_value",
                             var_null="total_null", verbose=False, flg_pro=False,
                             nsim_start=1e6, max_step=100, seed=1)
    theirs = theirs.set_index("channel_name")["total_conversions"]
    theirs = theirs / theirs.sum()
    assert (ours - theirs.reindex(ours.index)).abs().max() < 0.004
