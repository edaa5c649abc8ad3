"""Cohort retention and churn rate (Ibis expressions; DuckDB and Spark).

- A customer is *active* in a period (week, month or quarter, UTC calendar; weeks start on
  Monday) when they made a purchase in it.
- **Retention** of cohort c after k periods = customers of c active in their k-th period after
  the first purchase / customers in c (k = 0 is the first-purchase period: 100%).
  Cohorts are the first-purchase period (``by="period"``) or the acquisition channel or
  touchpoint: the channel/touchpoint of the customer's first event of any kind (the first touch
  of their first journey; ties broken by event_id).
- **Churn rate** of period P (DOMAIN.md) = customers active in P−1 who are not active in P /
  customers active in P−1. The latest period in the data is usually partial: read it with care.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from touchlens.errors import ConfigError

PERIODS = ("week", "month", "quarter")
COHORT_BY = ("period", "channel", "touchpoint")
_TRUNC = {"week": "W", "month": "M", "quarter": "Q"}


def _check_period(period: str) -> None:
    if period not in PERIODS:
        raise ConfigError(f"period must be one of {list(PERIODS)}, not {period!r}")


def period_number(ts: ir.TimestampValue, period: str) -> ir.IntegerValue:
    """Consecutive integer of the calendar period holding ``ts`` (UTC)."""
    _check_period(period)
    if period == "month":
        return ts.year() * 12 + ts.month() - 1
    if period == "quarter":
        return ts.year() * 4 + (ts.month() - 1) // 3
    start = ts.truncate("W").epoch_seconds()  # a Monday 00:00 UTC
    return ((start - 4 * 86400) / (7 * 86400)).round().cast("int64")


def period_start(ts: ir.TimestampValue, period: str) -> ir.DateValue:
    """First day of the period holding ``ts``."""
    _check_period(period)
    return ts.truncate(_TRUNC[period]).date()


def number_start(n: ir.IntegerValue, period: str) -> ir.DateValue:
    """First day of the period numbered ``n`` (inverse of :func:`period_number`)."""
    _check_period(period)
    if period == "month":
        return ibis.date(n // 12, n % 12 + 1, 1)
    if period == "quarter":
        return ibis.date(n // 4, (n % 4) * 3 + 1, 1)
    return ibis.date(1970, 1, 5) + (n * 7).as_interval("D")


def activity(purchase_table: ir.Table, period: str = "month") -> ir.Table:
    """One row per customer per active period: customer_id, period (number), period_start."""
    p = purchase_table
    act = p.select("customer_id", period=period_number(p.occurred_at, period),
                   period_start=period_start(p.occurred_at, period))
    return act.distinct()


def acquisition(events: ir.Table) -> ir.Table:
    """One row per customer: customer_id, acquired_at, acquisition_touchpoint,
    acquisition_channel (their first event of any kind)."""
    ev = events.filter(events.customer_id.notnull())
    w = ibis.window(group_by=ev.customer_id, order_by=[ev.occurred_at, ev.event_id])
    ranked = ev.mutate(_n=ibis.row_number().over(w))
    first = ranked.filter(ranked._n == 0)
    return first.select("customer_id", acquired_at=first.occurred_at,
                        acquisition_touchpoint=first.touchpoint.fill_null("(unknown)"),
                        acquisition_channel=first.channel.fill_null("(unknown)"))


def cohort_retention(purchase_table: ir.Table, *, period: str = "month", by: str = "period",
                     events: ir.Table | None = None, max_periods: int | None = None
                     ) -> ir.Table:
    """Retention table, one row per cohort × period offset: cohort (first-purchase period
    start as ISO date text, or the acquisition channel/touchpoint), period (offset k ≥ 0),
    n_customers (cohort size), n_active, retention = n_active / n_customers."""
    if by not in COHORT_BY:
        raise ConfigError(f"by must be one of {list(COHORT_BY)}, not {by!r}")
    act = activity(purchase_table, period)
    first = act.group_by("customer_id").agg(
        _first=act.period.min(), _first_start=act.period_start.min())
    if by == "period":
        first = first.mutate(cohort=first._first_start.cast("string"))
    else:
        if events is None:
            raise ConfigError(f"cohorts by {by} need the events table")
        acq = acquisition(events)
        first = first.left_join(acq, "customer_id")
        first = first.mutate(cohort=first[f"acquisition_{by}"].fill_null("(unknown)"))
    sizes = first.group_by("cohort").agg(n_customers=first.count())
    joined = act.inner_join(first.select("customer_id", "cohort", "_first"), "customer_id")
    joined = joined.mutate(offset=(joined.period - joined._first).cast("int64"))
    if max_periods is not None:
        joined = joined.filter(joined.offset <= max_periods)
    counts = joined.group_by(["cohort", "offset"]).agg(n_active=joined.count())
    table = counts.inner_join(sizes, "cohort")
    return table.select(
        "cohort", period=table.offset, n_customers=table.n_customers.cast("int64"),
        n_active=table.n_active.cast("int64"),
        retention=table.n_active.cast("float64") / table.n_customers,
    ).order_by(["cohort", "period"])


def churn_rates(purchase_table: ir.Table, *, period: str = "month") -> ir.Table:
    """One row per period with a previous period in the data: period_start, n_active_start
    (active in the previous period), n_retained, n_churned, churn_rate, n_active (active in
    this period), n_new (first purchase in this period)."""
    act = activity(purchase_table, period)
    nxt = act.select(customer_id=act.customer_id, _p=act.period - 1)
    j = act.left_join(nxt, [act.customer_id == nxt.customer_id, act.period == nxt._p])
    prev = j.group_by(_target=j.period + 1).agg(
        n_active_start=j.count(), n_retained=j._p.notnull().cast("int64").sum())
    firsts = act.group_by("customer_id").agg(_first=act.period.min())
    cur_j = act.inner_join(firsts, "customer_id")
    cur = cur_j.group_by(_p2=cur_j.period).agg(
        n_active=cur_j.count(), n_new=(cur_j.period == cur_j._first).cast("int64").sum())
    bounds = act.aggregate(_hi=act.period.max())
    t = prev.left_join(cur, prev._target == cur._p2).cross_join(bounds)
    t = t.filter(t._target <= t._hi)
    n_churned = t.n_active_start - t.n_retained
    return t.select(
        period_start=number_start(t._target, period),
        n_active_start=t.n_active_start.cast("int64"),
        n_retained=t.n_retained.cast("int64"),
        n_churned=n_churned.cast("int64"),
        churn_rate=n_churned.cast("float64") / t.n_active_start,
        n_active=t.n_active.fill_null(0).cast("int64"),
        n_new=t.n_new.fill_null(0).cast("int64"),
    ).order_by("period_start")
