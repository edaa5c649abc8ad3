"""Shapley values: the exact solver against the permutation definition, efficiency,
sampling convergence, and the two characteristic functions."""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np
import pandas as pd
import pytest

from touchlens.attribution import shapley
from touchlens.attribution.shapley import (
    RateGame,
    conversions_credit,
    exact_from_values,
    game_from_coalitions,
    sampled,
)


def by_permutations(v: np.ndarray, k: int) -> np.ndarray:
    """The definition: mean marginal contribution over all k! orders."""
    phi = np.zeros(k)
    for order in itertools.permutations(range(k)):
        mask = 0
        for j in order:
            phi[j] += v[mask | (1 << j)] - v[mask]
            mask |= 1 << j
    return phi / factorial(k)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_exact_equals_permutation_definition_and_is_efficient(k: int) -> None:
    rng = np.random.default_rng(k)
    v = rng.normal(size=1 << k)
    v[0] = 0.0
    phi = exact_from_values(v)[0]
    assert phi == pytest.approx(by_permutations(v, k))
    assert phi.sum() == pytest.approx(v[-1] - v[0])  # efficiency


def test_sampled_converges_to_exact() -> None:
    rng = np.random.default_rng(0)
    k = 6
    v = np.cumsum(rng.random(1 << k))  # any game
    exact = exact_from_values(v)[0]

    def value(masks: np.ndarray) -> np.ndarray:
        return v[masks]

    small, se_small = sampled(value, k, 200, np.random.default_rng(1))
    large, se_large = sampled(value, k, 20000, np.random.default_rng(2))
    assert np.abs(large - exact).max() < np.abs(small - exact).max() + 1e-12 or \
        np.abs(large - exact).max() < 4 * se_large.max()
    assert np.all(np.abs(large - exact) <= 4 * se_large + 1e-12)
    assert se_large.max() < se_small.max()


def test_conversions_game_closed_form_equals_exact() -> None:
    rng = np.random.default_rng(4)
    k = 5
    masks = rng.integers(1, 1 << k, 30)
    worth = rng.integers(0, 10, 30).astype(float)
    exact = exact_from_values(game_from_coalitions(masks, worth, k))[0]
    members = [np.flatnonzero((m >> np.arange(k)) & 1) for m in masks]
    assert conversions_credit(members, worth, k) == pytest.approx(exact)


def test_rate_game_uses_observed_rates_and_closes_unseen_sets() -> None:
    members = [np.array([], int), np.array([0]), np.array([1]), np.array([0, 1])]
    game = RateGame(members, np.array([1.0, 3.0, 2.0, 5.0]), np.array([9.0, 7.0, 8.0, 5.0]))
    v = game.values(np.array([[0, 1]]))[0]  # subsets ∅, {0}, {1}, {0,1}
    assert v == pytest.approx([0.0, 0.2, 0.1, 0.4])
    only_a = RateGame(members[:2], np.array([1.0, 3.0]), np.array([9.0, 7.0]))
    unseen = only_a.values(np.array([[0, 1]]))[0]
    assert unseen == pytest.approx([0.0, 0.2, 0.0, 0.2])  # {1}, {0,1}: best seen subset


def test_shapley_model_states_its_characteristic_function() -> None:
    df = pd.DataFrame({"path": ["a > b", "a", "b > c > a", ""],
                       "total_conversions": [2, 1, 3, 1], "total_null": [3, 4, 2, 5],
                       "total_conversion_value": [20.0, 10.0, 30.0, 10.0]})
    result = shapley(df)
    notes = result.attrs["notes"]["shapley"]
    assert "subset of S" in notes["characteristic_function"]
    got = dict(zip(result["channel"], result["conversions"], strict=True))
    assert got == pytest.approx({"a": 1 + 1 + 1, "b": 1 + 1, "c": 1, "(none)": 1})
    rate = shapley(df, value="rate")
    assert rate["conversions"].sum() == pytest.approx(7)
    assert "(baseline)" in set(rate["channel"])
    assert "observed conversion rate" in rate.attrs["notes"]["shapley"][
        "characteristic_function"]


def test_shapley_bootstrap_interval() -> None:
    df = pd.DataFrame({"path": ["a > b", "a", "b", "c > a"],
                       "total_conversions": [20, 10, 5, 8], "total_null": [30, 40, 50, 20]})
    result = shapley(df, bootstrap=40, seed=1)
    assert (result["ci_low"] <= result["conversions"]).all()
    assert (result["conversions"] <= result["ci_high"]).all()
