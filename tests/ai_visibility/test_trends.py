"""Week-on-week AI visibility changes raised as alerts (two-proportion z-test, Bonferroni)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportions_ztest
from typer.testing import CliRunner

from touchlens import Workspace
from touchlens.aivis import BrandSet
from touchlens.aivis.trends import visibility_changes
from touchlens.cli.app import app

DATA = Path(__file__).parents[1] / "data" / "ai_answers"
ALLEGRO = BrandSet.load(DATA / "brands.yaml")


def _answers(share_by_week: list[float], per_week: int = 40) -> pd.DataFrame:
    rows = []
    for w, share in enumerate(share_by_week):
        hits = round(share * per_week)
        for i in range(per_week):
            text = ("Do zakupów polecam Allegro i jego oferty." if i < hits
                    else "Do zakupów polecam Decathlon.")
            rows.append({"answer_id": f"w{w}-{i}", "assistant": "ChatGPT",
                         "collected_at": (pd.Timestamp("2026-09-07", tz="UTC")
                                          + pd.Timedelta(weeks=w, hours=i)).isoformat(),
                         "prompt": "Gdzie kupić buty?", "answer": text, "language": "pl",
                         "market": "PL", "topic": "zakupy"})
    return pd.DataFrame(rows)


def test_a_drop_in_mentions_is_one_alert_with_its_evidence(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest_arrow(_answers([0.6] * 6 + [0.2]), "ai_answers")
        new = ws.ai_visibility_alerts(ALLEGRO)
        assert ws.ai_visibility_alerts(ALLEGRO).empty  # stored once, de-duplicated
        stored = ws.alerts()
    drops = new[new.metric == "mention_rate:Allegro"]
    assert len(drops) == 1 and drops.direction.iloc[0] == "down"
    row = drops.iloc[0]
    assert row.observed == 0.2 and math.isclose(row.expected, 0.6)
    # z equals statsmodels' pooled two-proportion z-test: 8/40 against 96/160
    z, _ = proportions_ztest([8, 96], [40, 160])
    assert math.isclose(row.z, z, rel_tol=1e-9)
    assert row.band_low < row.expected < row.band_high
    assert "mention rate of Allegro down" in row.message
    assert set(new.alert_id) <= set(stored.alert_id)
    # the rival gained the share Allegro lost: an "up" alert for Decathlon
    assert (new.metric == "mention_rate:Decathlon").any()


def test_stable_weeks_raise_nothing_and_bonferroni_sets_the_threshold():
    weekly = pd.DataFrame({
        "week": pd.date_range("2026-09-07", periods=6, freq="7D", tz="UTC"),
        "brand": "A", "answers": 50, "n_mentioned": [25, 27, 23, 26, 24, 25],
        "n_cited": [10, 11, 9, 10, 12, 10]})
    assert visibility_changes(weekly).empty
    weekly.loc[5, "n_mentioned"] = 5
    out = visibility_changes(weekly, alpha=0.01)
    assert out.metric.tolist() == ["mention_rate:A"]
    assert math.isclose(out.threshold.iloc[0], stats.norm.ppf(1 - 0.01 / 4))  # 2 metrics
    assert visibility_changes(weekly, min_answers=60).empty  # too few answers a week


def test_cli_lists_alerts_of_a_file(tmp_path):
    path = tmp_path / "answers.jsonl"
    _answers([0.6] * 5 + [0.1]).to_json(path, orient="records", lines=True)
    out = CliRunner().invoke(app, ["ai-visibility", str(path), "--brands",
                                   str(DATA / "brands.yaml"), "--alerts", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert any(r["metric"] == "mention_rate:Allegro" and r["direction"] == "down" for r in rows)
