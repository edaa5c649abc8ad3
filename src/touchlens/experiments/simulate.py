"""A simulated A/B test on top of a simulated world, with a known true lift.

:func:`assign_variants` gives every customer who reaches ``touchpoint`` a random variant (by
customer, with the planned ``weights``), writes it into the ``attributes`` JSON of their events
at that touchpoint, and makes the treatment better by thinning the control: each conversion
event of a control customer after their first exposure is dropped with probability
d = lift / (1 + lift), so that rate_treatment / rate_control − 1 ≈ ``lift`` on conversion
events (the per-customer "any conversion" lift is close to it when repeat purchases are rare).
Test-data generation only (pandas is fine here).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from touchlens.errors import ConfigError
from touchlens.store.schema import CONVERSION_EVENT_TYPES, EVENTS


def _with_variant(raw: Any, key: str, variant: str) -> str:
    data = json.loads(raw) if isinstance(raw, str) and raw else {}
    data[key] = variant
    return json.dumps(data, sort_keys=True)


def assign_variants(world: Any, touchpoint: str,
                    variants: tuple[str, ...] = ("control", "treatment"), *, lift: float = 0.0,
                    seed: int = 0, weights: tuple[float, ...] | None = None,
                    key: str = "variant") -> Any:
    """A copy of ``world`` whose events at ``touchpoint`` carry a variant; the first variant is
    the control, thinned so that every other variant has a true relative ``lift``."""
    if not 0.0 <= lift < 10.0:
        raise ConfigError(f"lift must be in [0, 10), got {lift!r}")
    rng = np.random.default_rng(seed)
    ev: pd.DataFrame = world.events.to_pandas()
    at_tp = ev["touchpoint"] == touchpoint
    if not at_tp.any():
        raise ConfigError(f"no events at touchpoint {touchpoint!r}")
    customers = np.sort(ev.loc[at_tp, "customer_id"].dropna().unique())
    p = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
    chosen = pd.Series(rng.choice(np.asarray(variants, dtype=object), size=len(customers), p=p),
                       index=customers)
    variant = ev["customer_id"].map(chosen)
    tagged = at_tp & variant.notna()
    ev.loc[tagged, "attributes"] = [
        _with_variant(a, key, v) for a, v in zip(ev.loc[tagged, "attributes"],
                                                 variant[tagged], strict=True)]
    first = ev[tagged].groupby("customer_id")["occurred_at"].min()
    exposed_at = ev["customer_id"].map(first)
    in_control = (variant == variants[0]) & exposed_at.notna()
    conversion = ev["event_type"].isin(CONVERSION_EVENT_TYPES) & (ev["occurred_at"] >= exposed_at)
    drop = in_control & conversion & (rng.random(len(ev)) < lift / (1 + lift))
    kept = pa.Table.from_pandas(ev[~drop.to_numpy()], schema=EVENTS, preserve_index=False)
    return replace(world, events=kept)
