"""AI-assistant answers as a touchpoint: brand visibility against competitors.

Draws :meth:`Workspace.ai_visibility` rows (one per brand) as they are: mention rate with its
Wilson interval, and share of voice.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from touchlens.charts.theme import ACCENT, MUTED, empty, style


def ai_visibility(table: pd.DataFrame, note: str | None = None) -> go.Figure:
    """Mention rate % per brand (bars with the 95% Wilson interval; your brand in the accent
    colour) next to its share of voice %."""
    if table.empty:
        return empty(note or "No AI answers ingested")
    df = table.reset_index(drop=True)
    colours = [ACCENT if t else MUTED for t in df.get("is_target", [False] * len(df))]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("mention rate % (95% interval)",
                                                        "share of voice %"),
                        horizontal_spacing=0.12)
    err = None
    if {"mention_rate_low", "mention_rate_high"} <= set(df.columns):
        err = {"type": "data", "symmetric": False,
               "array": (df["mention_rate_high"] - df["mention_rate"]) * 100,
               "arrayminus": (df["mention_rate"] - df["mention_rate_low"]) * 100,
               "color": "#334155"}
    fig.add_bar(x=df["brand"], y=df["mention_rate"] * 100, marker_color=colours,
                error_y=err, name="mention rate", showlegend=False, row=1, col=1,
                customdata=df["answers"],
                hovertemplate="%{x}: %{y:.1f}% of %{customdata:,} answers<extra></extra>")
    fig.add_bar(x=df["brand"], y=df["share_of_voice"] * 100, marker_color=colours,
                name="share of voice", showlegend=False, row=1, col=2,
                hovertemplate="%{x}: %{y:.1f}% of brand mentions<extra></extra>")
    fig.update_yaxes(rangemode="tozero")
    return style(fig, title="Brand visibility in AI assistants' answers", height=380)
