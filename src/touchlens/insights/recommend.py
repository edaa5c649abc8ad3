"""What to fix first: a ranked list of actions, each with its evidence, impact and metric.

Sources (one row each):

- ``pain_point`` — a touchpoint × signal whose bad experiences go with fewer conversions
  (revenue at risk, :mod:`touchlens.insights.moments`); money = revenue at risk per month.
- ``moment_of_truth`` — a significant gap on repeat purchase or later NPS without a money
  figure (the conversion gap is not significant).
- findings without a money figure: ``inconsistent_channel`` (a channel that breaks the
  experience of a purpose, :mod:`touchlens.insights.consistency` — channel differences are
  descriptive, not effects) and the seed-003 best-practice checks: ``unmonitored`` (an owned
  purchase/retention touchpoint reaching ≥ 5% of customers that collects no feedback),
  ``rising_negative_feedback`` (the share of bad answers — CSAT ≤ 2, CES ≤ 3 or NPS ≤ 6 —
  at a touchpoint rose by ≥ 5 points between the two last ``trend_days`` windows, p < 0.05;
  and every voice-of-customer topic whose negative share is rising),
  ``no_personalization`` (the brand's outbound messages — delivered/send/impression — have
  nearly the same touchpoint mix for prospects and for buyers: Jensen-Shannon divergence
  < 0.02 bits), ``duplicated_messages`` (≥ 5% of a touchpoint's recipients got a burst) and
  ``no_owned_touchpoint``.

Ranking: score = money per month × confidence, confidence = 1 − p-value (1 for the checks);
actions with money come first by score; then moments of truth, then inconsistent channels and
rising complaints, then the other checks, each tier by customers affected × confidence.
"""

from __future__ import annotations

import math

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy.stats import norm

from touchlens.journeys.rollups import Rollup, register
from touchlens.journeys.touchpoints import MESSAGE_TYPES

COLUMNS = ("rank", "action", "kind", "touchpoint", "customers_affected", "money_per_month",
           "money_low", "money_high", "currency", "confidence", "score", "evidence",
           "metric_to_watch", "estimate")
UNMONITORED_SHARE = 0.05
BURST_SHARE = 0.05
JSD_BITS = 0.02
RISE = 0.05


def feedback_trend(feedback: ir.Table, *, trend_days: float = 30.0) -> ir.Table:
    """Per touchpoint: answers and bad answers in the last and the previous window."""
    f = feedback.filter(feedback.touchpoint.notnull())
    end = f.occurred_at.max().as_scalar()
    span = ibis.interval(seconds=round(trend_days * 86400))
    recent = f.occurred_at > end - span
    before = (f.occurred_at > end - span - span) & ~recent
    bad = ((f.csat <= 2).fill_null(False) | (f.ces <= 3).fill_null(False)
           | (f.nps <= 6).fill_null(False))
    return f.group_by("touchpoint").agg(
        n_recent=recent.cast("int64").sum(), bad_recent=(recent & bad).cast("int64").sum(),
        n_before=before.cast("int64").sum(), bad_before=(before & bad).cast("int64").sum())


def message_mix(tagged: ir.Table) -> ir.Table:
    """Outbound messages per (audience, touchpoint); audience = prospect (before the
    customer's first conversion) or buyer."""
    t = tagged
    first = ibis.ifelse(t.is_conversion, t.occurred_at, ibis.null()).min().over(
        ibis.window(group_by=t.customer_id))
    t = t.mutate(_first=first)
    m = t.filter(t.event_type.isin(MESSAGE_TYPES) & t.touchpoint.notnull())
    audience = ibis.ifelse(m._first.notnull() & (m.occurred_at > m._first), "buyer", "prospect")
    m = m.mutate(audience=audience)
    return m.group_by(["audience", "touchpoint"]).agg(n=m.count())


# a sum over customers (each one's messages, counted before or after their own first
# conversion): kept with the journey cache (10M events: the window over every event ~0.7 s)
MESSAGE_MIX = register(Rollup("recommend_message_mix", ("audience", "touchpoint"), message_mix,
                              ("customer_id", "is_conversion", "occurred_at", "event_type",
                               "touchpoint"), size="n"))


def js_divergence(mix: pd.DataFrame) -> float:
    """Jensen-Shannon divergence (bits) between the prospect and buyer message mixes."""
    wide = mix.pivot_table(index="touchpoint", columns="audience", values="n",
                           aggfunc="sum", fill_value=0)
    if not {"prospect", "buyer"} <= set(wide.columns):
        return math.nan
    p = wide["prospect"].to_numpy(float)
    q = wide["buyer"].to_numpy(float)
    if p.sum() == 0 or q.sum() == 0:
        return math.nan
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(a: np.ndarray, b: np.ndarray) -> float:
        ok = a > 0
        return float((a[ok] * np.log2(a[ok] / b[ok])).sum())

    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


def _row(**kw: object) -> dict:
    return {c: kw.get(c) for c in COLUMNS}


def _signal_action(tp: str, signal: str) -> tuple[str, str]:
    if signal.startswith("error:"):
        kind = signal.split(":", 1)[1].replace("_", " ")
        return f"fix {kind} at {tp}", f"share of {tp} events with {kind}"
    if signal == "support":
        return (f"remove the reasons customers contact {tp}",
                f"support contacts per order ({tp})")
    if signal == "sentiment":
        return f"act on the negative comments about {tp}", f"negative comment share at {tp}"
    return f"improve the experience at {tp} (low CSAT/CES)", f"CSAT / CES at {tp}"


def pain_point_actions(risk: pd.DataFrame, moments: pd.DataFrame,
                       scores: pd.DataFrame) -> list[dict]:
    """Rows for pain points with money at risk and for money-less moments of truth."""
    rows = []
    money: set[tuple[str, str]] = set()
    csat = scores.set_index("touchpoint")["csat"] if not scores.empty else pd.Series(
        dtype=float)
    for r in risk.itertuples():
        if not (r.significant and r.lost_rate > 0):
            continue
        m = moments[(moments.touchpoint == r.touchpoint) & (moments.signal == r.signal)
                    & (moments.outcome == "conversion")].iloc[0]
        action, watch = _signal_action(r.touchpoint, r.signal)
        ev = (f"{int(r.affected_customers):,} customers affected; conversion "
              f"{m.mean_bad:.0%} after a bad experience vs {m.mean_good:.0%} after a good one "
              f"(adjusted gap {m.gap:+.1%}, 95% CI {m.gap_low:+.1%} … {m.gap_high:+.1%})")
        if r.touchpoint in csat.index and not pd.isna(csat[r.touchpoint]):
            other = scores.loc[scores.touchpoint != r.touchpoint, "csat"].mean()
            ev += f"; CSAT {csat[r.touchpoint]:.0%} vs {other:.0%} elsewhere"
        conf = 1 - float(r.p_value)
        money.add((r.touchpoint, r.signal))
        rows.append(_row(action=action, kind="pain_point", touchpoint=r.touchpoint,
                         customers_affected=int(r.affected_customers),
                         money_per_month=r.per_month, money_low=r.per_month_low,
                         money_high=r.per_month_high, currency=r.currency, confidence=conf,
                         score=max(r.per_month, 0.0) * conf, evidence=ev,
                         metric_to_watch=watch, estimate="observational"))
    mot = moments.moment_of_truth.astype(bool) & (moments.outcome != "conversion")
    for m in moments.loc[mot].itertuples():
        if (m.touchpoint, m.signal) in money:
            continue
        action, watch = _signal_action(m.touchpoint, m.signal)
        unit = "NPS points" if m.outcome == "nps" else "pp"
        scale = 1 if m.outcome == "nps" else 100
        ev = (f"moment of truth: {m.outcome.replace('_', ' ')} {m.mean_bad * scale:.0f} after "
              f"a bad experience vs {m.mean_good * scale:.0f} after a good one (adjusted "
              f"{m.gap * scale:+.0f} {unit}, 95% CI {m.gap_low * scale:+.0f} … "
              f"{m.gap_high * scale:+.0f}); {int(m.affected_customers):,} customers affected")
        rows.append(_row(action=action, kind="moment_of_truth", touchpoint=m.touchpoint,
                         customers_affected=int(m.affected_customers),
                         confidence=1 - float(m.p_value), evidence=ev,
                         metric_to_watch=watch, estimate="observational"))
        money.add((m.touchpoint, m.signal))
    return rows


def consistency_actions(cons: pd.DataFrame) -> list[dict]:
    """Rows for channels that break the experience of a purpose (descriptive: channel
    differences are not effects, so no money figure is attached)."""
    rows = []
    for r in cons.loc[cons.breaks_experience.astype(bool)].itertuples():
        rows.append(_row(action=f"bring {r.channel} in line for {r.purpose}",
                         kind="inconsistent_channel", touchpoint=None,
                         customers_affected=int(r.customers), confidence=1.0,
                         evidence=f"{r.channel} ({r.purpose}): {r.reason}",
                         metric_to_watch=f"CSAT and conversion of {r.purpose} in {r.channel}",
                         estimate="descriptive"))
    return rows


def check_actions(touchpoints: pd.DataFrame, gaps: pd.DataFrame, trend: pd.DataFrame,
                  jsd: float, n_customers: int, *, attributed: pd.Series | None = None,
                  months: float = 1.0) -> list[dict]:
    """The seed-003 best-practice checks as findings; ``attributed`` (revenue credited per
    touchpoint by the attribution layer) is quoted as the value flowing through an
    unmonitored touchpoint."""
    rows = []
    credit = attributed if attributed is not None else pd.Series(dtype="float64")
    tp = touchpoints
    answered = tp.csat_n + tp.nps_n + tp.ces_n
    key = tp[tp.owned & tp.stage.isin(["purchase", "retention"]) & (answered == 0)
             & (tp.reach >= UNMONITORED_SHARE * max(n_customers, 1))]
    for r in key.itertuples():
        ev = (f"{int(r.reach):,} customers ({r.share_of_customers:.0%}) pass {r.touchpoint} "
              f"({r.stage}); no survey answer about it")
        if r.touchpoint in credit.index and pd.notna(credit[r.touchpoint]):
            ev += f"; attributed revenue {credit[r.touchpoint] / months:,.0f} per month"
        rows.append(_row(action=f"start collecting feedback at {r.touchpoint}",
                         kind="unmonitored", touchpoint=r.touchpoint,
                         customers_affected=int(r.reach), confidence=1.0, evidence=ev,
                         metric_to_watch=f"responses and CSAT at {r.touchpoint}",
                         estimate="descriptive"))
    for r in trend.itertuples():
        if min(r.n_recent, r.n_before) < 30:
            continue
        p1, p0 = r.bad_recent / r.n_recent, r.bad_before / r.n_before
        pool = (r.bad_recent + r.bad_before) / (r.n_recent + r.n_before)
        se = math.sqrt(pool * (1 - pool) * (1 / r.n_recent + 1 / r.n_before))
        p = 2 * norm.sf(abs(p1 - p0) / se) if se > 0 else 1.0
        if p1 - p0 >= RISE and p < 0.05:
            rows.append(_row(action=f"respond to rising complaints at {r.touchpoint}",
                             kind="rising_negative_feedback", touchpoint=r.touchpoint,
                             customers_affected=int(r.bad_recent), confidence=1 - p,
                             evidence=f"bad answers {p1:.0%} in the last window vs {p0:.0%} "
                                      f"before (n = {int(r.n_recent)} / {int(r.n_before)})",
                             metric_to_watch=f"share of bad answers at {r.touchpoint}",
                             estimate="descriptive"))
    if not math.isnan(jsd) and jsd < JSD_BITS:
        rows.append(_row(action="personalise messages for prospects and buyers",
                         kind="no_personalization", customers_affected=n_customers,
                         confidence=1.0, evidence=f"prospects and buyers get nearly the same "
                         f"message mix (Jensen-Shannon divergence {jsd:.3f} bits)",
                         metric_to_watch="divergence of the message mix by segment",
                         estimate="descriptive"))
    for g in gaps.itertuples():
        if g.kind == "duplicated_messages" and g.share >= BURST_SHARE:
            rows.append(_row(action=f"cap the frequency of {g.touchpoint}",
                             kind="duplicated_messages", touchpoint=g.touchpoint,
                             customers_affected=int(g.n), confidence=1.0, evidence=g.detail,
                             metric_to_watch=f"messages per customer per day ({g.touchpoint})",
                             estimate="descriptive"))
        elif g.kind == "no_owned_touchpoint":
            rows.append(_row(action=f"add an owned touchpoint in {g.stage}",
                             kind="no_owned_touchpoint", confidence=1.0, evidence=g.detail,
                             metric_to_watch=f"reach of owned touchpoints in {g.stage}",
                             estimate="descriptive"))
    return rows


def topic_actions(topics: pd.DataFrame | None) -> list[dict]:
    """Rising negative topics from the voice of customer (``trend == "rising"``)."""
    if topics is None or topics.empty or "trend" not in topics:
        return []
    rows = []
    for r in topics[topics["trend"] == "rising"].itertuples():
        p = float(getattr(r, "trend_p_value", float("nan")))
        rows.append(_row(action=f"respond to rising complaints about {r.topic}",
                         kind="rising_negative_feedback", touchpoint=None,
                         customers_affected=int(r.n_negative),
                         confidence=1 - p if not math.isnan(p) else 1.0,
                         evidence=f"negative share of {r.topic} up {r.trend_delta:+.0f} points "
                                  f"in the last period ({int(r.n_negative):,} negative "
                                  f"mentions; touchpoints: {r.touchpoints})",
                         metric_to_watch=f"negative share of {r.topic} comments",
                         estimate="descriptive"))
    return rows


KIND_ORDER = {"pain_point": 0, "moment_of_truth": 1, "inconsistent_channel": 2,
              "rising_negative_feedback": 2, "unmonitored": 3, "duplicated_messages": 3,
              "no_personalization": 3, "no_owned_touchpoint": 3}


def rank(rows: list[dict]) -> pd.DataFrame:
    """Money-valued actions by score; then moments of truth, then inconsistencies and rising
    complaints, then the other checks — each by customers affected × confidence."""
    df = pd.DataFrame(rows, columns=list(COLUMNS))
    if df.empty:
        return df
    has = df["score"].notna()
    df["_tier"] = np.where(has, -1, df["kind"].map(KIND_ORDER).fillna(4))
    df["_key"] = np.where(has, df["score"].fillna(0.0),
                          df["customers_affected"].fillna(0) * df["confidence"].fillna(1.0))
    df = df.sort_values(["_tier", "_key", "action"], ascending=[True, False, True],
                        kind="stable")
    df = df.drop(columns=["_tier", "_key"])
    df["rank"] = np.arange(1, len(df) + 1)
    return df.reset_index(drop=True)
