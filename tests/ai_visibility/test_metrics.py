"""AI visibility metrics in Ibis against an obvious pandas reference, Wilson vs statsmodels."""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.proportion import proportion_confint

from touchlens import ConfigError
from touchlens.aivis import ai_visibility, wilson_interval
from touchlens.aivis.mentions import MENTIONS_SCHEMA

BRANDS = ["A", "B", "C"]


def _mentions(draw_rows: list[tuple]) -> pd.DataFrame:
    """Rows (answer, assistant, prompt, week_offset, brand_hits) → per answer × brand."""
    rows = []
    for i, (assistant, prompt, day, hits, cites) in enumerate(draw_rows):
        named = [b for b, h in zip(BRANDS, hits, strict=True) if h]
        for b, h, c in zip(BRANDS, hits, cites, strict=True):
            rows.append({
                "answer_id": f"x{i}", "collected_at": pd.Timestamp("2024-03-04", tz="UTC")
                + pd.Timedelta(days=day), "assistant": assistant, "topic": None,
                "prompt": prompt, "market": "PL", "language": "pl", "brand": b,
                "is_target": b == "A", "mentioned": bool(h), "cited": bool(c),
                "position": named.index(b) + 1 if h else None, "n_mentions": int(h),
                "sentiment": (0.5 if b == "A" else -0.25) if h else None,
            })
    frame = pd.DataFrame(rows, columns=list(MENTIONS_SCHEMA.names))
    frame["position"] = frame["position"].astype("Int64")
    frame["sentiment"] = frame["sentiment"].astype("float64")
    return frame


def _reference(m: pd.DataFrame, by: str | None) -> pd.DataFrame:
    m = m.assign(week=(m.collected_at.dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
                       .dt.strftime("%Y-%m-%d")))
    keys = [by] if by else []
    out = []
    for key, g in (m.groupby(keys) if keys else [((), m)]):
        total = g.mentioned.sum()
        for brand, b in g.groupby("brand"):
            runs = b.groupby(["assistant", "prompt"]).mentioned.agg(["size", "sum"])
            runs = runs[runs["size"] >= 2]
            n, k = runs["size"].astype(float), runs["sum"].astype(float)
            agree = (k * (k - 1) + (n - k) * (n - k - 1)) / (n * (n - 1))
            out.append({**dict(zip(keys, key if isinstance(key, tuple) else (key,),
                                   strict=True)),
                        "brand": brand, "answers": b.answer_id.nunique(),
                        "mention_rate": b.mentioned.mean(), "citation_rate": b.cited.mean(),
                        "avg_position": b.position.astype(float).mean(),
                        "share_of_voice": b.mentioned.sum() / total if total else np.nan,
                        "sentiment": b.sentiment.mean(),
                        "stability": agree.mean() if len(agree) else np.nan,
                        "repeated_prompts": len(agree)})
    return pd.DataFrame(out)


_ROW = st.tuples(st.sampled_from(["chatgpt", "perplexity"]), st.sampled_from(["p1", "p2"]),
                 st.integers(0, 13), st.tuples(*[st.booleans()] * 3),
                 st.tuples(*[st.booleans()] * 3))


@settings(max_examples=15, deadline=None)
@given(st.lists(_ROW, min_size=1, max_size=25), st.sampled_from([None, "assistant", "week"]))
def test_metrics_match_the_reference(rows, by):
    m = _mentions(rows)
    got = ai_visibility(ibis.memtable(m, schema=MENTIONS_SCHEMA), by).to_pandas()
    want = _reference(m, by)
    keys = ([by] if by else []) + ["brand"]
    got = got.sort_values(keys).reset_index(drop=True)
    want = want.sort_values(keys).reset_index(drop=True)
    for col in want.columns:
        if col in keys:
            assert list(got[col].astype(str)) == list(want[col].astype(str)), col
        else:
            np.testing.assert_allclose(got[col].astype(float), want[col].astype(float),
                                       rtol=1e-9, err_msg=col)
    sov = (got.groupby(keys[:-1])["share_of_voice"].sum(min_count=1) if by
           else got.share_of_voice.sum(min_count=1))
    assert np.allclose(np.nan_to_num(np.atleast_1d(sov), nan=1.0), 1.0)  # shares sum to 1


@pytest.mark.parametrize("k, n", [(0, 5), (3, 10), (10, 10), (1, 1), (47, 120)])
def test_wilson_matches_statsmodels(k, n):
    low, high = wilson_interval(ibis.literal(k), ibis.literal(n))
    got = ibis.memtable({"x": [1]}).select(low=low, high=high).to_pandas().iloc[0]
    want = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert got.low == pytest.approx(want[0], abs=1e-9)
    assert got.high == pytest.approx(want[1], abs=1e-9)


def test_target_first_and_unknown_grouping():
    m = _mentions([("chatgpt", "p1", 0, (False, True, True), (False, False, False))])
    out = ai_visibility(ibis.memtable(m, schema=MENTIONS_SCHEMA)).to_pandas()
    assert list(out.brand) == ["A", "B", "C"] and out.is_target.iloc[0]
    assert pd.isna(out.avg_position.iloc[0]) and out.repeated_prompts.eq(0).all()
    with pytest.raises(ConfigError, match="cannot group"):
        ai_visibility(ibis.memtable(m, schema=MENTIONS_SCHEMA), "colour")
