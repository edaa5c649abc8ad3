"""One look for every chart: template, margins, colours, and the empty-state figure."""

from __future__ import annotations

import plotly.graph_objects as go

from touchlens.store.schema import STAGES

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
ACCENT = "#2563eb"
GOOD = "#059669"
BAD = "#dc2626"
MUTED = "#94a3b8"
STAGE_COLOURS = dict(zip(STAGES, ("#6366f1", "#0ea5e9", "#10b981", "#f59e0b", "#ec4899"),
                         strict=True))
PALETTE = ["#2563eb", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899",
           "#84cc16", "#f97316", "#64748b"]


def style(fig: go.Figure, *, title: str | None = None, height: int = 420) -> go.Figure:
    """Apply the shared layout (white template, compact margins, legend on top)."""
    fig.update_layout(
        template="plotly_white", height=height, font={"family": FONT, "size": 13},
        margin={"l": 60, "r": 24, "t": 56 if title else 24, "b": 56},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        colorway=PALETTE, hoverlabel={"font": {"family": FONT}},
    )
    if title:
        fig.update_layout(title={"text": title, "x": 0, "xanchor": "left",
                                 "font": {"size": 16}})
    return fig


def empty(message: str, *, height: int = 240) -> go.Figure:
    """A blank figure that says why there is nothing to draw."""
    fig = go.Figure()
    fig.add_annotation(text=message, showarrow=False, font={"size": 15, "color": MUTED},
                       xref="paper", yref="paper", x=0.5, y=0.5)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, height=height)


def preload() -> None:
    """Build and serialise one throw-away figure with every kind of trace, shape and axis the
    builders use. Plotly imports and builds its validators on first use (~0.2 s for the
    journey map's first drawing); a server calls this at start instead of on a first page."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, specs=[[{"secondary_y": True}, {}]])
    fig.add_bar(x=[1], y=[1], marker={"color": [1], "colorscale": "Blues"}, row=1, col=1)
    fig.add_scatter(x=[1], y=[1], mode="lines+markers", secondary_y=True, row=1, col=1)
    fig.add_histogram(x=[1.0], row=1, col=2)
    fig.add_vrect(x0=0, x1=1, fillcolor=ACCENT, opacity=0.1, line_width=0,
                  annotation_text="stage", row=1, col=1)
    fig.add_hline(y=0, line_dash="dot")
    fig.add_annotation(text="·", x=1, y=1, showarrow=True)
    for trace in (go.Sankey(node={"label": ["a", "b"]}, link={"source": [0], "target": [1],
                                                               "value": [1]}),
                  go.Heatmap(z=[[1]]), go.Funnel(y=["a"], x=[1])):
        go.Figure(trace).to_json()
    style(fig, title="·").to_json()
