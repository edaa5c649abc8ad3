"""ws.voc on a workspace: incremental analysis, scores by dimension, topics, pain points."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pyarrow as pa
import pytest

from touchlens import Workspace
from touchlens.errors import ConfigError


@pytest.fixture
def ws(tmp_path, small_feedback: pa.Table):
    with Workspace.open(tmp_path / "voc.duckdb") as w:
        w.ingest_arrow(small_feedback, "feedback")
        yield w


def test_analyze_is_incremental(ws: Workspace, make_feedback) -> None:
    first = ws.voc.analyze(mode="fast")
    assert first == {"n_new": 10, "n_total": 10, "n_errors": 1, "mode": "fast"}
    assert ws.voc.analyze(mode="fast")["n_new"] == 0
    more = make_feedback([("f12", 3, 31, "support_chat", "chat", 9, 5, 6, "Świetny czat!")])
    ws.ingest_arrow(more, "feedback")
    assert ws.voc.analyze(mode="fast") == {"n_new": 1, "n_total": 11, "n_errors": 0,
                                           "mode": "fast"}
    assert ws.voc.analyze(mode="fast", force=True)["n_new"] == 11


def test_sentiment_table(ws: Workspace) -> None:
    s = ws.voc.sentiment().set_index("response_id")
    assert len(s) == 10  # f06 has no text
    assert s.loc["f02", "sentiment"] == "negative" and s.loc["f02", "language"] == "pl"
    assert s.loc["f04", "topics"] == "delivery"
    assert s.loc["f03", "sentiment"] == "positive" and s.loc["f03", "language"] == "en"
    assert pd.isna(s.loc["f11", "sentiment"]) and "not supported" in s.loc["f11", "error"]
    assert s.sentiment_score.dropna().between(-1, 1).all()


def test_sentiment_scores_are_the_sentiment_tables_columns(ws: Workspace) -> None:
    full = ws.voc.sentiment()[["response_id", "sentiment", "sentiment_score"]]
    scores = ws.voc.sentiment_scores()
    assert list(scores.columns) == ["response_id", "sentiment", "sentiment_score"]
    pd.testing.assert_frame_equal(scores, full.sort_values("response_id", ignore_index=True))
    assert scores["sentiment"].notna().sum() == 9  # f11's language is not supported


def test_scores_by_touchpoint_match_workspace_cx_scores(ws: Workspace) -> None:
    mine = ws.voc.scores("touchpoint").set_index("touchpoint")
    ref = ws.cx_scores("touchpoint").set_index("touchpoint")
    for col in ("nps", "nps_n", "csat", "csat_low", "ces_n"):
        pd.testing.assert_series_equal(mine[col].sort_index(), ref[col].sort_index())
    dc = mine.loc["delivery_courier"]
    assert dc.nps_n == 5 and dc.nps == pytest.approx(100 * (1 - 4) / 5) and dc.nps_small_n


def test_scores_by_stage_period_sentiment_language_segment(ws: Workspace) -> None:
    st = ws.voc.scores("stage").set_index("stage")
    assert st.loc["retention", "csat_n"] == 8  # 5 courier + 3 chat
    per = ws.voc.scores("touchpoint", period="month")
    assert set(per.period) == {dt.date(2024, m, 1) for m in (1, 2, 3)}
    by_sent = ws.voc.scores("sentiment").set_index("sentiment")
    assert by_sent.loc["negative", "csat"] < by_sent.loc["positive", "csat"]
    by_lang = ws.voc.scores("language").set_index("language")
    assert by_lang.loc["pl", "nps_n"] == 7
    seg = pd.DataFrame({"customer_id": ["c0", "c1", "c2", "c3"], "segment": ["A", "A", "B", "B"]})
    by_seg = ws.voc.scores("segment", segments=seg)
    assert by_seg.nps_n.sum() == 10
    with pytest.raises(ConfigError):
        ws.voc.scores("segment", segments=pd.DataFrame({"x": [1]}))
    with pytest.raises(ConfigError):
        ws.voc.scores("touchpoint", period="decade")


def test_changes_name_the_test(ws: Workspace) -> None:
    ch = ws.voc.changes(period="month")
    assert set(ch.metric) == {"nps", "csat", "ces"}
    assert ch.test.str.len().gt(0).all() and ch.small_n.all()


def test_topics_and_pain_points(ws: Workspace) -> None:
    topics = ws.voc.topics().set_index("topic")
    assert topics.loc["delivery", "n_mentions"] == 5
    assert topics.loc["delivery", "n_negative"] == 4
    assert "delivery_courier" in topics.loc["delivery", "touchpoints"]
    pp = ws.voc.pain_points(top=5)
    top = pp.iloc[0]
    assert (top.topic, top.touchpoint) == ("delivery", "delivery_courier")
    assert top["rank"] == 1 and top.n_negative == 4 and top.impact > 0 and top.small_n
    assert 1 <= len(top.examples) <= 2
    assert list(pp["rank"]) == list(range(1, len(pp) + 1))
    with pytest.raises(ConfigError):
        ws.voc.pain_points(top=0)


def test_empty_workspace(tmp_path) -> None:
    with Workspace.open(tmp_path / "empty.duckdb") as w:
        assert w.voc.analyze(mode="fast")["n_new"] == 0
        assert w.voc.sentiment().empty
        assert w.voc.pain_points().empty
        assert w.voc.scores("touchpoint").empty


def test_scores_parity_across_backends(make_workspace, small_feedback: pa.Table,
                                       tmp_path) -> None:
    """Same scores (by channel × month) and changes on every backend as on DuckDB."""
    with Workspace.open(tmp_path / "duck.duckdb") as duck:
        duck.ingest_arrow(small_feedback, "feedback")
        ref = duck.voc.scores("channel", period="month")
        ref_changes = duck.voc.changes("channel", period="month")
    other = make_workspace("voc")
    other.ingest_arrow(small_feedback, "feedback")
    got = other.voc.scores("channel", period="month")
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
    pd.testing.assert_frame_equal(other.voc.changes("channel", period="month"), ref_changes,
                                  check_dtype=False)
    assert other.voc.analyze(mode="fast")["n_new"] == 10
    assert other.voc.analyze(mode="fast")["n_new"] == 0
    topics = other.voc.topics().set_index("topic")
    assert topics.loc["delivery", ["n_mentions", "n_negative"]].tolist() == [5, 4]
    top = other.voc.pain_points(top=1).iloc[0]
    assert (top.topic, top.touchpoint, top.n_negative) == ("delivery", "delivery_courier", 4)
