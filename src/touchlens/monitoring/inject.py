"""Inject anomalies with known start times into a simulated world (for tuning and tests).

Each :class:`Injection` changes one touchpoint from ``start`` for ``hours`` hours:

- ``volume_drop``: drop each event at the touchpoint with probability ``magnitude``
  (moves volume ↓, and cost ↓);
- ``volume_spike``: add round(magnitude) extra copies of each event, e.g. bots (volume ↑, cost ↑);
- ``conversion_drop``: drop each conversion event of a customer who touched the touchpoint that
  UTC day, with probability ``magnitude`` (conversion_rate ↓);
- ``csat_drop``: each response at the touchpoint becomes unhappy (CSAT 1–2, NPS 0–5) with
  probability ``magnitude`` (csat ↓, nps ↓);
- ``cost_spike``: event cost at the touchpoint × (1 + magnitude) (cost ↑).

Test-data generation only: pandas on the world's Arrow tables.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from touchlens.errors import ConfigError
from touchlens.store.schema import CONVERSION_EVENT_TYPES, EVENTS, FEEDBACK

EFFECTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "volume_drop": ("down", ("volume", "cost")),
    "volume_spike": ("up", ("volume", "cost")),
    "conversion_drop": ("down", ("conversion_rate",)),
    "csat_drop": ("down", ("csat", "nps")),
    "cost_spike": ("up", ("cost",)),
}


@dataclass(frozen=True)
class Injection:
    """One anomaly: ``kind`` at ``touchpoint`` during [start, start + hours)."""

    kind: str
    touchpoint: str
    start: datetime
    hours: float
    magnitude: float

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)

    def validate(self) -> None:
        if self.kind not in EFFECTS:
            raise ConfigError(f"unknown anomaly kind {self.kind!r}; choose from {list(EFFECTS)}")
        if not self.hours > 0 or not self.magnitude > 0:
            raise ConfigError("hours and magnitude must be positive")
        if self.kind in ("volume_drop", "conversion_drop", "csat_drop") and self.magnitude > 1:
            raise ConfigError(f"{self.kind} magnitude is a probability, got {self.magnitude}")


def _window(frame: pd.DataFrame, inj: Injection) -> pd.Series:
    at = frame["occurred_at"]
    return (frame["touchpoint"] == inj.touchpoint) & (at >= inj.start) & (at < inj.end)


def _apply(ev: pd.DataFrame, fb: pd.DataFrame, inj: Injection, rng: np.random.Generator
           ) -> tuple[pd.DataFrame, pd.DataFrame]:
    hit = _window(ev, inj)
    if inj.kind == "volume_drop":
        ev = ev[~(hit & (rng.random(len(ev)) < inj.magnitude))]
    elif inj.kind == "volume_spike":
        copies = [ev[hit].assign(event_id=ev.loc[hit, "event_id"] + f"~x{c}")
                  for c in range(1, round(inj.magnitude) + 1)]
        ev = pd.concat([ev, *copies], ignore_index=True)
    elif inj.kind == "cost_spike":
        ev = ev.copy()
        ev.loc[hit, "cost"] = ev.loc[hit, "cost"] * (1 + inj.magnitude)
    elif inj.kind == "conversion_drop":
        day = ev["occurred_at"].dt.floor("D")
        touched = set(zip(ev.loc[hit, "customer_id"], day[hit], strict=True))
        conv = ev["event_type"].isin(CONVERSION_EVENT_TYPES) & (ev["occurred_at"] >= inj.start) \
            & (ev["occurred_at"] < inj.end)
        keys = pd.Series(list(zip(ev["customer_id"], day, strict=True)), index=ev.index)
        victim = conv & keys.isin(touched) & (rng.random(len(ev)) < inj.magnitude)
        ev = ev[~victim]
    elif inj.kind == "csat_drop":
        fhit = (_window(fb, inj) & (rng.random(len(fb)) < inj.magnitude)).to_numpy()
        fb = fb.copy()
        fb["csat"] = fb["csat"].where(~fhit, rng.integers(1, 3, len(fb)))
        fb["nps"] = fb["nps"].where(~fhit | fb["nps"].isna(), rng.integers(0, 6, len(fb)))
    return ev, fb


def inject_anomalies(world: Any, injections: list[Injection], *, seed: int = 0
                     ) -> tuple[Any, pd.DataFrame]:
    """(a copy of ``world`` with the anomalies, the truth: one row per injection with kind,
    touchpoint, direction, metrics, start, end, magnitude)."""
    rng = np.random.default_rng(seed)
    ev = world.events.to_pandas()
    fb = world.feedback.to_pandas()
    for inj in injections:
        inj.validate()
        ev, fb = _apply(ev, fb, inj, rng)
    truth = pd.DataFrame([{
        "kind": i.kind, "touchpoint": i.touchpoint, "direction": EFFECTS[i.kind][0],
        "metrics": EFFECTS[i.kind][1], "start": pd.Timestamp(i.start), "end": pd.Timestamp(i.end),
        "magnitude": i.magnitude} for i in injections],
        columns=["kind", "touchpoint", "direction", "metrics", "start", "end", "magnitude"])
    events = pa.Table.from_pandas(ev.sort_values("occurred_at", kind="stable"), schema=EVENTS,
                                  preserve_index=False)
    feedback = pa.Table.from_pandas(fb, schema=FEEDBACK, preserve_index=False)
    return replace(world, events=events, feedback=feedback), truth


def random_injections(world: Any, n: int, *, seed: int = 0, kinds: tuple[str, ...] = (
        "volume_drop", "volume_spike", "conversion_drop", "csat_drop", "cost_spike"),
        warmup_days: float = 35, tail_days: float = 5, hours: float = 72,
        magnitudes: dict[str, float] | None = None, min_daily_events: float = 20,
        min_daily_conversions: float = 5) -> list[Injection]:
    """``n`` anomalies at random eligible touchpoints and start times (whole UTC days, after a
    ``warmup_days`` baseline and before the last ``tail_days``), none overlapping in time on
    the same touchpoint. Eligible: ``min_daily_events`` events a day (volume, cost), customers
    converting the same day ``min_daily_conversions`` times a day (conversion), two feedback
    responses a day (CSAT)."""
    mags = {"volume_drop": 0.5, "volume_spike": 1, "conversion_drop": 0.6, "csat_drop": 0.6,
            "cost_spike": 1.0, **(magnitudes or {})}
    rng = np.random.default_rng(seed)
    ev = world.events.to_pandas()
    fb = world.feedback.to_pandas()
    first = ev["occurred_at"].min().floor("D")
    days = (ev["occurred_at"].max() - first).days + 1
    per_day = ev.groupby("touchpoint").size() / days
    day = ev["occurred_at"].dt.floor("D")
    buyers = set(zip(ev.loc[ev["event_type"].isin(CONVERSION_EVENT_TYPES), "customer_id"],
                     day[ev["event_type"].isin(CONVERSION_EVENT_TYPES)], strict=True))
    pairs = pd.DataFrame({"touchpoint": ev["touchpoint"], "key": list(zip(ev["customer_id"], day,
                                                                           strict=True))})
    pairs = pairs.drop_duplicates()
    conv_day = pairs[pairs["key"].isin(buyers)].groupby("touchpoint").size() / days
    fb_day = fb.groupby("touchpoint").size() / days
    cost_tps = ev.loc[ev["cost"].fillna(0) > 0, "touchpoint"].unique()
    eligible = {
        "volume_drop": per_day[per_day >= min_daily_events].index,
        "volume_spike": per_day[per_day >= min_daily_events].index,
        "conversion_drop": conv_day[conv_day >= min_daily_conversions].index,
        "csat_drop": fb_day[fb_day >= 2].index,
        "cost_spike": pd.Index(cost_tps).intersection(per_day[per_day >= min_daily_events].index),
    }
    out: list[Injection] = []
    last_day = days - tail_days - hours / 24
    while len(out) < n:
        kind = kinds[len(out) % len(kinds)]
        tps = list(eligible[kind])
        if not tps or last_day <= warmup_days:
            raise ConfigError(f"no room or touchpoint for {kind} in this world")
        tp = tps[int(rng.integers(len(tps)))]
        start = (first + pd.Timedelta(days=int(rng.integers(int(warmup_days), int(last_day))))
                 ).to_pydatetime()
        inj = Injection(kind, tp, start, hours, mags[kind])
        clash = any(o.touchpoint == tp and o.start < inj.end and inj.start < o.end for o in out)
        if not clash:
            out.append(inj)
    return out
