"""Journeys and marketing contacts: who is exposed to what, and who converts.

Each person lives through journeys j = 0, 1, …: journey j spans [start, end) days (length
1 + Gamma days, at most 28), draws its contacts with every marketing touchpoint at random
(:mod:`.spec`), and converts at ``end`` with the probability of :mod:`.ground_truth`. A
conversion opens the next journey at the purchase time (its post-purchase touches belong to
it); a journey without conversion is the person's last.

A journey whose natural end lies past the horizon is *censored*, as in any real export: its
touches inside the window are kept (``end`` is cut at the horizon) and it does not convert
there, whatever its probability — its decision falls after the data ends. (Placing those
conversions at the horizon instead piled them on the window's last instant.)
Base propensity is drawn per journey, independently of everything else, so exposures —
including those that only follow an earlier purchase — never correlate with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from touchlens.simulate.ground_truth import conversion_probability
from touchlens.simulate.people import (
    ANON_DESKTOP,
    ANON_PHONE,
    DEV_PHONE,
    KEY_C,
    KEY_N,
    People,
)
from touchlens.simulate.spec import WorldParams

_MARGIN = 1.0 / 48  # marketing contacts end 30 minutes before the journey does
MODES = ("web", "app", "store")


@dataclass
class Journeys:
    """One entry per simulated journey (arrays) plus its contact counts (journeys × K)."""

    person: np.ndarray
    index: np.ndarray
    start: np.ndarray
    end: np.ndarray
    base: np.ndarray
    p: np.ndarray
    converted: np.ndarray
    counts: np.ndarray
    censored: np.ndarray  # natural end past the horizon: no conversion inside the window
    mode: np.ndarray  # 0 web, 1 app, 2 store (meaningful where converted)
    revenue: np.ndarray  # NaN where not converted

    def __len__(self) -> int:
        return len(self.person)


def _eligibility(people: People, p: WorldParams) -> np.ndarray:
    """people × K booleans for the eligibility rules that do not depend on the journey."""
    rules = {"all": np.ones(people.n, bool), "email": people.email,
             "sms": people.email & people.phone, "app": people.app, "member": people.member,
             "first": np.ones(people.n, bool), "welcome": people.new_subscriber}
    return np.stack([rules[e.eligible] for e in p.exposures], axis=1)


def draw_journeys(rng: np.random.Generator, people: People, days: float,
                  p: WorldParams) -> Journeys:
    """Simulate every person's journeys (a loop over journey rank, vectorised over people)."""
    exp = p.exposures
    effect = np.array([e.effect for e in exp])
    kappa = np.array([e.kappa for e in exp])
    reach = np.array([e.reach for e in exp])
    extra = np.array([e.extra for e in exp])
    first_only = np.array([e.eligible in ("first", "welcome") for e in exp])
    eligible = _eligibility(people, p)
    mode_w = np.stack([np.full(people.n, p.mode_weights[0]),
                       p.mode_weights[1] * people.app, p.mode_weights[2] * people.member], 1)
    mode_cdf = np.cumsum(mode_w / mode_w.sum(1, keepdims=True), axis=1)

    blocks: list[dict[str, np.ndarray]] = []
    active = np.arange(people.n)
    start = people.start.copy()
    for j in range(p.max_journeys):
        m = len(active)
        if m == 0:
            break
        length = np.minimum(1.0 + rng.gamma(p.journey_days_shape, p.journey_days_scale, m),
                            p.journey_days_max)
        natural_end = start + length
        end = np.minimum(natural_end, days - 1e-4)
        censored = natural_end > end
        base = rng.beta(p.base_alpha, p.base_beta, m)
        ok = eligible[active] & (~first_only if j > 0 else True)
        reached = ok & (rng.random((m, len(exp))) < reach)
        counts = (reached * (1 + rng.poisson(extra, (m, len(exp))))).astype(np.int32)
        prob = conversion_probability(counts, base, effect, kappa)
        converted = (rng.random(m) < prob) & ~censored
        mode = (rng.random(m)[:, None] > mode_cdf[active]).sum(axis=1)
        revenue = np.where(converted, np.round(
            p.revenue_median * np.exp(p.revenue_sigma * rng.standard_normal(m)), 2), np.nan)
        blocks.append({"person": active, "index": np.full(m, j), "start": start, "end": end,
                       "base": base, "p": prob, "converted": converted, "counts": counts,
                       "censored": censored, "mode": mode, "revenue": revenue})
        go_on = converted & (end < days - 1.0)
        active, start = active[go_on], end[go_on]
    if not blocks:
        z = np.zeros(0)
        return Journeys(z.astype(int), z.astype(int), z, z, z, z, z.astype(bool),
                        np.zeros((0, len(exp)), np.int32), z.astype(bool), z.astype(int), z)
    cat = {k: np.concatenate([b[k] for b in blocks]) for k in blocks[0]}
    return Journeys(**cat)


@dataclass
class Contacts:
    """One entry per marketing contact: journey row, person, exposure index, time (days)."""

    journey: np.ndarray
    person: np.ndarray
    k: np.ndarray
    t: np.ndarray
    limit: np.ndarray  # follow-up events (opens, clicks) stay before this time


def draw_contacts(rng: np.random.Generator, journeys: Journeys) -> Contacts:
    """Spread each journey's contacts uniformly over [start, end − 30 min)."""
    jrow, k = np.nonzero(journeys.counts)
    reps = journeys.counts[jrow, k]
    jrow, k = np.repeat(jrow, reps), np.repeat(k, reps)
    lo = journeys.start[jrow]
    span = np.maximum(journeys.end[jrow] - _MARGIN - lo, 1e-3)
    t = lo + rng.random(len(jrow)) * span
    return Contacts(jrow, journeys.person[jrow], k, t, lo + span)


def anon_ids(rng: np.random.Generator, people: People, person: np.ndarray,
             p_phone: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Cookie and device kinds for anonymous touches: the phone cookie half the time."""
    phone = people.mobile[person] & (rng.random(len(person)) < p_phone)
    return (np.where(phone, ANON_PHONE, ANON_DESKTOP).astype(np.int8),
            np.where(phone, DEV_PHONE, 0).astype(np.int8))


def email_key(people: People, person: np.ndarray) -> np.ndarray:
    """Email events carry the ESP key N for "chain" people, the account C otherwise."""
    return np.where(people.chain[person], KEY_N, KEY_C).astype(np.int8)

