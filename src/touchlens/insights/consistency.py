"""Omnichannel consistency: do touchpoints that do the same job perform alike across channels?

**Purposes.** Each of the brand's own touchpoints (catalogue control = direct; third-party
touchpoints are not the brand's experience to align) gets the job its events show (first
rule that applies):
``support`` — support contacts (support_contact/chat/call events) at a retention-stage
touchpoint (support chat, call center); ``buy`` — it hosts conversions (web checkout, app
checkout, store till); otherwise the family of most of its events: ``browse`` (visit,
page_view, app_open, store_visit, add_to_cart, checkout), ``messaging`` (delivered, send,
open), ``advertising`` (impression); else its catalogue stage. ``purposes=`` overrides.
Within a purpose each channel is compared with the purpose's other channels:

- ``csat`` — top-2-box share (0..1) of its survey answers (n = ``csat_n``);
- ``conversion_rate`` — converting journeys / journeys with a (non-conversion) touch of that
  purpose in that channel;
- ``sentiment`` — mean comment sentiment (−1..1), when voice-of-customer results are given;
- ``resolution_hours`` (support) — per support episode (a customer's contacts with no gap
  over ``episode_days``, 7), hours from its first to its last contact, averaged; the episode
  belongs to the channel of its first contact; ``repeat_contact_rate`` = episodes with 2+
  contacts / episodes.

``*_gap`` = the channel's value − the pooled value of the purpose's other channels. A channel
**breaks the experience** when its CSAT (any purpose) or its conversion rate (purposes
``support``, ``buy``, ``browse``: the same job in another channel) is worse than the rest's
by at least 5 points with a two-proportion z-test p < 0.05 (both groups ≥ 30).
**Consistency index** of a purpose (0..100) = 100 × (1 − mean over the metrics of the range
across channels), ranges of rates in rate units, of sentiment on its 0..1 rescaling
((x + 1) / 2) and of resolution hours relative to the largest; channels below 30
answers/journeys stay out of a metric.

**Hand-offs.** Journeys that switch channel: per (from_channel, to_channel) pair of
consecutive channels among the customer's own moves (outbound delivered/send/impression
events left out), the journeys with that switch and their success (conversion) rate with a
Wilson interval, next to the rate of journeys that stay in one channel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy.stats import norm

from touchlens.insights.experience import SUPPORT_EVENT_TYPES
from touchlens.insights.inputs import stage_of
from touchlens.journeys.rollups import Rollup, register
from touchlens.metrics.cx import cx_counts, wilson
from touchlens.store.timestamps import epoch_seconds

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

MIN_N = 30
MIN_GAP = 0.05


BROWSE = ("visit", "page_view", "app_open", "store_visit", "add_to_cart", "checkout")
MESSAGING = ("delivered", "send", "open")
ADVERTISING = ("impression",)
SAME_JOB = ("support", "buy", "browse")


def event_mix(tagged: ir.Table) -> ir.Table:
    """Events per (touchpoint, event_type, is_conversion): the input of :func:`purpose_map`."""
    t = tagged.filter(tagged.touchpoint.notnull())
    return t.group_by(["touchpoint", "event_type", "is_conversion"]).agg(n=t.count())


def purpose_map(catalogue: pd.DataFrame, mix: pd.DataFrame,
                override: dict[str, str] | None = None) -> dict[str, str]:
    """touchpoint → purpose for the brand's own (control = direct) touchpoints (rules in the
    module docstring)."""
    stage = stage_of(catalogue)
    owned = set(catalogue.loc[catalogue["control"] == "direct", "touchpoint"])
    out: dict[str, str] = {}
    for tp, g in mix[mix["touchpoint"].isin(owned)].groupby("touchpoint"):
        types = set(g["event_type"])
        if stage.get(tp) == "retention" and types & set(SUPPORT_EVENT_TYPES):
            out[tp] = "support"
        elif g["is_conversion"].any():
            out[tp] = "buy"
        else:
            fam = {"browse": g.loc[g.event_type.isin(BROWSE), "n"].sum(),
                   "messaging": g.loc[g.event_type.isin(MESSAGING), "n"].sum(),
                   "advertising": g.loc[g.event_type.isin(ADVERTISING), "n"].sum()}
            best = max(fam, key=lambda k: fam[k])
            if fam[best] * 2 > g["n"].sum():
                out[tp] = best
            elif tp in stage:
                out[tp] = stage[tp]
    out.update(override or {})
    return out


# the event mix, stored with the journeys: events per key, a sum over customers
EVENT_MIX = register(Rollup("consistency_event_mix", ("touchpoint", "event_type",
                                                      "is_conversion"), event_mix,
                            ("touchpoint", "event_type", "is_conversion"), size="n"))


def workspace_purposes(ws: Workspace) -> dict[str, str]:
    """The purposes of ``ws``'s own touchpoints: :func:`purpose_map` of its catalogue and
    its (stored) event mix."""
    return purpose_map(ws.touchpoints(), ws.store.execute(ws.rollup(EVENT_MIX)))


def _purpose(touchpoint: ir.StringValue, purposes: dict[str, str]) -> ir.StringValue:
    if not purposes:
        return ibis.null().cast("string")
    return ibis.map(purposes).get(touchpoint)  # a lookup: cheaper than substitute's CASE


def channel_journeys(tagged: ir.Table, purposes: dict[str, str],
                     journeys: ir.Table | None = None) -> ir.Table:
    """Per (purpose, channel): customers, journeys and converting journeys. ``journeys``:
    ``tagged``'s journeys when stored (one row each, with ``converted``: read instead of
    grouping every event by journey again)."""
    t = tagged.mutate(purpose=_purpose(tagged.touchpoint, purposes))
    conv = (t.group_by("journey_id").agg(_converted=t.is_conversion.any()) if journeys is None
            else journeys.select("journey_id", _converted="converted"))
    touches = t.filter(~t.is_conversion & t.purpose.notnull())
    pairs = touches.group_by(["purpose", "channel", "journey_id"]).agg(
        _customer=touches.customer_id.max())
    j = pairs.join(conv, "journey_id")
    return j.group_by(["purpose", "channel"]).agg(
        customers=j._customer.nunique(), journeys=j.count(),
        converting=j._converted.cast("int64").sum())


# :func:`channel_journeys` stored with the journeys, built with the workspace's purposes: a
# customer counts once per (purpose, channel), each journey is one customer's
CHANNEL_JOURNEYS = register(Rollup(
    "consistency_channel_journeys", ("purpose", "channel"),
    lambda tagged, ctx: channel_journeys(tagged, ctx["purposes"]),
    ("touchpoint", "channel", "journey_id", "is_conversion"), size="journeys",
    context_of=lambda ws: purposes_context(workspace_purposes(ws))))


def purposes_context(purposes: dict[str, str]) -> dict[str, dict[str, str]]:
    """:data:`CHANNEL_JOURNEYS`' context: the purposes it is built with."""
    return {"purposes": purposes}


def channel_feedback(feedback: ir.Table, purposes: dict[str, str]) -> ir.Table:
    """Survey counts per (purpose, channel) of the answered touchpoint."""
    f = feedback.mutate(purpose=_purpose(feedback.touchpoint, purposes))
    f = f.filter(f.purpose.notnull() & f.channel.notnull())
    return cx_counts(f, ["purpose", "channel"])


def channel_sentiment(feedback: ir.Table, sentiment: ir.Table,
                      purposes: dict[str, str]) -> ir.Table:
    """Mean comment sentiment (−1..1) and its n per (purpose, channel)."""
    f = feedback.mutate(purpose=_purpose(feedback.touchpoint, purposes))
    s = sentiment.select(_rid="response_id", _s=sentiment.score.cast("float64"))
    j = f.join(s, f.response_id == s._rid)
    j = j.filter(j.purpose.notnull() & j.channel.notnull())
    return j.group_by(["purpose", "channel"]).agg(sentiment=j._s.mean(),
                                                  sentiment_n=j._s.count())


def support_episodes(tagged: ir.Table, purposes: dict[str, str], *,
                     episode_days: float = 7.0) -> ir.Table:
    """Per channel of the first contact: episodes, mean resolution hours, repeat contacts."""
    support = [tp for tp, p in purposes.items() if p == "support"]
    c = tagged.filter(tagged.touchpoint.isin(support or [""])
                      & tagged.event_type.isin(SUPPORT_EVENT_TYPES))
    w = ibis.window(group_by=c.customer_id, order_by=[c.occurred_at, c.event_id])
    gap = epoch_seconds(c.occurred_at) - epoch_seconds(c.occurred_at.lag().over(w))
    c = c.mutate(_new=(gap.isnull() | (gap > episode_days * 86400)).cast("int64"))
    c = c.mutate(_ep=c._new.sum().over(ibis.window(group_by=c.customer_id,
                                                    order_by=[c.occurred_at, c.event_id],
                                                    rows=(None, 0))))
    first = ibis.struct({"at": c.occurred_at, "id": c.event_id})
    ep = c.group_by(["customer_id", "_ep"]).agg(
        channel=c.channel.argmin(first), n=c.count(),
        hours=(epoch_seconds(c.occurred_at.max())
               - epoch_seconds(c.occurred_at.min())).cast("float64") / 3600.0)
    return ep.group_by("channel").agg(
        episodes=ep.count(), resolution_hours=ep.hours.mean(),
        repeat_contacts=(ep.n >= 2).cast("int64").sum())


def channel_handoffs(tagged: ir.Table) -> ir.Table:
    """Per (from_channel, to_channel): journeys with that switch and their conversions; the
    pair ``(single, single)`` holds the journeys that stay in one channel."""
    t = tagged.filter(~tagged.is_conversion & ~tagged.event_type.isin(
        ["delivered", "send", "impression"]))
    w = ibis.window(group_by=t.journey_id, order_by=[t.occurred_at, t.event_id])
    t = t.mutate(to_channel=t.channel.lead().over(w))
    conv = tagged.group_by("journey_id").agg(_converted=tagged.is_conversion.any())
    n_ch = t.group_by("journey_id").agg(_channels=t.channel.nunique())
    switches = t.filter(t.to_channel.notnull() & (t.to_channel != t.channel))
    pairs = switches.select("journey_id", from_channel="channel", to_channel="to_channel"
                            ).distinct().join(conv, "journey_id")
    single = n_ch.filter(n_ch._channels == 1).join(conv, "journey_id").select(
        "journey_id", from_channel=ibis.literal("single"), to_channel=ibis.literal("single"),
        _converted="_converted")
    both = pairs.union(single)
    return both.group_by(["from_channel", "to_channel"]).agg(
        journeys=both.count(), conversions=both._converted.cast("int64").sum())


def _two_prop_p(x1: pd.Series, n1: pd.Series, x0: pd.Series, n0: pd.Series) -> pd.Series:
    p1, p0 = x1 / n1, x0 / n0
    pool = (x1 + x0) / (n1 + n0)
    se = np.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n0))
    z = (p1 - p0) / se.where(se > 0)
    return pd.Series(2 * norm.sf(np.abs(z)), index=x1.index)


def _versus_rest(df: pd.DataFrame, x: str, n: str, name: str) -> pd.DataFrame:
    """Add ``name``, ``name_gap`` (vs the purpose's other channels) and ``name_p``."""
    tot_x = df.groupby("purpose")[x].transform("sum")
    tot_n = df.groupby("purpose")[n].transform("sum")
    rx, rn = tot_x - df[x], tot_n - df[n]
    ok = (df[n] >= MIN_N) & (rn >= MIN_N)
    rate = df[x] / df[n].where(df[n] > 0)
    df[name] = rate
    df[f"{name}_gap"] = (rate - rx / rn.where(rn > 0)).where(ok)
    df[f"{name}_p"] = _two_prop_p(df[x], df[n], rx, rn).where(ok)
    return df


def consistency_frame(journeys: pd.DataFrame, feedback: pd.DataFrame,
                      sentiment: pd.DataFrame | None, episodes: pd.DataFrame) -> pd.DataFrame:
    """One row per (purpose, channel) with the metrics, gaps, flags and the purpose index."""
    keys = {"purpose": object, "channel": object}  # empty Arrow-backed keys fail to merge
    df = journeys.astype(keys).merge(
        feedback[["purpose", "channel", "csat_n", "csat_top2"]].astype(keys),
        on=["purpose", "channel"], how="outer")
    for col in ("customers", "journeys", "converting", "csat_n", "csat_top2"):
        df[col] = df[col].fillna(0).astype("int64")
    df = _versus_rest(df, "csat_top2", "csat_n", "csat")
    df = _versus_rest(df, "converting", "journeys", "conversion_rate")
    if sentiment is not None and not sentiment.empty:
        df = df.merge(sentiment, on=["purpose", "channel"], how="left")
    else:
        df["sentiment"], df["sentiment_n"] = np.nan, 0
    ep = episodes.assign(purpose="support")
    df = df.merge(ep, on=["purpose", "channel"], how="left")
    df["repeat_contact_rate"] = df["repeat_contacts"] / df["episodes"].where(df["episodes"] > 0)
    reasons = []
    for r in df.itertuples():
        metrics = [("csat", "CSAT")]
        if r.purpose in SAME_JOB:
            metrics.append(("conversion_rate", "conversion"))
        why = [f"{label} {getattr(r, m):.0%} vs {getattr(r, m) - getattr(r, m + '_gap'):.0%}"
               f" in the other channels" for m, label in metrics
               if getattr(r, m + "_gap") <= -MIN_GAP and getattr(r, m + "_p") < 0.05]
        reasons.append("; ".join(why))
    df["breaks_experience"] = [bool(x) for x in reasons]
    df["reason"] = reasons
    df["consistency_index"] = df["purpose"].map(_indices(df))
    df["n_channels"] = df.groupby("purpose")["channel"].transform("count")
    cols = ["purpose", "channel", "n_channels", "consistency_index", "customers", "journeys",
            "conversion_rate", "conversion_rate_gap", "csat", "csat_n", "csat_gap",
            "sentiment", "sentiment_n", "resolution_hours", "repeat_contact_rate", "episodes",
            "breaks_experience", "reason"]
    df = df.sort_values(["purpose", "journeys", "channel"], ascending=[True, False, True])
    return df[cols].reset_index(drop=True)


def _indices(df: pd.DataFrame) -> dict[str, float]:
    out = {}
    for purpose, g in df.groupby("purpose"):
        ranges = []
        for value, n in (("csat", "csat_n"), ("conversion_rate", "journeys")):
            v = g.loc[g[n] >= MIN_N, value].dropna()
            if len(v) >= 2:
                ranges.append(v.max() - v.min())
        s = g.loc[g["sentiment_n"].fillna(0) >= MIN_N, "sentiment"].dropna()
        if len(s) >= 2:
            ranges.append((s.max() - s.min()) / 2)
        h = g.loc[g["episodes"].fillna(0) >= MIN_N, "resolution_hours"].dropna()
        if len(h) >= 2 and h.max() > 0:
            ranges.append((h.max() - h.min()) / h.max())
        out[purpose] = 100 * (1 - float(np.mean(ranges))) if ranges else np.nan
    return out


def handoffs_frame(counts: pd.DataFrame) -> pd.DataFrame:
    """Success rates of channel switches next to the single-channel journeys' rate."""
    single = counts[(counts.from_channel == "single") & (counts.to_channel == "single")]
    base = (float(single.conversions.sum() / single.journeys.sum())
            if len(single) and single.journeys.sum() else np.nan)
    df = counts.drop(single.index).copy()
    df["success_rate"] = df.conversions / df.journeys
    low, high = wilson(df.conversions, df.journeys)
    df["success_low"], df["success_high"] = low, high
    df["single_channel_rate"] = base
    df["vs_single_channel"] = df.success_rate - base
    df = df.sort_values(["journeys", "from_channel", "to_channel"],
                        ascending=[False, True, True])
    return df[["from_channel", "to_channel", "journeys", "conversions", "success_rate",
               "success_low", "success_high", "single_channel_rate",
               "vs_single_channel"]].reset_index(drop=True)
