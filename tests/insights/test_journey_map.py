"""The journey map: reach and shares, emotion index, gaps and duplicated messages."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.insights import journey_map as JM
from touchlens.insights import service
from touchlens.journeys import customer_touchpoints, journey_events
from touchlens.journeys.touchpoints import message_bursts

from .conftest import events, feedback


def test_duplicated_messages_counts_bursts():
    rows = [("x", h, "newsletter", "delivered", "email") for h in (0, 1, 2, 3, 100)]
    rows += [("y", h, "newsletter", "delivered", "email") for h in (0, 30, 60)]
    rows += [("y", 0, "product_page", "page_view", "web")]
    con = ibis.duckdb.connect()
    t = journey_events(con.create_table("events", events(rows)))
    for per_customer in (message_bursts(t, burst=3, burst_hours=24), customer_touchpoints(t)):
        out = con.execute(JM.duplicated_messages(per_customer)).set_index("touchpoint")
        assert out.loc["newsletter"].tolist() == [2, 1, 2]  # recipients, customers, bursts
        assert "product_page" not in out.index
    out = con.execute(JM.duplicated_messages(message_bursts(t, burst=2, burst_hours=24)))
    assert out.set_index("touchpoint").loc["newsletter"].tolist() == [2, 1, 3]  # x: 1, 2, 3 h


def test_emotion_index_weights_the_available_scores():
    df = pd.DataFrame({"csat_mean": [5.0, np.nan], "csat_n": [10, 0], "nps": [-100.0, 50.0],
                       "nps_n": [10, 4], "ces": [np.nan, np.nan], "ces_n": [0, 0]})
    assert JM.emotion_index(df).tolist() == pytest.approx([0.0, 0.5])


ROWS = [
    ("a", 0, "display_banner", "impression", "display"), ("a", 1, "product_page", "page_view"),
    ("a", 2, "checkout", "checkout", "web"), ("a", 3, "checkout", "purchase", "web"),
    ("a", 50, "customer_review", "review", "reviews"),
    ("b", 0, "product_page", "page_view"), ("b", 5, "checkout", "checkout", "web"),
    ("c", 0, "social_ad", "impression", "social_paid"),
]


@pytest.fixture
def small(workspace):
    fb = feedback([("a", 4, "checkout", "web", 9, 5, None),
                   ("b", 6, "checkout", "web", 2, 1, None)])
    return workspace(events(ROWS), fb)


def test_journey_map_tables(small):
    jm = service.journey_map(small)
    assert set(jm.tables()) == {"stages", "touchpoints", "pain_points", "gaps", "moments"}
    assert jm.n_customers == 3
    st = jm.stages.set_index("stage")
    assert st.loc["awareness", "reach"] == 2 and st.loc["consideration", "reach"] == 2
    assert st.loc["purchase", "reach"] == 2
    assert st.loc["awareness", "share"] == pytest.approx(2 / 3)
    assert st.loc["purchase", "csat_n"] == 2 and st.loc["purchase", "csat"] == 50.0
    # emotion of purchase: CSAT mean 3 → 0 and NPS (1 promoter, 1 detractor) 0 → 0
    assert st.loc["purchase", "emotion"] == pytest.approx(0.0)
    tp = jm.touchpoints.set_index("touchpoint")
    assert tp.loc["display_banner", "share_of_stage"] == pytest.approx(0.5)
    assert tp.loc["checkout", "reach"] == 2 and tp.loc["checkout", "owned"]
    gaps = jm.gaps
    advocacy = gaps[(gaps.kind == "no_owned_touchpoint") & (gaps.stage == "advocacy")]
    assert len(advocacy) == 1 and "customer_review" in advocacy.detail.iloc[0]
    assert set(gaps[gaps.kind == "empty_stage"].stage) == {"retention"}


def test_pain_point_rule():
    moments = pd.DataFrame({
        "touchpoint": ["t1", "t1", "t2", "t3"], "stage": ["purchase"] * 4,
        "signal": ["score", "score", "score", "score"],
        "outcome": ["conversion", "nps", "conversion", "conversion"],
        "gap": [-0.1, -30.0, -0.01, -0.2], "p_value": [0.2, 0.001, 0.9, 0.5],
        "moment_of_truth": [False, True, False, False],
        "affected_customers": [40, 40, 5, 50], "good_customers": [400, 400, 5, 950]})
    risk = pd.DataFrame({"touchpoint": ["t1"], "signal": ["score"], "per_month": [123.0]})
    out = JM.pain_point_table(moments, risk)
    # t1: a moment of truth; t2: too few affected; t3: 5% bad, not a moment → not a pain point
    assert out.touchpoint.tolist() == ["t1"]
    assert out.worst_outcome.iloc[0] == "nps" and out.per_month_at_risk.iloc[0] == 123.0


def test_figure_draws_every_layer(small):
    from touchlens.insights.figures import journey_map_figure

    jm = service.journey_map(small)
    jm.touchpoints.loc[jm.touchpoints.touchpoint == "checkout", "pain_point"] = True
    fig = journey_map_figure(jm)
    names = {t.name for t in fig.data}
    assert {"stage emotion", "reach (customers)", "pain point"} <= names
    assert any("no owned touchpoint" in (a.text or "") for a in fig.layout.annotations)


def test_sentiment_per_touchpoint_and_stage_is_the_mean_of_the_scored_answers(tmp_path):
    """The map's sentiment: the mean VoC score of the answers scored at each touchpoint and
    stage (their number as sentiment_n); none where no answer there is scored."""
    from touchlens import Workspace
    from touchlens.simulate import simulate_retailer

    world = simulate_retailer(600, seed=3, days=60)
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.feedback, "feedback")
        jm = ws.journey_map()
        scored = ws.voc.sentiment().dropna(subset=["sentiment_score"])
        stage = ws.touchpoints().set_index("touchpoint")["stage"]
    scored = scored.assign(stage=scored["touchpoint"].map(stage))
    for key, table in (("touchpoint", jm.touchpoints), ("stage", jm.stages)):
        want = scored.groupby(key)["sentiment_score"].agg(["mean", "count"])
        got = table.set_index(key)
        assert len(want) >= 2
        for name, row in want.iterrows():
            if name in got.index:
                assert got.loc[name, "sentiment"] == pytest.approx(row["mean"])
                assert got.loc[name, "sentiment_n"] == row["count"]
        unscored = got.index.difference(want.index)
        assert (got.loc[unscored, "sentiment_n"] == 0).all()
        assert got.loc[unscored, "sentiment"].isna().all()


def test_survey_scores_per_touchpoint_and_stage_are_those_of_the_answers_there(tmp_path):
    """CSAT (top-2-box %), its n, NPS and CES per touchpoint and per stage equal the same
    figures computed in pandas from the answers given there (a stage's: the answers at its
    touchpoints in the catalogue) — the stages' counts are summed from the touchpoints'."""
    from touchlens import Workspace
    from touchlens.simulate import simulate_retailer

    world = simulate_retailer(600, seed=5, days=60)
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.feedback, "feedback")
        jm = ws.journey_map()
        answers = ws.store.execute(ws.store.table("feedback"))
        stage = ws.touchpoints().set_index("touchpoint")["stage"]
    answers = answers.assign(stage=answers["touchpoint"].map(stage))
    for key, table in (("touchpoint", jm.touchpoints), ("stage", jm.stages)):
        got = table.set_index(key)
        checked = 0
        for name, g in answers.dropna(subset=[key]).groupby(key):
            if name not in got.index:
                continue
            csat, nps, ces = g["csat"].dropna(), g["nps"].dropna(), g["ces"].dropna()
            row = got.loc[name]
            assert row["csat_n"] == len(csat) and row["nps_n"] == len(nps)
            assert row["ces_n"] == len(ces)
            if len(csat):
                assert row["csat"] == pytest.approx(100 * (csat >= 4).mean())
                assert row["csat_mean"] == pytest.approx(csat.mean())
            if len(nps):
                assert row["nps"] == pytest.approx(100 * ((nps >= 9).mean() - (nps <= 6).mean()))
            if len(ces):
                assert row["ces"] == pytest.approx(ces.mean())
            checked += len(csat) > 0
        assert checked >= 2


def _pain_points_row_by_row(moments: pd.DataFrame, risk: pd.DataFrame) -> pd.DataFrame:
    """The pain-point rule written out group by group (the specification)."""
    rows = []
    for (tp, sig), g in moments.groupby(["touchpoint", "signal"], sort=False):
        affected = int(g["affected_customers"].iloc[0])
        good = int(g["good_customers"].iloc[0])
        share = affected / (affected + good) if affected + good else np.nan
        mot = g[g["moment_of_truth"]]
        worst = (mot if not mot.empty else g).sort_values("p_value", kind="stable").iloc[0]
        is_mot = bool(g["moment_of_truth"].any())
        if affected < JM.MIN_AFFECTED or not (is_mot or share >= JM.MIN_BAD_SHARE):
            continue
        r = risk[(risk["touchpoint"] == tp) & (risk["signal"] == sig)]
        rows.append({"touchpoint": tp, "source": sig, "affected_customers": affected,
                     "bad_share": share, "worst_outcome": worst["outcome"],
                     "worst_gap": worst["gap"], "moment_of_truth": is_mot,
                     "per_month_at_risk": float(r["per_month"].iloc[0]) if len(r) else np.nan})
    cols = ["touchpoint", "source", "affected_customers", "bad_share", "worst_outcome",
            "worst_gap", "moment_of_truth", "per_month_at_risk"]
    return pd.DataFrame(rows, columns=cols)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["t1", "t2", "t3"]),
                          st.sampled_from(["score", "error:late", "support"]),
                          st.sampled_from([0.001, 0.04, 0.5, float("nan")]), st.booleans(),
                          st.integers(0, 60), st.integers(0, 600)),
                min_size=1, max_size=25),
       st.booleans())
def test_pain_points_follow_the_rule_group_by_group(rows, with_risk) -> None:
    """The grouped table equals the rule applied group by group, whatever the order, ties,
    missing p-values and groups without risk."""
    counts = {}
    frame = []
    for i, (tp, sig, p, mot, affected, good) in enumerate(rows):
        first = counts.setdefault((tp, sig), (affected, good))  # one count per group
        frame.append({"touchpoint": tp, "stage": "purchase", "signal": sig,
                      "outcome": ["conversion", "nps", "repeat_purchase"][i % 3],
                      "gap": -0.01 * i, "p_value": p, "moment_of_truth": mot,
                      "affected_customers": first[0], "good_customers": first[1]})
    moments = pd.DataFrame(frame)
    keys = sorted(counts)[::2] if with_risk else []
    risk = pd.DataFrame({"touchpoint": [k[0] for k in keys], "signal": [k[1] for k in keys],
                         "per_month": [10.0 * i for i in range(len(keys))]})
    got = JM.pain_point_table(moments, risk)
    want = _pain_points_row_by_row(moments, risk)
    order = ["touchpoint", "source"]
    got = got.sort_values(order, ignore_index=True)[list(want.columns)]
    want = want.sort_values(order, ignore_index=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
