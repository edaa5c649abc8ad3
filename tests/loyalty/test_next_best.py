"""Next-best touchpoint: the contact model, and the recommender against the most-popular
baseline on the simulator, whose true conversion model is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from touchlens import Workspace
from touchlens.cli import app
from touchlens.errors import ConfigError
from touchlens.loyalty import next_best as NB
from touchlens.simulate import simulate_retailer, true_conversion_probability


def test_uplift_is_the_change_in_predicted_probability() -> None:
    rng = np.random.default_rng(0)
    counts = pd.DataFrame(rng.poisson(1.0, size=(20000, 3)), columns=["a", "b", "c"])
    eta = -2 + 0.9 * np.log1p(counts["a"]) - 0.5 * np.log1p(counts["b"])
    y = rng.random(20000) < 1 / (1 + np.exp(-eta))
    model = NB.NextBestTouchpoint(min_journeys=1).fit(counts, y)
    assert model.coef_["a"] > 0.5 and model.coef_["b"] < -0.3 and abs(model.coef_["c"]) < 0.15
    some = counts.head(5)
    up = model.uplift(some)
    for k in ("a", "b", "c"):
        plus = some.copy()
        plus[k] += 1
        assert up[k].to_numpy() == pytest.approx(
            model.probability(plus) - model.probability(some))
    rec = model.recommend(some.rename_axis("journey_id"), top=2)
    assert (rec.loc[rec["rank"] == 1, "touchpoint"] == "a").all()
    with pytest.raises(ConfigError, match="converting and non-converting"):
        NB.NextBestTouchpoint().fit(counts, np.zeros(len(counts)))


@pytest.fixture(scope="module")
def sim_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    world = simulate_retailer(4000, seed=5, days=150)
    path = tmp_path_factory.mktemp("nb") / "sim.duckdb"
    with Workspace.open(path) as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.identities, "identities")
    return path, world.ground_truth


def _true_uplift(row: pd.Series, touchpoint: str, base: float = 0.05) -> float:
    touches = {c: int(v) for c, v in row.items() if v}
    before = true_conversion_probability(touches, base)
    touches[touchpoint] = touches.get(touchpoint, 0) + 1
    return true_conversion_probability(touches, base) - before


def test_recommendations_beat_the_most_popular_baseline_on_true_uplift(sim_db) -> None:
    path, truth = sim_db
    with Workspace.open(path) as ws:
        cands = ws.store.execute(NB.candidate_touchpoints(ws.events()))["touchpoint"].tolist()
        long = ws.store.execute(NB.journey_touches(ws.journey_events(), cands))
    assert "product_page" not in cands and "checkout" not in cands  # levers only
    ev = NB.evaluate(long, cands, top=1)
    model, prefix = ev.attrs["model"], ev.attrs["prefix"]
    best = model.ranking(prefix, 1)[:, 0]
    popular = ev.attrs["top_popular"][0]
    ours = np.mean([_true_uplift(prefix.iloc[i], model.candidates_[best[i]])
                    for i in range(len(prefix))])
    baseline = np.mean([_true_uplift(prefix.iloc[i], popular) for i in range(len(prefix))])
    assert ours > 2 * baseline
    # and the model's coefficients rank touchpoints like the truth does
    effect = truth.set_index("touchpoint")["true_effect"].reindex(model.candidates_)
    assert model.coef_.corr(effect, method="spearman") > 0.3


def test_workspace_and_command(sim_db) -> None:
    path, _ = sim_db
    with Workspace.open(path) as ws:
        ev = ws.next_best_evaluation(top=3)
        customers = ws.journeys()["customer_id"].drop_duplicates().head(2).tolist()
        rec = ws.next_best_touchpoint(customers, top=3)
    assert ev["method"].tolist() == ["model", "most_popular"]
    assert ev["hit_rate"].between(0, 1).all() and (ev["n_holdout"] > 100).all()
    assert len(rec) == 6 and rec["rank"].tolist() == [1, 2, 3, 1, 2, 3]
    for _, one in rec.groupby("customer_id"):
        assert one["uplift"].is_monotonic_decreasing
        assert (one["p_convert_after"] >= one["p_convert"] - 1e-12).all() or (
            one["uplift"] < 0).any()
    runner = CliRunner()
    result = runner.invoke(app, ["recommend", "--customer", customers[0], "--db", str(path),
                                 "--format", "json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["recommend", "--db", str(path)])
    assert result.exit_code == 2
