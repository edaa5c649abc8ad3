"""RFM: recency, frequency and monetary value per customer, quintile scores and named segments
(Ibis expressions; run on DuckDB and Spark).

Grain: one row per customer with a purchase on or before ``as_of``.

- ``recency_days`` = as_of day − last purchase day (UTC days; 0 = bought on the as_of day).
- ``frequency`` = purchases (orders, see :func:`touchlens.loyalty.summary.purchases`).
- ``monetary`` = total revenue of those purchases.
- Scores 1–5: ``score = 1 + floor(5 · percent_rank)``, capped at 5, where percent_rank =
  (rank − 1)/(n − 1) with ties given their lowest rank (SQL ``PERCENT_RANK``). Higher is better:
  recency is ranked with the *oldest* purchase first. **Ties**: equal values always get the same
  score — the score of the first position of the tied block — so buckets can be uneven (e.g.
  every one-time buyer has F = 1). The lowest value scores 1, the highest scores 5 (n > 1); a
  lone customer scores 1.
- ``segment`` from (R, F), first matching rule (the common RFM grid):

  ============== ============ ==============================================
  segment        R            F
  ============== ============ ==============================================
  champions      5            4–5
  loyal          3–4          4–5
  potential      4–5          2–3   ("potential loyalists")
  new            5            1
  promising      4            1
  need_attention 3            3
  about_to_sleep 3            1–2
  cannot_lose    1–2          5
  at_risk        1–2          3–4
  hibernating    1–2          1–2
  ============== ============ ==============================================
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from touchlens.loyalty.summary import day_index

SEGMENT_RULES: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("champions", (5,), (4, 5)),
    ("loyal", (3, 4), (4, 5)),
    ("potential", (4, 5), (2, 3)),
    ("new", (5,), (1,)),
    ("promising", (4,), (1,)),
    ("need_attention", (3,), (3,)),
    ("about_to_sleep", (3,), (1, 2)),
    ("cannot_lose", (1, 2), (5,)),
    ("at_risk", (1, 2), (3, 4)),
    ("hibernating", (1, 2), (1, 2)),
)
SEGMENTS: tuple[str, ...] = tuple(name for name, _, _ in SEGMENT_RULES)


def quintile_score(value: ir.NumericColumn, *, descending: bool = False) -> ir.IntegerColumn:
    """1 + floor(5 · percent_rank) capped at 5 (ties share their lowest rank's score)."""
    order = ibis.desc(value) if descending else value
    pr = ibis.percent_rank().over(ibis.window(order_by=order))
    return ibis.least(1 + (pr * 5).floor().cast("int64"), 5)


def segment_of(r: ir.IntegerValue, f: ir.IntegerValue) -> ir.StringValue:
    """The named segment of an (R, F) score pair (rules in the module docstring)."""
    cases = [(r.isin(rs) & f.isin(fs), name) for name, rs, fs in SEGMENT_RULES]
    return ibis.cases(*cases, else_="hibernating")


def rfm_table(purchase_table: ir.Table, *, as_of: Any = None) -> ir.Table:
    """customer_id, recency_days, frequency, monetary, r_score, f_score, m_score, rfm_score
    (e.g. "545"), segment."""
    p = purchase_table
    end: Any
    if as_of is None:
        end = p.day.max().as_scalar()
    else:
        end = ibis.literal(day_index(as_of), "int64")
        p = p.filter(p.day <= end)
    agg = p.group_by("customer_id").agg(
        _last=p.day.max(), frequency=p.count(), monetary=p.revenue.sum())
    base = agg.select(
        "customer_id",
        recency_days=(end - agg._last).cast("int64"),
        frequency=agg.frequency.cast("int64"),
        monetary=agg.monetary.cast("float64"),
    )
    scored = base.mutate(
        r_score=quintile_score(base.recency_days, descending=True),
        f_score=quintile_score(base.frequency),
        m_score=quintile_score(base.monetary),
    )
    return scored.mutate(
        rfm_score=scored.r_score.cast("string") + scored.f_score.cast("string")
        + scored.m_score.cast("string"),
        segment=segment_of(scored.r_score, scored.f_score),
    )


def rfm_segments(rfm: ir.Table) -> ir.Table:
    """One row per segment: segment, n_customers, share, recency_days (mean), frequency
    (mean), monetary (mean), revenue (total)."""
    total = rfm.count().as_scalar()
    g = rfm.group_by("segment").agg(
        n_customers=rfm.count(),
        recency_days=rfm.recency_days.mean(),
        frequency=rfm.frequency.mean(),
        monetary=rfm.monetary.mean(),
        revenue=rfm.monetary.sum(),
    )
    return g.mutate(share=g.n_customers.cast("float64") / total).order_by(
        [ibis.desc("revenue"), "segment"])
