"""What to fix first: checks, divergence and the ranking rule."""

from __future__ import annotations

import math

import ibis
import pandas as pd
import pytest

from touchlens.insights import recommend as R
from touchlens.insights import service

from .conftest import events, feedback


def test_js_divergence_bounds():
    same = pd.DataFrame({"audience": ["prospect", "prospect", "buyer", "buyer"],
                         "touchpoint": ["a", "b", "a", "b"], "n": [10, 30, 1, 3]})
    assert R.js_divergence(same) == pytest.approx(0.0)
    apart = pd.DataFrame({"audience": ["prospect", "buyer"], "touchpoint": ["a", "b"],
                          "n": [5, 5]})
    assert R.js_divergence(apart) == pytest.approx(1.0)
    assert math.isnan(R.js_divergence(same[same.audience == "buyer"]))


def test_feedback_trend_windows():
    rows = [("c", 24 * d, "support_chat", "chat", None, 1 if d > 40 else 5, None)
            for d in range(1, 61)]
    con = ibis.duckdb.connect()
    fb = con.create_table("fb", feedback(rows))
    out = con.execute(R.feedback_trend(fb, trend_days=30)).iloc[0]
    assert (out.n_recent, out.n_before) == (30, 30)
    assert (out.bad_recent, out.bad_before) == (20, 0)


def _tp(**kw):
    base = {"touchpoint": "cart", "stage": "purchase", "owned": True, "reach": 500,
            "share_of_customers": 0.5, "csat_n": 0, "nps_n": 0, "ces_n": 0}
    return {**base, **kw}


def test_checks_and_ranking():
    tps = pd.DataFrame([_tp(), _tp(touchpoint="newsletter", stage="retention", reach=20),
                        _tp(touchpoint="store_cashier", csat_n=50)])
    gaps = pd.DataFrame([{"kind": "duplicated_messages", "stage": "retention",
                          "touchpoint": "newsletter", "n": 300, "share": 0.3, "detail": "d"},
                         {"kind": "no_owned_touchpoint", "stage": "advocacy",
                          "touchpoint": None, "n": 1, "share": float("nan"), "detail": "x"}])
    trend = pd.DataFrame([{"touchpoint": "support_chat", "n_recent": 100, "bad_recent": 40,
                           "n_before": 100, "bad_before": 10}])
    rows = R.check_actions(tps, gaps, trend, 0.001, 1000)
    kinds = [r["kind"] for r in rows]
    assert kinds.count("unmonitored") == 1  # newsletter reaches < 5%, store_cashier answers
    assert {"rising_negative_feedback", "no_personalization", "duplicated_messages",
            "no_owned_touchpoint"} <= set(kinds)
    money = [R._row(action="m1", kind="pain_point", money_per_month=1000.0, confidence=0.5,
                    score=500.0, customers_affected=10),
             R._row(action="m2", kind="pain_point", money_per_month=800.0, confidence=1.0,
                    score=800.0, customers_affected=5),
             R._row(action="mot", kind="moment_of_truth", confidence=0.99,
                    customers_affected=3)]
    ranked = R.rank(rows + money)
    assert ranked.action.tolist()[:3] == ["m2", "m1", "mot"]
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))


def test_recommendations_on_a_tiny_workspace(workspace):
    ws = workspace(events([("a", 0, "product_page", "page_view"),
                           ("a", 1, "checkout", "purchase", "web")]))
    out = service.recommendations(ws)
    assert list(out.columns) == list(R.COLUMNS)


def test_an_empty_workspace_has_no_recommendations_and_no_error(tmp_path):
    from touchlens import Workspace

    with Workspace.open(tmp_path / "empty.duckdb") as ws:
        assert ws.recommendations().empty
        assert ws.consistency().empty
