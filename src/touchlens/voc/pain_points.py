"""Topic volumes, sentiment and trends, and pain points (topic × touchpoint), from the stored
per-text results (``voc_texts``, ``voc_aspects``) joined to ``feedback`` — all Ibis
aggregations; pandas only combines the aggregated counts.

Topics (one row per topic): n_mentions, share_of_texts, n_negative, share_negative,
avg_score (mean aspect score), the touchpoints the topic points at, and the trend — the change
of share_negative between the last two periods (``trend_delta``, percentage points) with a
pooled two-proportion z-test (``trend_p_value``), labelled rising / falling / stable.

Pain points (one row per topic × touchpoint where the feedback was given):
n_mentions, n_negative, share_negative, avg_score, csat and nps at the touchpoint, the
CSAT gap = CSAT of the touchpoint's other responses − CSAT of responses with a negative
mention of the topic (points), and ``impact`` = CSAT gap × n_negative / responses at the
touchpoint: the CSAT points the touchpoint would gain if those responses scored like the
others. Ranked by impact, then negative volume; ``small_n`` when the touchpoint has fewer than
30 CSAT answers. Example verbatims are pseudonymised.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy import stats

from touchlens.metrics.cx import MIN_N, cx_aggregates, cx_scores
from touchlens.voc.scores import with_period
from touchlens.voc.text import pseudonymise

TOPIC_COLUMNS = ("topic", "touchpoints", "n_mentions", "share_of_texts", "n_negative",
                 "share_negative", "n_positive", "avg_score", "period", "trend_delta",
                 "trend_p_value", "trend")
PAIN_COLUMNS = ("rank", "topic", "touchpoint", "n_mentions", "n_negative", "share_negative",
                "avg_score", "csat", "csat_n", "nps", "nps_n", "csat_gap", "impact",
                "trend_delta", "trend", "small_n", "examples")


def mentions(feedback: ir.Table, aspects: ir.Table) -> ir.Table:
    """One row per response × topic, with the response's touchpoint, time and scores."""
    fb = feedback.select("response_id", "occurred_at", "touchpoint", "channel", "text",
                         "nps", "csat", "ces")
    return aspects.join(fb, "response_id")


def _trend(per_period: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Last period vs the one before: share negative delta (points), p-value and label."""
    per_period = per_period.assign(period=pd.to_datetime(per_period["period"]).dt.date)
    rows = []
    for key, g in per_period.sort_values("period").groupby(keys, sort=False):
        g = g.tail(2)
        row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
        row.update(period=g.period.iloc[-1], trend_delta=np.nan, trend_p_value=np.nan,
                   trend="n/a")
        if len(g) == 2:
            x1, n1, x2, n2 = (float(v) for v in (g.n_negative.iloc[0], g.n_mentions.iloc[0],
                                                  g.n_negative.iloc[1], g.n_mentions.iloc[1]))
            pooled = (x1 + x2) / (n1 + n2)
            se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
            delta = x2 / n2 - x1 / n1
            p = float(2 * stats.norm.sf(abs(delta / se))) if se > 0 else 1.0
            row.update(trend_delta=100 * delta, trend_p_value=p,
                       trend=("rising" if delta > 0 else "falling") if p < 0.05 else "stable")
        rows.append(row)
    return pd.DataFrame(rows, columns=[*keys, "period", "trend_delta", "trend_p_value",
                                       "trend"])


def _volumes(m: ir.Table, keys: list[str]) -> ir.Table:
    """Mention counts per ``keys``; every column is a sum over mentions (so the counts of
    coarser keys are their sums — :func:`_summed`): mentions, negative and positive ones,
    the aspect scores' sum and number, and the CSAT answers (n, top-2-box) of the
    responses with a negative mention."""
    neg = m.aspect_sentiment == "negative"
    return m.group_by(keys).agg(
        n_mentions=m.count(), n_negative=neg.cast("int64").sum(),
        n_positive=(m.aspect_sentiment == "positive").cast("int64").sum(),
        score_sum=m.aspect_score.cast("float64").sum(), score_n=m.aspect_score.count(),
        neg_csat_n=m.csat.count(where=neg),
        neg_csat_top2=((m.csat >= 4) & neg).cast("int64").sum())


def _summed(per: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """:func:`_volumes` per ``keys`` from its rows per ``keys`` + period, with
    ``avg_score`` = mean aspect score (NaN where no mention is scored)."""
    counts = [c for c in per.columns if c not in keys and c != "period"]
    vol = per.groupby(keys, as_index=False, sort=False, dropna=False)[counts].sum(min_count=0)
    n = vol["score_n"].astype("float64")
    return vol.assign(avg_score=vol["score_sum"].astype("float64") / n.where(n > 0))


def topic_table(execute: callable, feedback: ir.Table, texts: ir.Table, aspects: ir.Table,
                touchpoints: dict[str, tuple[str, ...]], period: str = "month") -> pd.DataFrame:
    """One row per topic (see the module docstring); columns :data:`TOPIC_COLUMNS`."""
    m = mentions(feedback, aspects)
    per = execute(_volumes(with_period(m, period), ["topic", "period"]))
    vol = _summed(per, ["topic"])
    n_texts = int(execute(texts.filter(texts.sentiment.notnull()).count().as_table()).iloc[0, 0])
    out = vol.merge(_trend(per, ["topic"]), on="topic", how="left") if len(per) else vol
    out["share_of_texts"] = out.n_mentions / n_texts if n_texts else np.nan
    out["share_negative"] = out.n_negative / out.n_mentions
    out["touchpoints"] = out.topic.map(lambda t: ", ".join(touchpoints.get(t, ())))
    for col in TOPIC_COLUMNS:
        if col not in out.columns:
            out[col] = np.nan
    return out.sort_values(["n_mentions", "topic"], ascending=[False, True])[
        list(TOPIC_COLUMNS)].reset_index(drop=True)


def pain_point_table(execute: callable, feedback: ir.Table, aspects: ir.Table, *,
                     period: str = "month", top: int | None = 20,
                     examples: int = 2) -> pd.DataFrame:
    """Topic × touchpoint pain points ranked by impact (columns :data:`PAIN_COLUMNS`).
    Two queries: the mentions per topic × touchpoint × period (the totals are their sums)
    and the survey counts per touchpoint."""
    m = mentions(feedback, aspects)
    m = m.filter(m.touchpoint.notnull())
    keys = ["topic", "touchpoint"]
    per = execute(_volumes(with_period(m, period), [*keys, "period"]))
    if per.empty:
        return pd.DataFrame(columns=list(PAIN_COLUMNS))
    vol = _summed(per, keys)
    fb = feedback.filter(feedback.touchpoint.notnull())
    counts = execute(fb.group_by("touchpoint").agg(**cx_aggregates(fb), n_responses=fb.count()))
    at_tp = cx_scores(counts)[["touchpoint", "n_responses", "csat", "csat_n", "nps", "nps_n"]]
    at_tp = at_tp.assign(tp_csat_n=counts["csat_n"].fillna(0).to_numpy(),
                         tp_csat_top2=counts["csat_top2"].fillna(0).to_numpy())
    out = vol.merge(at_tp, on="touchpoint", how="left")
    out = out.fillna({"neg_csat_n": 0, "neg_csat_top2": 0})
    other_n = out.tp_csat_n - out.neg_csat_n
    with np.errstate(invalid="ignore", divide="ignore"):
        csat_neg = 100 * out.neg_csat_top2 / out.neg_csat_n.where(out.neg_csat_n > 0)
        csat_other = 100 * (out.tp_csat_top2 - out.neg_csat_top2) / other_n.where(other_n > 0)
    out["csat_gap"] = csat_other - csat_neg
    out["impact"] = out.csat_gap * out.n_negative / out.n_responses
    out["share_negative"] = out.n_negative / out.n_mentions
    out["small_n"] = out.csat_n.fillna(0) < MIN_N
    out = out.merge(_trend(per, keys).drop(columns=["period"]), on=keys, how="left")
    out = out[out.n_negative > 0].sort_values(
        ["impact", "n_negative", "topic", "touchpoint"], ascending=[False, False, True, True],
        na_position="last").reset_index(drop=True)
    if top:
        out = out.head(top)
    out["rank"] = np.arange(1, len(out) + 1)
    negm = m.filter(m.aspect_sentiment == "negative")
    out["examples"] = _examples(execute, negm, out, examples)
    return out[list(PAIN_COLUMNS)].reset_index(drop=True)


def _examples(execute: callable, negm: ir.Table, ranked: pd.DataFrame, k: int) -> list[list[str]]:
    """Up to ``k`` most negative verbatims per ranked (topic, touchpoint), pseudonymised."""
    if ranked.empty or k <= 0:
        return [[] for _ in range(len(ranked))]
    w = ibis.window(group_by=["topic", "touchpoint"], order_by=[negm.aspect_score,
                                                                 negm.response_id])
    picked = negm.mutate(rn=ibis.row_number().over(w))
    picked = picked.filter((picked.rn < k) & picked.topic.isin(ranked.topic.unique().tolist()))
    df = execute(picked.select("topic", "touchpoint", "text", "rn"))
    by_key: dict[tuple[str, str], list[str]] = {}
    for row in df.sort_values("rn").itertuples(index=False):
        by_key.setdefault((row.topic, row.touchpoint), []).append(pseudonymise(str(row.text)))
    return [by_key.get((t, p), []) for t, p in zip(ranked.topic, ranked.touchpoint, strict=True)]
