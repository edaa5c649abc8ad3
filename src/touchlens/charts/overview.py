"""Overview charts: conversions and revenue per day, and the most frequent paths."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from touchlens.charts.theme import ACCENT, GOOD, empty, style


def trend(daily: pd.DataFrame, *, currency: str = "") -> go.Figure:
    """Conversions (bars) and revenue (line, right axis) per day; ``daily``: the columns of
    :func:`touchlens.charts.data.daily` (day, n_conversions, revenue)."""
    if daily.empty:
        return empty("No journeys in this period")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=daily["day"], y=daily["n_conversions"], name="conversions",
                marker_color=ACCENT, opacity=0.75)
    fig.add_scatter(x=daily["day"], y=daily["revenue"], name=f"revenue {currency}".strip(),
                    mode="lines", line={"color": GOOD, "width": 2}, secondary_y=True)
    fig.update_yaxes(title_text="conversions per day", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text=f"revenue per day {currency}".strip(), secondary_y=True,
                     rangemode="tozero", showgrid=False)
    return style(fig, title="Conversions and revenue per day", height=360)


def top_paths(paths: pd.DataFrame, *, title: str = "Most frequent journeys") -> go.Figure:
    """Horizontal bars of journeys per path, coloured by conversion rate."""
    if paths.empty:
        return empty("No journeys in this period")
    df = paths.iloc[::-1]
    labels = [p if len(p) <= 70 else "…" + p[-69:] for p in df["path"].replace("", "(none)")]
    fig = go.Figure(go.Bar(
        x=df["n_journeys"], y=labels, orientation="h",
        marker={"color": df["conversion_rate"] * 100, "colorscale": "Blues", "cmin": 0,
                "cmax": max(1.0, float((df["conversion_rate"] * 100).max())),
                "colorbar": {"title": "conv. %", "thickness": 12}},
        customdata=(df["conversion_rate"] * 100).round(1),
        hovertemplate="%{y}<br>%{x} journeys · %{customdata}% convert<extra></extra>"))
    fig.update_xaxes(title_text="journeys")
    fig.update_yaxes(automargin=True, tickfont={"size": 11})
    return style(fig, title=title, height=max(320, 34 * len(df) + 90))
