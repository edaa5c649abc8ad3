"""Voice-of-customer score charts: NPS, CSAT and CES per group with 95% intervals."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from touchlens.charts.theme import ACCENT, MUTED, empty, style

SCORES = (("nps", "NPS (−100..100)"), ("csat", "CSAT % top-2-box"), ("ces", "CES mean (1–7)"))


def cx_scores(scores: pd.DataFrame, by: str) -> go.Figure:
    """Three panels (NPS, CSAT, CES); bars with 95% CI whiskers; n < 30 drawn pale."""
    if scores.empty:
        return empty("No feedback in this period")
    fig = make_subplots(rows=1, cols=3, subplot_titles=[t for _, t in SCORES],
                        horizontal_spacing=0.12)
    for col, (name, _) in enumerate(SCORES, start=1):
        df = scores[scores[f"{name}_n"] > 0].sort_values(name)
        if df.empty:
            continue
        colours = [MUTED if small else ACCENT for small in df[f"{name}_small_n"]]
        fig.add_bar(
            row=1, col=col, y=df[by].astype(str), x=df[name], orientation="h",
            marker_color=colours, showlegend=False, customdata=df[f"{name}_n"],
            error_x={"type": "data", "symmetric": False,
                     "array": (df[f"{name}_high"] - df[name]).fillna(0),
                     "arrayminus": (df[name] - df[f"{name}_low"]).fillna(0),
                     "color": "#334155", "thickness": 1.2},
            hovertemplate="%{y}: %{x:.1f} (n=%{customdata})<extra></extra>")
    fig.update_yaxes(automargin=True, tickfont={"size": 11})
    height = max(320, 26 * len(scores) + 120)
    fig = style(fig, height=height)
    fig.update_layout(margin={"b": 70})
    fig.add_annotation(text="pale bars: n < 30, too few responses to rely on · whiskers: 95% CI",
                       xref="paper", yref="paper", x=0, y=0, yshift=-48, showarrow=False,
                       xanchor="left", font={"size": 11, "color": MUTED})
    return fig


LABELS = {
    "reach": ("Reach (customers)", ",.0f"), "touches": ("Touches", ",.0f"),
    "ctr": ("Click-through rate", ".1%"), "engagement_rate": ("Engagement rate", ".1%"),
    "open_rate": ("Open rate", ".1%"), "journeys": ("Journeys through it", ",.0f"),
    "conversion_rate": ("Conversion rate of journeys through it", ".1%"),
    "cost": ("Cost", ",.0f"), "influenced_revenue": ("Influenced revenue", ",.0f"),
    "cost_per_converting_journey": ("Cost per converting journey", ",.2f"),
    "csat": ("CSAT % (top-2-box)", ".0f"), "nps": ("NPS", ".0f"), "ces": ("CES (1–7)", ".1f"),
}


def scorecard_metric(scorecard: pd.DataFrame, metric: str, *, label: str | None = None
                     ) -> go.Figure:
    """One scorecard column per touchpoint, as horizontal bars (largest on top)."""
    name, fmt = LABELS.get(metric, (metric, ",.3~f"))
    label = label or name
    df = scorecard.dropna(subset=[metric]).sort_values(metric)
    if df.empty:
        return empty(f"No {label} in this period")
    fig = go.Figure(go.Bar(x=df[metric], y=df["touchpoint"], orientation="h",
                           marker_color=ACCENT,
                           hovertemplate=f"%{{y}}: %{{x:{fmt}}}<extra></extra>"))
    fig.update_yaxes(automargin=True, tickfont={"size": 11})
    fig.update_xaxes(title_text=label, tickformat=fmt)
    return style(fig, title=label, height=max(320, 20 * len(df) + 100))
