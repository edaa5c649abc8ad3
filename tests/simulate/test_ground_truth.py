"""The true conversion model: properties, and removal effects against a brute-force oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.simulate import EXPOSURES, saturation, true_conversion_probability
from touchlens.simulate.ground_truth import (
    channel_removal_effects,
    conversion_probability,
    removal_effects,
)

NAMES = [e.touchpoint for e in EXPOSURES]
EFFECT = np.array([e.effect for e in EXPOSURES])
KAPPA = np.array([e.kappa for e in EXPOSURES])

touch_sets = st.dictionaries(st.sampled_from(NAMES), st.integers(0, 12), max_size=8)
bases = st.floats(0.0, 0.5)


def test_formula_by_hand() -> None:
    e = {x.touchpoint: x for x in EXPOSURES}
    s, n = e["search_ad"], e["newsletter"]
    expected = 1 - (1 - 0.05) * (1 - s.effect * (1 - math.exp(-2 / s.kappa))) * (
        1 - n.effect * (1 - math.exp(-3 / n.kappa)))
    got = true_conversion_probability({"search_ad": 2, "newsletter": 3, "cart": 4}, 0.05)
    assert got == pytest.approx(expected, rel=1e-12)
    assert true_conversion_probability({}, 0.07) == pytest.approx(0.07)
    assert saturation(0, 2.0) == 0.0


@given(touch_sets, bases)
def test_probability_is_between_base_and_one(touches: dict, base: float) -> None:
    p = true_conversion_probability(touches, base)
    assert base - 1e-12 <= p <= 1.0


@given(touch_sets, bases, st.sampled_from(NAMES))
def test_one_more_contact_never_lowers_probability(touches: dict, base: float, tp: str) -> None:
    more = {**touches, tp: touches.get(tp, 0) + 1}
    assert true_conversion_probability(more, base) >= true_conversion_probability(touches, base)


@settings(max_examples=50)
@given(st.integers(1, 30), st.integers(0, 2**31 - 1))
def test_removal_effects_equal_brute_force(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    counts = rng.poisson(0.8, (n, len(NAMES))) * (rng.random((n, len(NAMES))) < 0.4)
    base = rng.uniform(0, 0.3, n)
    full = conversion_probability(counts, base, EFFECT, KAPPA)
    got = removal_effects(counts, base, EFFECT, KAPPA)
    for k in range(len(NAMES)):
        without = counts.copy()
        without[:, k] = 0
        oracle = full - conversion_probability(without, base, EFFECT, KAPPA)
        np.testing.assert_allclose(got[:, k], oracle, atol=1e-12)
    channels = ["a" if k % 3 else "b" for k in range(len(NAMES))]
    joint = channel_removal_effects(counts, base, EFFECT, KAPPA, channels)
    without = counts.copy()
    without[:, [k for k, c in enumerate(channels) if c == "b"]] = 0
    assert joint["b"] == pytest.approx(
        float((full - conversion_probability(without, base, EFFECT, KAPPA)).sum()), abs=1e-9)


@pytest.mark.parametrize(("touches", "base"), [({"search_ad": -1}, 0.1), ({}, 1.5)])
def test_invalid_inputs_raise(touches: dict, base: float) -> None:
    with pytest.raises(ValueError):
        true_conversion_probability(touches, base)
