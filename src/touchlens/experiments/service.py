"""What the Workspace's experiment methods do (kept here so workspace.py stays a facade)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from touchlens.experiments.declarations import (
    Experiment,
    get_experiment,
    load_experiments,
    parse_experiment,
    save_experiment,
    stored_experiments,
)
from touchlens.experiments.report import ExperimentReport, experiment_report


def declare(ws: Any, spec: Experiment | dict | str | Path) -> list[str]:
    """Store experiment(s) from an :class:`Experiment`, a mapping or a YAML file path;
    returns their names."""
    if isinstance(spec, Experiment):
        items = [spec]
    elif isinstance(spec, dict):
        items = [parse_experiment(spec)]
    else:
        items = load_experiments(spec)
    for e in items:
        save_experiment(ws.store, e)
    return [e.name for e in items]


def experiments(ws: Any) -> pd.DataFrame:
    return stored_experiments(ws.store)


def report(ws: Any, name: str) -> ExperimentReport:
    """The full report of the declared experiment ``name``."""
    exp = get_experiment(ws.store, name)
    events = ws.journey_events() if exp.assignment_unit == "journey" else ws.events()
    return experiment_report(ws.store.execute, events, exp)
