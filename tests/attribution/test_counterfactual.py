"""Counterfactual model: recovers known incremental shares on randomised synthetic paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from touchlens.attribution import counterfactual, tv_distance
from touchlens.attribution.counterfactual import folds, log_loss

EFFECTS = {"a": 0.10, "b": 0.25, "c": 0.0, "d": 0.05}  # c has no effect at all


def synthetic_paths(n: int = 40_000, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Journeys exposed at random to a..d; P = 1 − 0.95 · Π(1 − effect·exposed).

    Returns the path table and the true incremental shares (removal effects normalised).
    """
    rng = np.random.default_rng(seed)
    names = list(EFFECTS)
    effect = np.array(list(EFFECTS.values()))
    exposed = rng.random((n, len(names))) < 0.4
    q = 1 - effect[None, :] * exposed
    p = 1 - 0.95 * q.prod(axis=1)
    converted = rng.random(n) < p
    removal = (0.95 * q.prod(axis=1))[:, None] * (1 / q - 1)
    truth = pd.Series(removal.sum(axis=0), index=names)
    order = [rng.permutation(np.flatnonzero(row)) for row in exposed]
    paths = [" > ".join(names[i] for i in o) for o in order]
    df = pd.DataFrame({"path": paths, "converted": converted})
    table = df.groupby("path").agg(total_conversions=("converted", "sum"),
                                   total_null=("converted", lambda s: (~s).sum()))
    table = table.reset_index()
    table["total_conversion_value"] = table["total_conversions"] * 100.0
    return table, truth / truth.sum()


def test_recovers_true_incremental_shares() -> None:
    table, truth = synthetic_paths()
    result = counterfactual(table, model="logistic")
    real = result[~result["channel"].str.startswith("(")].set_index("channel")["conversions"]
    shares = real.clip(lower=0) / real.clip(lower=0).sum()
    assert tv_distance(shares, truth) < 0.05
    assert abs(real["c"]) < 0.05 * real.sum()
    notes = result.attrs["notes"]["counterfactual"]
    assert notes["cv_log_loss"] < notes["cv_log_loss_no_features"]
    assert result["conversions"].sum() == pytest.approx(table["total_conversions"].sum())
    assert result["revenue"].sum() == pytest.approx(table["total_conversion_value"].sum())


def test_auto_picks_the_best_cross_validated_candidate() -> None:
    table, _ = synthetic_paths(8_000, seed=1)
    notes = counterfactual(table).attrs["notes"]["counterfactual"]
    scores = {k: v for k, v in notes["candidates"].items() if k != "no features"}
    assert notes["model"] == min(scores, key=scores.get)
    assert notes["cv_log_loss"] == pytest.approx(min(scores.values()))


def test_bootstrap_interval() -> None:
    table, _ = synthetic_paths(6_000, seed=2)
    result = counterfactual(table, model="logistic", bootstrap=20, seed=4)
    real = result[~result["channel"].str.startswith("(")]
    assert (real["ci_low"] < real["ci_high"]).all()
    assert result[result["channel"] == "(baseline)"]["ci_low"].isna().all()


def test_folds_split_whole_counts_and_log_loss() -> None:
    counts = np.array([10.0, 3.0, 0.0])
    parts = folds(counts, 5, np.random.default_rng(0))
    assert parts.sum(axis=0) == pytest.approx(counts)
    assert np.allclose(parts, np.round(parts))
    assert log_loss(np.array([0.5]), np.array([1.0]), np.array([1.0])) == pytest.approx(
        np.log(2))
