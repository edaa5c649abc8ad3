"""Consent records of the demo world: one cookie-banner answer per person, a few later changes.

Grain: one row per consent record (person × purpose × time), in the ``consent`` ingest form
(customer_id, purpose, status, occurred_at, source). Every person answers the banner for the
three purposes a few minutes before their first journey (``source = "cookie_banner"``). The
answers are nested, the way banners are used: with one uniform draw ``u`` per person,

- analytics granted when ``u < p_analytics`` (default 0.85),
- personalization granted when ``u < p_personalization`` (0.60),
- marketing granted when ``u < p_marketing`` (0.45),

so whoever grants marketing also grants personalization and analytics. Later, in the
preference centre (``source = "preference_center"``), a share ``p_withdraw_marketing`` of the
marketing grants is withdrawn and a share ``p_late_personalization`` of the personalization
denials becomes a grant, at a uniform time between the banner and the end of the world: the
latest record wins.

Drawn from its own random stream (``default_rng([seed, chunk, 1])``), so adding consent
changed none of the other tables.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

PURPOSES = ("analytics", "personalization", "marketing")
CONSENT_INPUT = pa.schema([
    ("customer_id", pa.string()),
    ("purpose", pa.string()),
    ("status", pa.string()),
    ("occurred_at", pa.timestamp("us", tz="UTC")),
    ("source", pa.string()),
])
_BANNER_LEAD_US = 5 * 60 * 1_000_000  # the banner is answered 5 minutes before the first touch


@dataclass(frozen=True)
class ConsentRates:
    """Shares of people granting each purpose at the banner, and later changes."""

    p_analytics: float = 0.85
    p_personalization: float = 0.60
    p_marketing: float = 0.45
    p_withdraw_marketing: float = 0.05  # of the marketing grants
    p_late_personalization: float = 0.05  # of the personalization denials

    def __post_init__(self) -> None:
        if not 0 <= self.p_marketing <= self.p_personalization <= self.p_analytics <= 1:
            raise ValueError("consent rates must satisfy 0 <= marketing <= personalization "
                             "<= analytics <= 1")


def consent_table(rng: np.random.Generator, customer_ids: list[str], first_days: np.ndarray,
                  start_us: int, days: float, rates: ConsentRates | None = None) -> pa.Table:
    """Consent records for people with canonical ids ``customer_ids`` whose first journey
    starts ``first_days`` days after ``start_us`` (µs since the epoch, UTC)."""
    rates = rates or ConsentRates()
    n = len(customer_ids)
    u = rng.random(n)
    later = rng.random((2, n))
    when = rng.uniform(0.0, 1.0, n)
    first_us = start_us + np.round(first_days * 86_400_000_000).astype(np.int64) - _BANNER_LEAD_US
    end_us = start_us + int(days * 86_400_000_000)
    change_us = first_us + np.round((end_us - first_us) * when).astype(np.int64)
    granted = {"analytics": u < rates.p_analytics,
               "personalization": u < rates.p_personalization,
               "marketing": u < rates.p_marketing}
    ids: list[str] = []
    purposes: list[str] = []
    statuses: list[str] = []
    times: list[int] = []
    sources: list[str] = []

    def add(mask: np.ndarray, purpose: str, status: np.ndarray | str, at: np.ndarray,
            source: str) -> None:
        idx = np.flatnonzero(mask)
        ids.extend(customer_ids[i] for i in idx.tolist())
        purposes.extend([purpose] * len(idx))
        if isinstance(status, str):
            statuses.extend([status] * len(idx))
        else:
            statuses.extend(np.where(status[idx], "granted", "denied").tolist())
        times.extend(at[idx].tolist())
        sources.extend([source] * len(idx))

    everyone = np.ones(n, bool)
    for purpose in PURPOSES:
        add(everyone, purpose, granted[purpose], first_us, "cookie_banner")
    add(granted["marketing"] & (later[0] < rates.p_withdraw_marketing), "marketing", "denied",
        change_us, "preference_center")
    add(~granted["personalization"] & (later[1] < rates.p_late_personalization),
        "personalization", "granted", change_us, "preference_center")
    return pa.table({
        "customer_id": pa.array(ids, pa.string()),
        "purpose": pa.array(purposes, pa.string()),
        "status": pa.array(statuses, pa.string()),
        "occurred_at": pa.array(np.array(times, dtype="datetime64[us]"),
                                pa.timestamp("us", tz="UTC")),
        "source": pa.array(sources, pa.string()),
    }, schema=CONSENT_INPUT)
