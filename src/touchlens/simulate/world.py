"""``simulate_retailer``: a seeded omnichannel retailer with known incremental effects.

The world is built chunk by chunk (``chunk_customers`` people each); chunk ``i`` uses its own
random stream ``default_rng([seed, i])``, so a chunk never needs the others and the same
(seed, n_customers, chunk_customers) always gives the same tables. Grains:

- ``events``/``feedback``/``costs``/``identities``: the ``touchlens.store.schema`` input forms
  (identities carry raw emails and phones; the store hashes them at ingest);
- ``consent``: one row per consent record, the ``consent`` ingest form (see :mod:`.consent`);
- ``ground_truth``: one row per touchpoint (see :mod:`.ground_truth`);
- ``ground_truth_channels``: one row per channel holding a marketing touchpoint;
- ``journeys``: one row per simulated journey (the truth the events were drawn from);
  ``censored`` journeys end past the horizon and do not convert inside it, and the truth
  tables and ``expected_conversions`` leave them out (their decision is not in the data).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from touchlens.errors import ConfigError
from touchlens.simulate.aftercare import render_aftercare
from touchlens.simulate.behaviour import Journeys, draw_contacts, draw_journeys
from touchlens.simulate.consent import CONSENT_INPUT, consent_table
from touchlens.simulate.events import EventLog
from touchlens.simulate.feedback import feedback_table
from touchlens.simulate.ground_truth import (
    channel_removal_effects,
    channel_truth_table,
    removal_effects,
    truth_table,
)
from touchlens.simulate.people import PeopleIds, draw_people, make_ids
from touchlens.simulate.sessions import render_sessions
from touchlens.simulate.spec import WorldParams, channel_of
from touchlens.simulate.touches import render_contacts
from touchlens.store import schema as S


@dataclass
class SimulatedWorld:
    """The simulated tables plus the truth they were drawn from."""

    events: pa.Table
    feedback: pa.Table
    costs: pa.Table
    identities: pa.Table
    ground_truth: pd.DataFrame
    ground_truth_channels: pd.DataFrame
    journeys: pd.DataFrame
    params: dict = field(default_factory=dict)
    consent: pa.Table = field(default_factory=CONSENT_INPUT.empty_table)


@dataclass
class Chunk:
    """One chunk's tables and its additive truth sums (combined by :func:`combine`)."""

    events: pa.Table
    feedback: pa.Table
    costs: pa.Table
    identities: pa.Table
    consent: pa.Table
    journeys: pd.DataFrame
    incremental: dict[str, float]
    channel_incremental: dict[str, float]
    expected_conversions: float
    anonymous_events: int  # events with a cookie and no customer key
    anonymous_linked: int  # … of which the cookie is linked to the person somewhere


def _start_us(start: str) -> int:
    try:
        day = datetime.fromisoformat(start)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"start must be an ISO date like '2026-01-01', got {start!r}") from exc
    day = day.replace(tzinfo=UTC) if day.tzinfo is None else day.astimezone(UTC)
    return int(day.timestamp()) * 1_000_000


def resolve_params(params: WorldParams | None, effects: Mapping[str, float] | None
                   ) -> WorldParams:
    """Default parameters, with touchpoint effects overridden by ``effects``."""
    params = params or WorldParams()
    if effects:
        known = {e.touchpoint for e in params.exposures}
        unknown = sorted(set(effects) - known)
        if unknown:
            raise ConfigError(f"effects given for touchpoints without exposure: {unknown}")
        bad = {k: v for k, v in effects.items() if not 0.0 <= v < 1.0}
        if bad:
            raise ConfigError(f"effects must be in [0, 1), got {bad}")
        params = replace(params, exposures=tuple(
            replace(e, effect=float(effects.get(e.touchpoint, e.effect)))
            for e in params.exposures))
    return params


def _costs(events: pa.Table) -> pa.Table:
    """Daily spend per paid touchpoint = Σ event cost that day (UTC), not yet rounded."""
    paid = events.filter(pc.is_valid(events["cost"]))
    if paid.num_rows == 0:
        return S.COSTS.empty_table()
    daily = pa.table({"date": pc.cast(paid["occurred_at"], pa.date32()),
                      "touchpoint": paid["touchpoint"], "channel": paid["channel"],
                      "spend": paid["cost"], "currency": paid["currency"]})
    return sum_costs(daily, digits=None)


def sum_costs(daily: pa.Table, digits: int | None = 2) -> pa.Table:
    """Sum spend per (date, touchpoint, channel, currency), sorted by date and touchpoint.

    Single-threaded, so the floating-point sums (and their rounding) never depend on timing.
    """
    out = daily.group_by(["date", "touchpoint", "channel", "currency"], use_threads=False
                         ).aggregate([("spend", "sum")])
    spend = out["spend_sum"] if digits is None else pc.round(out["spend_sum"], digits)
    out = pa.table({"date": out["date"], "touchpoint": out["touchpoint"],
                    "channel": out["channel"], "spend": spend, "currency": out["currency"]},
                   schema=S.COSTS)
    return out.sort_by([("date", "ascending"), ("touchpoint", "ascending")])


def _journey_frame(j: Journeys, ids_c: pa.Array, n: int, tag: str, start_us: int,
                   p: WorldParams) -> pd.DataFrame:
    def ts(days: np.ndarray) -> pd.Series:
        us = start_us + np.round(days * 86_400_000_000).astype(np.int64)
        return pd.Series(pd.to_datetime(us, unit="us", utc=True))

    frame = pd.DataFrame({
        "journey_id": [f"j{tag}-{i}" for i in range(len(j))],
        "customer_id": ids_c.take(pa.array(n + j.person)).to_pylist(),
        "journey_index": j.index.astype(np.int64), "started_at": ts(j.start),
        "ended_at": ts(j.end), "base": j.base, "p_conversion": j.p, "converted": j.converted,
        "censored": j.censored, "revenue": np.where(j.converted, j.revenue, 0.0),
    })
    counts = pd.DataFrame(j.counts, columns=[f"n_{e.touchpoint}" for e in p.exposures])
    return pd.concat([frame, counts], axis=1)


def _linked_counts(log: EventLog, ids: PeopleIds) -> tuple[int, int]:
    """(events with a cookie and no customer key, … whose cookie is linked to the person).

    A cookie is linked when some event carries it together with a customer key (a login or
    an email click) or a CDP identities row maps it.
    """
    key, anon = log.column("key"), log.column("anon").astype(np.int64)
    who = log.column("person")
    linked = ids.cookie_mapped.copy()
    both = (key > 0) & (anon > 0)
    linked[anon[both], who[both]] = True
    anon_only = (anon > 0) & (key == 0)
    return int(anon_only.sum()), int(linked[anon[anon_only], who[anon_only]].sum())


def simulate_chunk(seed: int, index: int, offset: int, n: int, *, start: str, days: float,
                   currency: str, params: WorldParams) -> Chunk:
    """Simulate people offset … offset + n − 1 with the random stream (seed, index)."""
    rng = np.random.default_rng([seed, index])
    start_us = _start_us(start)
    tag = f"{seed}-{index}"
    people = draw_people(rng, n, offset, days, params)
    ids = make_ids(rng, people, params)
    journeys = draw_journeys(rng, people, days, params)
    contacts = draw_contacts(rng, journeys)
    log = EventLog()
    render_contacts(log, rng, people, params.exposures, contacts)
    names = [e.touchpoint for e in params.exposures]
    cart_k = names.index("abandoned_cart_email") if "abandoned_cart_email" in names else -1
    orders = render_sessions(log, rng, people, journeys, contacts, cart_k, params)
    requests = render_aftercare(log, rng, people, orders, days, params)
    events = log.to_table(ids, n, tag, start_us, currency)
    feedback = feedback_table(rng, requests, people.polish, ids, tag, start_us, params)
    consent = consent_table(np.random.default_rng([seed, index, 1]),
                            ids.keys.slice(n, n).to_pylist(), people.start, start_us, days)

    n_anon, n_linked = _linked_counts(log, ids)
    effect = np.array([e.effect for e in params.exposures])
    kappa = np.array([e.kappa for e in params.exposures])
    # the truth counts conversions the window can show: a censored journey converts after it
    seen = ~journeys.censored
    counts, base = journeys.counts[seen], journeys.base[seen]
    removal = removal_effects(counts, base, effect, kappa).sum(axis=0)
    channels = [channel_of(e.touchpoint) for e in params.exposures]
    return Chunk(
        events=events, feedback=feedback, costs=_costs(events), identities=ids.identities,
        consent=consent,
        journeys=_journey_frame(journeys, ids.keys, n, tag, start_us, params),
        incremental={e.touchpoint: float(r) for e, r in zip(params.exposures, removal,
                                                             strict=True)},
        channel_incremental=channel_removal_effects(counts, base, effect, kappa, channels),
        expected_conversions=float(journeys.p[seen].sum()),
        anonymous_events=n_anon, anonymous_linked=n_linked,
    )


def iter_chunks(n_customers: int, *, seed: int, chunk_customers: int, start: str, days: float,
                currency: str, params: WorldParams) -> Iterator[Chunk]:
    """Chunks in order; validates the arguments first."""
    if not isinstance(n_customers, int | np.integer) or n_customers < 1:
        raise ConfigError(f"n_customers must be a positive integer, got {n_customers!r}")
    if not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    if chunk_customers < 1:
        raise ConfigError(f"chunk_customers must be >= 1, got {chunk_customers!r}")
    if not days >= 2:
        raise ConfigError(f"days must be >= 2, got {days!r}")
    _start_us(start)
    for index, offset in enumerate(range(0, n_customers, chunk_customers)):
        size = min(chunk_customers, n_customers - offset)
        yield simulate_chunk(int(seed), index, offset, size, start=start, days=float(days),
                             currency=currency, params=params)


class Totals:
    """Additive truth sums over chunks, turned into the truth tables and run statistics."""

    def __init__(self) -> None:
        self.inc: dict[str, float] = {}
        self.ch_inc: dict[str, float] = {}
        self.seen: set[str] = set()
        self.stats = {"n_journeys": 0, "censored_journeys": 0, "conversions": 0,
                      "expected_conversions": 0.0, "anonymous_events": 0, "anonymous_linked": 0}

    def add(self, c: Chunk) -> None:
        for total, part in ((self.inc, c.incremental), (self.ch_inc, c.channel_incremental)):
            for k, v in part.items():
                total[k] = total.get(k, 0.0) + v
        self.seen.update(pc.unique(c.events["touchpoint"]).to_pylist())
        s = self.stats
        s["n_journeys"] += len(c.journeys)
        s["censored_journeys"] += int(c.journeys["censored"].sum())
        s["conversions"] += int(c.journeys["converted"].sum())
        s["expected_conversions"] += c.expected_conversions
        s["anonymous_events"] += c.anonymous_events
        s["anonymous_linked"] += c.anonymous_linked

    def truth(self, params: WorldParams) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Touchpoint and channel truth tables."""
        return (truth_table(self.inc, params.exposures, sorted(self.seen)),
                channel_truth_table(self.ch_inc))

    def describe(self, params: WorldParams, **args: object) -> dict:
        """The run's arguments, parameters and headline numbers (JSON-friendly)."""
        s = dict(self.stats)
        s["anonymous_linked_share"] = (s["anonymous_linked"] / s["anonymous_events"]
                                       if s["anonymous_events"] else 1.0)
        s["true_incremental_conversions"] = float(sum(self.inc.values()))
        return {**args, "conversion_event_types": ["purchase"], **s,
                "model": params.as_dict()}


def simulate_retailer(n_customers: int = 5000, *, seed: int = 0, start: str = "2026-01-01",
                      days: int = 90, currency: str = "PLN", chunk_customers: int = 100_000,
                      params: WorldParams | None = None,
                      effects: Mapping[str, float] | None = None) -> SimulatedWorld:
    """Simulate ``n_customers`` people of a retailer over ``days`` days from ``start`` (UTC).

    ``effects`` overrides true effects per marketing touchpoint (each in [0, 1)). Same
    arguments → identical tables. Conversions are ``purchase`` events (no ``signup``).
    """
    params = resolve_params(params, effects)
    totals = Totals()
    chunks = []
    for c in iter_chunks(n_customers, seed=seed, chunk_customers=chunk_customers,
                         start=start, days=days, currency=currency, params=params):
        totals.add(c)
        chunks.append(c)
    truth, channel_truth = totals.truth(params)
    costs = pa.concat_tables([c.costs for c in chunks])
    return SimulatedWorld(
        events=pa.concat_tables([c.events for c in chunks]),
        feedback=pa.concat_tables([c.feedback for c in chunks]),
        costs=sum_costs(costs) if costs.num_rows else costs,
        identities=pa.concat_tables([c.identities for c in chunks]),
        consent=pa.concat_tables([c.consent for c in chunks]),
        ground_truth=truth, ground_truth_channels=channel_truth,
        journeys=pd.concat([c.journeys for c in chunks], ignore_index=True),
        params=totals.describe(params, n_customers=n_customers, seed=seed, start=start,
                               days=days, currency=currency, chunk_customers=chunk_customers),
    )
