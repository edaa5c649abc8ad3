"""Customer segments for personalisation: RFM segment, CLV tier, preferred channel and journey
shape, with each segment's typical journey and its own touchpoint scorecard (Ibis).

- ``journey_shape`` of a converting journey: where the customer researched (its touches
  before the purchase) × where they bought, from the catalogue's ``medium`` of each
  touchpoint (``physical`` = offline, ``digital``/``virtual`` = online): "researches online,
  buys in store", "researches online and offline, buys online", "no research, buys in store"…
  A customer's shape is the most frequent shape of their converting journeys (ties:
  alphabetical); customers without a purchase are "not converted yet".
- ``preferred_channel``: the channel of most of the customer's touches (non-conversion
  events; ties: alphabetical).
- ``rfm_segment``: :mod:`touchlens.loyalty.rfm` (customers without a purchase: "prospect").
- ``clv_tier`` (optional, from CLV predictions): top 20% of predicted CLV "high", the next
  30% "medium", the rest "low" (rank-based, ties by customer_id).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.loyalty.rfm import rfm_table

SEGMENT_BY = ("journey_shape", "rfm_segment", "preferred_channel", "clv_tier")
NOT_CONVERTED = "not converted yet"


def journey_shapes(tagged: ir.Table, media: ir.Table) -> ir.Table:
    """One row per converting journey: journey_id, customer_id, journey_shape."""
    m = media.select(_tp="touchpoint", _medium="medium")
    t = tagged.left_join(m, tagged.touchpoint == m._tp)
    offline = t._medium == "physical"
    online = t._medium.isin(["digital", "virtual"])
    research = ~t.is_conversion
    g = t.group_by(["journey_id", "customer_id"]).agg(
        _on=(research & online).any(), _off=(research & offline).any(),
        _buy_off=(t.is_conversion & offline).any(), _conv=t.is_conversion.any())
    g = g.filter(g._conv)
    where = ibis.cases(
        (g._on & g._off, "researches online and offline"),
        (g._on, "researches online"),
        (g._off, "researches in store"),
        else_="no research",
    )
    buy = ibis.ifelse(g._buy_off, "buys in store", "buys online")
    return g.select("journey_id", "customer_id", journey_shape=where + ", " + buy)


def _mode(t: ir.Table, key: str, value: str, *, shortest_first: bool = False) -> ir.Table:
    """Per ``key``, the most frequent ``value`` (ties: the shorter text first when
    ``shortest_first``, then alphabetical)."""
    counted = t.group_by([key, value]).agg(_n=t.count())
    order = [ibis.desc(counted._n)]
    if shortest_first:
        order.append(counted[value].length())
    w = ibis.window(group_by=counted[key], order_by=[*order, counted[value]])
    ranked = counted.mutate(_r=ibis.row_number().over(w))
    return ranked.filter(ranked._r == 0).select(key, value)


def customer_segments(tagged: ir.Table, purchase_table: ir.Table, media: ir.Table) -> ir.Table:
    """One row per customer: customer_id, rfm_segment, preferred_channel, journey_shape."""
    customers = tagged.select("customer_id").distinct()
    touches = tagged.filter(~tagged.is_conversion & tagged.channel.notnull())
    preferred = _mode(touches.select("customer_id", "channel"), "customer_id", "channel")
    shapes = _mode(journey_shapes(tagged, media), "customer_id", "journey_shape")
    rfm = rfm_table(purchase_table).select("customer_id", _seg="segment")
    out = customers.left_join(rfm, "customer_id")
    out = out.select("customer_id", "_seg").left_join(preferred, "customer_id")
    out = out.select("customer_id", "_seg", "channel").left_join(shapes, "customer_id")
    return out.select(
        "customer_id",
        rfm_segment=out._seg.fill_null("prospect"),
        preferred_channel=out.channel.fill_null("(none)"),
        journey_shape=out.journey_shape.fill_null(NOT_CONVERTED),
    )


def clv_tiers(clv: pd.DataFrame) -> pd.DataFrame:
    """customer_id, clv, clv_tier from CLV predictions (top 20% high, next 30% medium)."""
    if not {"customer_id", "clv"} <= set(clv.columns):
        raise ConfigError("CLV tiers need customer_id and clv columns")
    ranked = clv.sort_values(["clv", "customer_id"], ascending=[False, True], kind="stable")
    share = (pd.Series(range(len(ranked)), index=ranked.index) + 1) / max(len(ranked), 1)
    tier = pd.Series("low", index=ranked.index)
    tier[share <= 0.5] = "medium"
    tier[share <= 0.2] = "high"
    return pd.DataFrame({"customer_id": ranked["customer_id"].astype(str),
                         "clv": ranked["clv"], "clv_tier": tier}).reset_index(drop=True)


def segment_profiles(segments: ir.Table, journey_table: ir.Table, by: str) -> ir.Table:
    """One row per segment: segment, n_customers, n_journeys, n_conversions, conversion_rate
    (converting / all journeys), revenue, revenue_per_customer, typical_path (most frequent
    channel path of its converting journeys; ties: the shorter path)."""
    _check_by(by, segments)
    s = segments.select("customer_id", segment=segments[by])
    j = journey_table.inner_join(s, "customer_id")
    g = j.group_by("segment").agg(
        n_journeys=j.count(), n_conversions=j.converted.cast("int64").sum(),
        revenue=j.revenue.sum())
    sizes = s.group_by("segment").agg(n_customers=s.count())
    conv = j.filter(j.converted & (j.channel_path != ""))
    typical = _mode(conv.select("segment", path=conv.channel_path), "segment", "path",
                    shortest_first=True)
    out = sizes.left_join(g, "segment").select(
        "segment", "n_customers", "n_journeys", "n_conversions", "revenue")
    out = out.left_join(typical, "segment").select(
        "segment", "n_customers", "n_journeys", "n_conversions", "revenue", "path")
    n_j = out.n_journeys.fill_null(0)
    return out.select(
        "segment", "n_customers", n_journeys=n_j,
        n_conversions=out.n_conversions.fill_null(0),
        conversion_rate=ibis.ifelse(n_j > 0, out.n_conversions.cast("float64") / n_j, None),
        revenue=out.revenue.fill_null(0.0),
        revenue_per_customer=out.revenue.fill_null(0.0) / out.n_customers,
        typical_path=out.path,
    ).order_by([ibis.desc("n_customers"), "segment"])


def segment_scorecard(segments: ir.Table, tagged: ir.Table, journey_table: ir.Table,
                      by: str) -> ir.Table:
    """One row per segment × touchpoint: segment, touchpoint, channel, reach (customers
    touched), touches, journeys (containing it), converting_journeys, conversion_rate
    (DOMAIN.md: converting journeys containing it / journeys containing it)."""
    _check_by(by, segments)
    s = segments.select("customer_id", segment=segments[by])
    t = tagged.filter(~tagged.is_conversion & tagged.touchpoint.notnull())
    t = t.inner_join(s, "customer_id")
    conv = journey_table.select("journey_id", _converted="converted")
    per_journey = t.group_by(["segment", "touchpoint", "channel", "journey_id"]).agg(
        _touches=t.count())
    pj = per_journey.inner_join(conv, "journey_id")
    g = pj.group_by(["segment", "touchpoint", "channel"]).agg(
        touches=pj._touches.sum(), journeys=pj.count(),
        converting_journeys=pj._converted.cast("int64").sum())
    reach = t.group_by(["segment", "touchpoint"]).agg(reach=t.customer_id.nunique())
    out = g.inner_join(reach, ["segment", "touchpoint"])
    return out.select(
        "segment", "touchpoint", "channel", "reach", "touches", "journeys",
        "converting_journeys",
        conversion_rate=out.converting_journeys.cast("float64") / out.journeys,
    ).order_by(["segment", ibis.desc("reach"), "touchpoint"])


def _check_by(by: str, segments: ir.Table) -> None:
    if by not in SEGMENT_BY:
        raise ConfigError(f"segment by must be one of {list(SEGMENT_BY)}, not {by!r}")
    if by not in segments.columns:
        raise ConfigError(f"segments have no {by!r} column (clv_tier needs CLV predictions)")
