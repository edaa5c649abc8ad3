"""Monitoring charts: a touchpoint's rolling KPI against its same-weekday baseline.

Draws :meth:`Workspace.kpis` rows (one per touchpoint × day or hour) as they are: the observed
value and the expected one (the pooled value of the same slot in the previous weeks).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from touchlens.charts.theme import ACCENT, BAD, MUTED, empty, style

# metric → (observed column, expected column, axis title, scale)
KPI_METRICS: dict[str, tuple[str, str, str, float]] = {
    "volume": ("n_events", "volume_expected", "events", 1.0),
    "conversion_rate": ("conversion_rate", "conversion_rate_expected", "conversion rate %",
                        100.0),
    "cost": ("cost", "cost_expected", "cost", 1.0),
    "csat": ("csat", "csat_expected", "CSAT %", 1.0),
    "nps": ("nps", "nps_expected", "NPS", 1.0),
    "negative_share": ("negative_share", "negative_share_expected", "negative texts %", 100.0),
}


def busiest_touchpoint(kpis: pd.DataFrame) -> str | None:
    """The touchpoint with the most events (the default view)."""
    if kpis.empty:
        return None
    return str(kpis.groupby("touchpoint")["n_events"].sum().idxmax())


def kpi_watch(kpis: pd.DataFrame, touchpoint: str | None, metric: str = "volume",
              alerts: pd.DataFrame | None = None) -> go.Figure:
    """``metric`` of ``touchpoint`` per period: observed (solid) and expected (dotted), with
    the stored alerts on that touchpoint and metric marked (red ✕ at their ``since``)."""
    touchpoint = touchpoint or busiest_touchpoint(kpis)
    rows = kpis[kpis["touchpoint"] == touchpoint].sort_values("period_start") \
        if touchpoint else kpis.iloc[0:0]
    if rows.empty:
        return empty("No touchpoint activity in this period")
    observed, expected, title, scale = KPI_METRICS[metric]
    fig = go.Figure()
    fig.add_scatter(x=rows["period_start"], y=rows[observed] * scale, name="observed",
                    mode="lines+markers", line={"color": ACCENT, "width": 2},
                    marker={"size": 5},
                    hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:,.2f}<extra>observed</extra>")
    if expected in rows:
        fig.add_scatter(x=rows["period_start"], y=rows[expected] * scale, name="expected",
                        mode="lines", line={"color": MUTED, "width": 2, "dash": "dot"},
                        hovertemplate="%{x|%Y-%m-%d %H:%M}: %{y:,.2f}<extra>expected"
                                      "</extra>")
    if alerts is not None and not alerts.empty:
        hit = alerts[(alerts["touchpoint"] == touchpoint)
                     & (alerts["metric"] == metric)]
        if not hit.empty:
            fig.add_scatter(x=hit["since"], y=hit["observed"] * scale, name="alert",
                            mode="markers", marker={"symbol": "x", "size": 14, "color": BAD},
                            text=hit["message"], hovertemplate="%{text}<extra>alert</extra>")
    fig.update_yaxes(title_text=title, rangemode="tozero")
    return style(fig, title=f"{touchpoint}: {metric.replace('_', ' ')} against the usual",
                 height=380)
