"""Score a detector against injected anomalies: precision, recall, detection delay.

Matching: an alert is a **hit** of an injection when touchpoint and direction agree, its metric
is one the injection moves (:data:`touchlens.monitoring.inject.EFFECTS`) and it is detected
within [start, end + ``grace_hours``). An injection is **found** when at least one alert hits
it; its **delay** is (end of the first hitting alert's detection period) − injection start, in
hours — so a daily monitor cannot do better than the rest of the start day. Precision = hits /
alerts scored; alerts detected before ``scored_from`` (baseline warm-up) are not scored.
**Collateral** alerts are the other alerts raised while an injection is on (another metric or
touchpoint moved by it, e.g. a conversion drop also lowers checkout volume): reported apart,
counted as false in the strict precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from touchlens.monitoring.anomalies import Detector, detect
from touchlens.monitoring.inject import Injection, inject_anomalies
from touchlens.monitoring.kpis import kpi_frame, kpi_table

PERIOD = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1)}


@dataclass
class Score:
    """Counts and rates of one or more scored runs (add them with ``+``)."""

    alerts: int = 0
    hits: int = 0
    collateral: int = 0
    injections: int = 0
    found: int = 0
    delays_hours: tuple[float, ...] = ()

    @property
    def precision(self) -> float:
        return self.hits / self.alerts if self.alerts else float("nan")

    @property
    def recall(self) -> float:
        return self.found / self.injections if self.injections else float("nan")

    @property
    def precision_with_collateral(self) -> float:
        """Share of alerts that are hits or collateral (see :func:`score`)."""
        return (self.hits + self.collateral) / self.alerts if self.alerts else float("nan")

    def __add__(self, other: Score) -> Score:
        return Score(self.alerts + other.alerts, self.hits + other.hits,
                     self.collateral + other.collateral, self.injections + other.injections,
                     self.found + other.found, self.delays_hours + other.delays_hours)


def score(alerts: pd.DataFrame, truth: pd.DataFrame, *, grain: str,
          scored_from: pd.Timestamp | None = None, scored_until: pd.Timestamp | None = None,
          grace_hours: float = 48.0) -> Score:
    """Score ``alerts`` (from :func:`detect`) against ``truth`` (from :func:`inject_anomalies`)."""
    a = alerts
    if scored_from is not None:
        a = a[a["detected_at"] >= scored_from]
    if scored_until is not None:
        a = a[a["detected_at"] < scored_until]
    hit_rows: set[int] = set()
    near_rows: set[int] = set()
    delays = []
    grace = pd.Timedelta(hours=grace_hours)
    for inj in truth.itertuples(index=False):
        during = (a["detected_at"] + PERIOD[grain] > inj.start) & (a["detected_at"] < inj.end
                                                                   + grace)
        near_rows.update(a.index[during])
        match = a[(a["touchpoint"] == inj.touchpoint) & (a["direction"] == inj.direction)
                  & a["metric"].isin(inj.metrics) & during]
        hit_rows.update(match.index)
        if not match.empty:
            first = match["detected_at"].min() + PERIOD[grain]
            delays.append((first - inj.start) / pd.Timedelta(hours=1))
    return Score(alerts=len(a), hits=len(hit_rows), collateral=len(near_rows - hit_rows),
                 injections=len(truth), found=len(delays), delays_hours=tuple(delays))


def injected_kpis(world: Any, injections: list[Injection], *, grain: str = "day",
                  seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Inject, ingest into an in-memory workspace and compute the KPI grid: (kpis, truth)."""
    from touchlens.workspace import Workspace

    injected, truth = inject_anomalies(world, injections, seed=seed)
    with Workspace.open(":memory:") as ws:
        ws.ingest_arrow(injected.events, "events")
        ws.ingest_arrow(injected.feedback, "feedback")
        expr = kpi_table(ws.events(), ws.store.table("feedback"), grain=grain)
        kpis = kpi_frame(ws.store.execute(expr))
    return kpis, truth


def evaluate(kpis: pd.DataFrame, truth: pd.DataFrame, detector: Detector | None = None, *,
             grain: str = "day", warmup_days: float = 70, tail_days: float = 14,
             grace_hours: float = 48.0) -> tuple[Score, pd.DataFrame]:
    """Detect on ``kpis`` and score against ``truth``: (score, alerts). The first
    ``warmup_days`` only feed baselines (the simulated population ramps up from zero) and the
    last ``tail_days`` are not scored (the simulator's end-of-horizon effect)."""
    first = kpis["period_start"].min()
    last = kpis["period_start"].max()
    scored_from = first + pd.Timedelta(days=warmup_days)
    alerts = detect(kpis, detector, grain=grain, evaluate_from=scored_from)
    result = score(alerts, truth, grain=grain, scored_from=scored_from,
                   scored_until=last - pd.Timedelta(days=tail_days), grace_hours=grace_hours)
    return result, alerts
