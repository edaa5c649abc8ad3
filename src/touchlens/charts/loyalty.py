"""Loyalty charts over the loyalty layer's tables (RFM segments, churn)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from touchlens.charts.theme import ACCENT, BAD, empty, style


def rfm_segments(segments: pd.DataFrame) -> go.Figure:
    """Customers per RFM segment (bars), largest first."""
    if segments.empty or "n_customers" not in segments:
        return empty("No customers with purchases in this period")
    df = segments.sort_values("n_customers")
    label = "segment" if "segment" in df else df.columns[0]
    fig = go.Figure(go.Bar(x=df["n_customers"], y=df[label].astype(str), orientation="h",
                           marker_color=ACCENT,
                           hovertemplate="%{y}: %{x:,} customers<extra></extra>"))
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(title_text="customers")
    return style(fig, title="RFM segments", height=max(300, 28 * len(df) + 100))


def churn(rates: pd.DataFrame) -> go.Figure:
    """Churn rate per period (line)."""
    if rates.empty or "churn_rate" not in rates:
        return empty("Not enough history for churn")
    fig = go.Figure(go.Scatter(x=rates["period_start"], y=rates["churn_rate"] * 100,
                               mode="lines+markers", line={"color": BAD},
                               hovertemplate="%{x|%Y-%m-%d}: %{y:.1f}%<extra></extra>"))
    fig.update_yaxes(title_text="churn rate %", rangemode="tozero")
    return style(fig, title="Churn rate per period", height=340)
