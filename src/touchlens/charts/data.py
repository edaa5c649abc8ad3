"""The Workspace calls behind each chart and table of the dashboard and the report.

Every function takes a Workspace (already narrowed to a period/channel by the caller, see
:mod:`touchlens.api.scope`) and returns what one panel shows. ``channel`` limits
touchpoint-level tables to that channel's rows.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from touchlens.workspace import Workspace

ALL_PATHS = 10**9  # top_paths(top=ALL_PATHS) returns every distinct path


def only_channel(frame: pd.DataFrame, channel: str | None) -> pd.DataFrame:
    """The rows of ``channel`` (all rows when None or the frame has no channel column)."""
    if channel is None or "channel" not in frame:
        return frame
    return frame[frame["channel"] == channel].reset_index(drop=True)


def touchpoints(ws: Workspace, channel: str | None = None) -> pd.DataFrame:
    return only_channel(ws.touchpoints(), channel)


def scorecard(ws: Workspace, channel: str | None = None) -> pd.DataFrame:
    return only_channel(ws.scorecard(), channel)


def all_paths(ws: Workspace, *, level: str = "touchpoint", converting_only: bool = False
              ) -> pd.DataFrame:
    """Every distinct path with its counts, most frequent first (for flows and top-N)."""
    return ws.top_paths(top=ALL_PATHS, level=level, converting_only=converting_only)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def kpis(ws: Workspace) -> dict[str, Any]:
    """Headline numbers: customers, events, journeys, conversions, conversion rate (converting
    journeys / journeys), revenue, and NPS/CSAT/CES with n over all feedback."""
    stats = ws.stats()
    journeys = ws.journeys()
    n = len(journeys)
    conversions = int(journeys["converted"].sum()) if n else 0
    out: dict[str, Any] = {
        "customers": stats["customers"], "events": stats["events"],
        "feedback": stats["feedback"], "journeys": n, "conversions": conversions,
        "conversion_rate": conversions / n if n else None,
        "revenue": float(journeys["revenue"].sum()) if n else 0.0,
        "currency": ws.settings.currency,
    }
    cx = ws.cx_overall()
    for name in ("nps", "csat", "ces"):
        row = cx.iloc[0] if len(cx) else None
        out[name] = None if row is None else _num(row[name])
        out[f"{name}_n"] = 0 if row is None else int(row[f"{name}_n"])
    return out


def has(ws: Workspace, method: str) -> bool:
    """True when the Workspace class offers ``method`` (checked on the class, so properties
    such as ``voc`` are not evaluated)."""
    return hasattr(type(ws), method)


LAYERS = {"attribution": "attribution", "voc": "voc", "insights": "recommendations",
          "funnel": "funnel", "flows": "flows", "journey_map": "journey_map",
          "loyalty": "rfm_segments", "clv": "clv_predict"}


def layers(ws: Workspace) -> dict[str, bool]:
    """Which optional analysis layers this Workspace offers (pages show "not available yet"
    for the others)."""
    return {layer: has(ws, method) for layer, method in LAYERS.items()}


def journey_map_touchpoints(ws: Workspace, channel: str | None = None) -> pd.DataFrame:
    """Per touchpoint: stage, reach, CSAT with n and pain-point flags — the insights layer's
    journey map when present, else the scorecard."""
    if has(ws, "journey_map"):
        return only_channel(ws.journey_map().touchpoints, channel)
    return scorecard(ws, channel)


def verbatims(ws: Workspace, *, limit: int = 50) -> pd.DataFrame:
    """The latest texts with their sentiment and topics (VoC layer), newest first."""
    texts = ws.voc.sentiment()
    cols = [c for c in ("occurred_at", "touchpoint", "channel", "language", "sentiment",
                        "sentiment_score", "topics", "text") if c in texts]
    return texts.sort_values("occurred_at", ascending=False)[cols].head(limit)
