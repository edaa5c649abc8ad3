"""Purchases and the per-customer summary (frequency, recency, T, monetary value) the CLV
models need, as Ibis expressions (any backend).

Conventions (as in Fader, Hardie & Lee 2005 and lifetimes):

- A *purchase* is an event with ``event_type = 'purchase'`` and a customer; events of one
  ``order_id`` are one purchase (its earliest time, its summed revenue).
- Purchases are binned by calendar day in UTC: several purchases on one day are one
  *transaction* whose value is their sum.
- ``frequency`` x = transactions after the first (repeat transactions);
  ``recency`` t_x = last − first transaction day; ``T`` = observation end − first day;
  ``monetary_value`` = mean value of the repeat transactions (0 when x = 0).
- Times are in ``unit``: ``day`` (1 day), ``week`` (7 days) or ``month`` (365.25/12 days).
- ``observation_end`` is the last day included (a date, or a timestamp whose UTC day is
  taken); by default the day of the latest purchase.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.store.timestamps import utc_day_number

UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.25 / 12}
SECONDS_PER_DAY = 86400


def unit_days(unit: str) -> float:
    """Length of a time unit in days (``ConfigError`` for an unknown unit)."""
    try:
        return UNIT_DAYS[unit]
    except KeyError:
        raise ConfigError(f"unit must be one of {sorted(UNIT_DAYS)}, not {unit!r}") from None


def day_index(when: Any) -> int:
    """Days since 1970-01-01 (UTC) of a date, timestamp or ISO string; naive means UTC."""
    if isinstance(when, int):
        return when
    try:
        ts = pd.Timestamp(when)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"not a date or timestamp: {when!r}") from exc
    if pd.isna(ts):
        raise ConfigError(f"not a date or timestamp: {when!r}")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return math.floor(ts.timestamp() / SECONDS_PER_DAY)


def day_to_date(day: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day))


def purchases(events: ir.Table) -> ir.Table:
    """One row per purchase (order): customer_id, order_id, occurred_at, revenue, day.

    ``order_id`` falls back to the event_id; ``revenue`` NULL counts as 0; ``day`` is the
    UTC day index (days since 1970-01-01).
    """
    ev = events.filter((events.event_type == "purchase") & events.customer_id.notnull())
    ev = ev.mutate(_order=ev.order_id.coalesce(ev.event_id))
    orders = ev.group_by(["customer_id", "_order"]).agg(
        occurred_at=ev.occurred_at.min(),
        revenue=ev.revenue.fill_null(0.0).sum(),
    )
    return orders.select(
        "customer_id",
        order_id=orders._order,
        occurred_at=orders.occurred_at,
        revenue=orders.revenue.cast("float64"),
        day=utc_day_number(orders.occurred_at),
    )


def transactions(purchase_table: ir.Table) -> ir.Table:
    """One row per customer per purchase day: customer_id, day, revenue, n_orders."""
    p = purchase_table
    return p.group_by(["customer_id", "day"]).agg(revenue=p.revenue.sum(), n_orders=p.count())


def customer_summary(purchase_table: ir.Table, *, unit: str = "week",
                     observation_end: Any = None) -> ir.Table:
    """One row per customer with a purchase up to ``observation_end``: customer_id,
    frequency, recency, T, monetary_value."""
    scale = unit_days(unit)
    p = purchase_table
    if observation_end is not None:
        end: Any = ibis.literal(day_index(observation_end), "int64")
        p = p.filter(p.day <= end)
    else:
        end = p.day.max().as_scalar()
    tx = transactions(p)
    tx = tx.mutate(_first=tx.day.min().over(group_by=tx.customer_id))
    agg = tx.group_by("customer_id").agg(
        _first=tx._first.min(),
        _last=tx.day.max(),
        _n=tx.count(),
        _repeat_value=tx.revenue.sum(where=tx.day > tx._first),
    )
    return _summary_columns(agg, end, scale)


def _summary_columns(agg: ir.Table, end: Any, scale: float) -> ir.Table:
    freq = agg._n - 1
    monetary = ibis.ifelse(freq > 0, agg._repeat_value.fill_null(0.0) / freq.cast("float64"),
                           0.0)
    return agg.select(
        "customer_id",
        frequency=freq.cast("int64"),
        recency=(agg._last - agg._first).cast("float64") / scale,
        T=(end - agg._first).cast("float64") / scale,
        monetary_value=monetary.cast("float64"),
    )


def calibration_holdout(purchase_table: ir.Table, *, calibration_end: Any,
                        observation_end: Any = None, unit: str = "week") -> ir.Table:
    """Split at ``calibration_end`` (last calibration day) for validation.

    One row per customer whose first purchase is in the calibration period: customer_id,
    frequency_cal, recency_cal, T_cal, monetary_value_cal, frequency_holdout (transactions
    in the holdout), monetary_value_holdout (their mean value, 0 if none), duration_holdout
    (holdout length in ``unit``).
    """
    scale = unit_days(unit)
    cal_end = day_index(calibration_end)
    p = purchase_table
    end: Any
    if observation_end is None:
        end = p.day.max().as_scalar()
    else:
        end = ibis.literal(day_index(observation_end), "int64")
        p = p.filter(p.day <= end)
    cal = customer_summary(p, unit=unit, observation_end=cal_end)
    cal = cal.rename({f"{c}_cal": c for c in ("frequency", "recency", "T", "monetary_value")})
    tx = transactions(p.filter(p.day > cal_end))
    hold = tx.group_by("customer_id").agg(_n=tx.count(), _value=tx.revenue.sum())
    joined = cal.left_join(hold, "customer_id")
    n_hold = joined._n.fill_null(0)
    return joined.select(
        "customer_id", "frequency_cal", "recency_cal", "T_cal", "monetary_value_cal",
        frequency_holdout=n_hold.cast("int64"),
        monetary_value_holdout=ibis.ifelse(n_hold > 0, joined._value / n_hold.cast("float64"),
                                           0.0).cast("float64"),
        duration_holdout=((end - cal_end).cast("float64") / scale),
    )
