"""Experiment declarations: what is tested where, on which units, measured how.

An experiment is declared in YAML (one mapping, or a list under ``experiments:``) or through the
API (:class:`Experiment`), and stored in the workspace table ``experiments`` (one row per name,
the spec as JSON). Example::

    name: checkout-button
    touchpoint: checkout            # exposures are events at this touchpoint …
    variants: [control, green]      # … whose attributes JSON holds {"variant": "green"}
    assignment_unit: customer       # or journey
    metrics: [conversion, revenue, "event:add_to_cart"]
    start: 2026-02-01
    end: 2026-03-01                 # optional; exclusive
    weights: [0.5, 0.5]             # planned split, for the sample-ratio check

The first variant is the control. A unit's variant is read from its exposure events'
``attributes`` (key ``variant_attribute``, default ``variant``); when ``experiment_attribute``
is set, only events whose attributes carry that key with the experiment's name count.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa
import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from touchlens.errors import ConfigError
from touchlens.store.schema import EXPERIMENTS

UNITS = ("customer", "journey")
BASE_METRICS = ("conversion", "revenue")
EVENT_PREFIX = "event:"
TABLE = "experiments"
ATTRIBUTE_KEY = r"^[A-Za-z_][A-Za-z0-9_]*$"  # plain keys: used inside a regex


class Experiment(BaseModel):
    """One declared A/B (or A/B/n) test of a touchpoint's variants."""

    model_config = {"extra": "forbid"}

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][\w.\-]*$")
    touchpoint: str = Field(min_length=1)
    variants: list[str] = Field(min_length=2)
    assignment_unit: Literal["customer", "journey"] = "customer"
    metrics: list[str] = Field(default_factory=lambda: ["conversion"], min_length=1)
    start: datetime
    end: datetime | None = None
    weights: list[float] | None = None
    variant_attribute: str = Field("variant", pattern=ATTRIBUTE_KEY)
    experiment_attribute: str | None = Field(None, pattern=ATTRIBUTE_KEY)
    alpha: float = Field(0.05, gt=0, lt=1)
    horizon_per_arm: int | None = Field(None, ge=1)
    description: str = ""

    @field_validator("start", "end", mode="before")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, datetime):
            value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return value

    @field_validator("metrics")
    @classmethod
    def _metrics(cls, value: list[str]) -> list[str]:
        for m in value:
            if m not in BASE_METRICS and not (m.startswith(EVENT_PREFIX) and len(m) > 6):
                raise ValueError(f"unknown metric {m!r}: use conversion, revenue or "
                                 "event:<event_type>")
        if len(set(value)) != len(value):
            raise ValueError(f"metrics repeat: {value}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if len(set(self.variants)) != len(self.variants):
            raise ValueError(f"variants repeat: {self.variants}")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end {self.end} is not after start {self.start}")
        if self.weights is not None and (len(self.weights) != len(self.variants)
                                         or any(w <= 0 for w in self.weights)):
            raise ValueError("weights must be positive, one per variant")
        return self

    @property
    def control(self) -> str:
        return self.variants[0]

    @property
    def binary_metrics(self) -> list[str]:
        """Metrics measured as a share of units (all but revenue)."""
        return [m for m in self.metrics if m != "revenue"]

    def to_json(self) -> str:
        return self.model_dump_json()


def parse_experiment(data: dict[str, Any]) -> Experiment:
    """An :class:`Experiment` from a mapping; errors become :class:`ConfigError`."""
    try:
        return Experiment.model_validate(data)
    except ValidationError as exc:
        name = data.get("name", "?") if isinstance(data, dict) else "?"
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'spec'}: {e['msg']}"
                             for e in exc.errors())
        raise ConfigError(f"experiment {name!r} is invalid: {problems}") from exc


def load_experiments(path: str | Path) -> list[Experiment]:
    """Experiments from a YAML file: one mapping, a list, or a list under ``experiments:``."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read experiment file {path}: {exc}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from exc
    if isinstance(data, dict) and "experiments" in data:
        data = data["experiments"]
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(i, dict) for i in items):
        raise ConfigError(f"{path}: expected an experiment mapping or a list of them")
    return [parse_experiment(i) for i in items]


# ---------------------------------------------------------------- storage (table experiments)



def save_experiment(store: Any, experiment: Experiment) -> None:
    """Store (or replace) ``experiment`` in the workspace's ``experiments`` table."""
    row = pa.table({"name": [experiment.name], "spec": [experiment.to_json()],
                    "declared_at": [datetime.now(UTC)]}, schema=EXPERIMENTS)
    with store.transaction():
        store.delete_where(TABLE, "name", [experiment.name])
        store.append(TABLE, row)


def stored_experiments(store: Any) -> pd.DataFrame:
    """Declared experiments: name, touchpoint, variants, assignment_unit, metrics, start,
    end, declared_at (one row per experiment, by name)."""
    t = store.table(TABLE)
    rows = store.execute(t.order_by("name"))
    out = []
    for r in rows.itertuples(index=False):
        e = Experiment.model_validate(json.loads(r.spec))
        out.append({"name": e.name, "touchpoint": e.touchpoint, "variants": e.variants,
                    "assignment_unit": e.assignment_unit, "metrics": e.metrics,
                    "start": e.start, "end": e.end, "declared_at": r.declared_at})
    cols = ["name", "touchpoint", "variants", "assignment_unit", "metrics", "start", "end",
            "declared_at"]
    return pd.DataFrame(out, columns=cols)


def get_experiment(store: Any, name: str) -> Experiment:
    """The stored experiment ``name``; ConfigError naming the known ones when missing."""
    t = store.table(TABLE)
    rows = store.execute(t.filter(t.name == name).select("spec"))
    if rows.empty:
        known = store.execute(t.select("name").order_by("name"))["name"].tolist()
        hint = f"; declared: {', '.join(known)}" if known else "; none declared yet"
        raise ConfigError(f"no experiment named {name!r}{hint}")
    return Experiment.model_validate(json.loads(rows["spec"].iloc[-1]))
