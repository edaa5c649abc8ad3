"""What the Workspace's monitoring methods do (kept here so workspace.py stays a facade)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from touchlens.errors import ConfigError
from touchlens.monitoring.alerts import store_alerts, stored_alerts, to_rows
from touchlens.monitoring.anomalies import Detector, detect
from touchlens.monitoring.kpis import (
    ACTIVITY,
    GRAINS,
    kpi_frame,
    kpi_table,
    on_period_start,
    sentiment_table,
)

PERIOD = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


def _utc(value: Any) -> datetime | None:
    if value is None:
        return None
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"not a date or timestamp: {value!r}") from exc
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def kpis(ws: Any, *, grain: str = "day", since: Any = None, until: Any = None,
         baseline_weeks: int = 4) -> pd.DataFrame:
    """The KPI grid from ``since`` (its baseline reads the ``baseline_weeks`` before it)."""
    if grain not in GRAINS:
        raise ConfigError(f"grain must be one of {tuple(GRAINS)}, not {grain!r}")
    since, until = _utc(since), _utc(until)
    history = since - timedelta(weeks=baseline_weeks) if since is not None else None
    # the counts per period, when stored with the journeys (else counted from the events)
    aligned = on_period_start(history, grain) and on_period_start(until, grain)
    expr = kpi_table(ws.events(), ws.store.table("feedback"), grain=grain,
                     baseline_weeks=baseline_weeks, sentiment=sentiment_table(ws.store),
                     since=history, until=until,
                     activity=ws.stored_rollup(ACTIVITY[grain]) if aligned else None)
    frame = kpi_frame(ws.store.execute(expr))
    if since is not None:
        start = pd.Timestamp(since).floor(GRAINS[grain])
        frame = frame[frame["period_start"] >= start].reset_index(drop=True)
    return frame


def data_clock(ws: Any) -> datetime | None:
    """The latest event time in the workspace (the default "now" of batch data)."""
    ev = ws.store.table("events")
    value = ws.store.execute(ev.occurred_at.max().name("m").as_table())["m"].iloc[0]
    return None if pd.isna(value) else _utc(value)


def detect_anomalies(ws: Any, *, grain: str = "day", since: Any = None, as_of: Any = None,
                     detector: Detector | None = None, save: bool = True,
                     notify: Callable[[pd.DataFrame], Any] | None = None,
                     baseline_weeks: int = 4) -> pd.DataFrame:
    """Detect on complete periods up to ``as_of`` (default: the latest event time), store new
    alerts and pass them to ``notify``; returns every episode found, with a ``new`` column."""
    detector = detector or Detector()
    as_of = _utc(as_of) or data_clock(ws)
    if as_of is None:
        return pd.DataFrame()
    # only complete periods are judged, so the grid can stop at the start of as_of's own
    # (then it reads the stored counts per period, :data:`ACTIVITY`)
    until = pd.Timestamp(as_of).floor(GRAINS[grain]).to_pydatetime()
    frame = kpis(ws, grain=grain, baseline_weeks=baseline_weeks, until=until)
    if frame.empty:
        return frame
    complete = frame["period_start"] + PERIOD[grain] <= pd.Timestamp(as_of)
    frame = frame[complete]
    found = detect(frame, detector, grain=grain,
                   evaluate_from=pd.Timestamp(_utc(since)) if since is not None else None)
    rows = to_rows(found, extra=("active",))
    rows["new"] = False
    if save and not rows.empty:
        new = store_alerts(ws.store, found)
        rows["new"] = rows["alert_id"].isin(set(new["alert_id"]))
        if notify is not None and not new.empty:
            notify(new)
    return rows.reset_index(drop=True)


def alerts(ws: Any, since: Any = None) -> pd.DataFrame:
    """Stored alerts, newest first (``since`` filters on ``detected_at``)."""
    return stored_alerts(ws.store, _utc(since))
