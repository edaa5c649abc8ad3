"""Survey scores follow DOMAIN.md to the decimal; CIs match textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from touchlens import Workspace
from touchlens.metrics.cx import Z95, cx_scores
from touchlens.store.schema import FEEDBACK


def _counts(nps=(), csat=(), ces=()):
    nps, csat, ces = list(nps), list(csat), list(ces)
    return {
        "g": "x", "nps_n": len(nps), "nps_promoters": sum(s >= 9 for s in nps),
        "nps_detractors": sum(s <= 6 for s in nps), "csat_n": len(csat),
        "csat_top2": sum(s >= 4 for s in csat), "csat_sum": float(sum(csat)),
        "ces_n": len(ces), "ces_sum": float(sum(ces)), "ces_sumsq": float(sum(s * s for s in ces)),
        "ces_agree_n": sum(s >= 5 for s in ces),
    }


def test_nps_hand_computed():
    # 5 promoters, 3 passives, 2 detractors of 10 → NPS = 50 − 20 = 30
    row = cx_scores(__import__("pandas").DataFrame([_counts(nps=[10] * 3 + [9] * 2 + [8, 7, 7]
                                                            + [6, 0])])).iloc[0]
    assert row.nps == pytest.approx(30.0)
    scores = np.array([1] * 5 + [0] * 3 + [-1] * 2)
    half = Z95 * scores.std(ddof=0) / math.sqrt(10) * 100
    assert row.nps_low == pytest.approx(30 - half) and row.nps_high == pytest.approx(30 + half)
    assert row.nps_n == 10 and row.nps_small_n


@given(st.lists(st.integers(1, 5), min_size=1, max_size=60),
       st.lists(st.integers(1, 7), min_size=2, max_size=60))
def test_csat_and_ces_match_direct_computation(csat, ces):
    import pandas as pd

    row = cx_scores(pd.DataFrame([_counts(csat=csat, ces=ces)])).iloc[0]
    assert row.csat == pytest.approx(100 * np.mean(np.array(csat) >= 4))
    assert row.csat_mean == pytest.approx(np.mean(csat))
    assert row.csat_low <= row.csat + 1e-9 <= row.csat_high + 2e-9
    assert row.ces == pytest.approx(np.mean(ces))
    se = np.std(ces, ddof=1) / math.sqrt(len(ces))
    assert row.ces_high - row.ces == pytest.approx(Z95 * se, abs=1e-9)
    assert row.ces_agree == pytest.approx(100 * np.mean(np.array(ces) >= 5))


def test_wilson_reference_value():
    import pandas as pd

    # 8 of 10 satisfied: Wilson 95% CI = (0.4902, 0.9433) (Newcombe 1998, method 3)
    row = cx_scores(pd.DataFrame([_counts(csat=[5] * 8 + [1] * 2)])).iloc[0]
    assert row.csat_low == pytest.approx(49.02, abs=0.01)
    assert row.csat_high == pytest.approx(94.33, abs=0.01)


def test_workspace_scores_by_touchpoint(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    rows = [{"response_id": f"r{i}", "occurred_at": __import__("datetime").datetime(2026, 1, 1),
             "customer_id": "c", "touchpoint": "store" if i % 2 else "chat",
             "nps": i % 11, "csat": 1 + i % 5, "ces": None} for i in range(40)]
    table = pa.Table.from_pylist(rows, schema=FEEDBACK)
    ws.ingest_arrow(table, "feedback")
    s = ws.cx_scores("touchpoint").set_index("touchpoint")
    store = [r for r in rows if r["touchpoint"] == "store"]
    p = sum(r["nps"] >= 9 for r in store)
    d = sum(r["nps"] <= 6 for r in store)
    assert s.loc["store", "nps"] == pytest.approx(100 * (p - d) / len(store))
    assert s.loc["store", "ces_n"] == 0 and math.isnan(s.loc["store", "ces"])
