"""Survey scores follow DOMAIN.md to the decimal; CIs match textbook formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
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
    s = ws.cx_scores("touchpoint")
    assert s["touchpoint"].tolist() == ["chat", "store"]  # in order, whatever the engine's
    s = s.set_index("touchpoint")
    store = [r for r in rows if r["touchpoint"] == "store"]
    p = sum(r["nps"] >= 9 for r in store)
    d = sum(r["nps"] <= 6 for r in store)
    assert s.loc["store", "nps"] == pytest.approx(100 * (p - d) / len(store))
    assert s.loc["store", "ces_n"] == 0 and math.isnan(s.loc["store", "ces"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 50), st.integers(0, 50),
                          st.integers(0, 60), st.integers(1, 5), st.integers(0, 60),
                          st.integers(1, 7)), min_size=1, max_size=8))
def test_scores_from_counts_equal_the_formulas_row_by_row(rows) -> None:
    """cx_scores (array arithmetic) against DOMAIN.md's formulas on each row alone:
    every group size including 0 and 1, missing counts as 0."""
    recs = []
    for i, (prom, det, pas, csat_n, csat_v, ces_n, ces_v) in enumerate(rows):
        top2 = csat_n if csat_v >= 4 else 0
        recs.append({"g": f"g{i}", "nps_n": prom + det + pas, "nps_promoters": prom,
                     "nps_detractors": det, "csat_n": csat_n, "csat_top2": top2,
                     "csat_sum": float(csat_n * csat_v), "ces_n": ces_n,
                     "ces_sum": float(ces_n * ces_v), "ces_sumsq": float(ces_n * ces_v ** 2),
                     "ces_agree_n": ces_n if ces_v >= 5 else None})
    counts = pd.DataFrame(recs)
    got = cx_scores(counts)
    assert list(got.index) == list(counts.index) and got.columns[0] == "g"
    for rec, (_, row) in zip(recs, got.iterrows(), strict=True):
        n = rec["nps_n"]
        if n:
            nps = (rec["nps_promoters"] - rec["nps_detractors"]) / n
            var = max((rec["nps_promoters"] + rec["nps_detractors"]) / n - nps * nps, 0.0)
            assert row["nps"] == pytest.approx(100 * nps)
            assert row["nps_high"] - row["nps"] == pytest.approx(
                100 * 1.959963984540054 * math.sqrt(var / n))
        else:
            assert math.isnan(row["nps"]) and math.isnan(row["nps_low"])
        k = rec["csat_n"]
        if k:
            assert row["csat"] == pytest.approx(100 * rec["csat_top2"] / k)
            assert row["csat_low"] - 1e-9 <= row["csat"] <= row["csat_high"] + 1e-9
        else:
            assert math.isnan(row["csat"]) and math.isnan(row["csat_high"])
        m = rec["ces_n"]
        assert row["ces_n"] == m and row["ces_small_n"] == (m < 30)
        agree = rec["ces_agree_n"] or 0
        if m:
            assert row["ces"] == pytest.approx(rec["ces_sum"] / m)
            assert row["ces_agree"] == pytest.approx(100 * agree / m)
        if m > 1:  # every answer the same: no spread
            assert row["ces_low"] == pytest.approx(row["ces"])
        else:
            assert math.isnan(row["ces_low"])
