"""The journey map as a picture (Plotly), drawn from :class:`~touchlens.insights.JourneyMap`.

Two panels sharing the stage order (awareness → advocacy):

- top: the emotion curve — each stage's emotion index (−1..+1, see
  :mod:`touchlens.insights.journey_map`) with the number of pain points and moments of truth
  written under it, and each touchpoint's own index as a faint dot;
- bottom: the touchpoints of each stage as bars of reach (customers), red ✕ over pain points,
  a star over moments of truth; gaps (a stage without an owned touchpoint, an empty stage)
  are written in the stage's band.

Only drawing happens here: every number comes from the journey map's tables.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from touchlens.charts.theme import BAD, MUTED, STAGE_COLOURS, empty, style
from touchlens.insights.journey_map import JourneyMap
from touchlens.store.schema import STAGES

STAR = "#f59e0b"


def _touchpoint_order(tps: pd.DataFrame) -> pd.DataFrame:
    rank = {s: i for i, s in enumerate(STAGES)}
    df = tps.assign(_o=tps["stage"].map(rank).fillna(len(STAGES)))
    return df.sort_values(["_o", "reach", "touchpoint"], ascending=[True, False, True]
                          ).reset_index(drop=True)


def journey_map_figure(jm: JourneyMap) -> go.Figure:
    """Emotion curve over stages and touchpoint reach with pain points and moments of truth."""
    if jm.touchpoints.empty:
        return empty("No touchpoints in this period")
    tps = _touchpoint_order(jm.touchpoints)
    stage = tps["stage"].fillna("unclassified")
    fig = make_subplots(rows=2, cols=1, row_heights=[0.36, 0.64], vertical_spacing=0.14)
    st = jm.stages.set_index("stage").reindex([s for s in STAGES])
    labels = [f"<b>{s}</b><br>{int(st.loc[s, 'pain_points'])} pain · "
              f"{int(st.loc[s, 'moments_of_truth'])} MoT" for s in STAGES]
    fig.add_scatter(x=labels, y=st["emotion"], mode="lines+markers", name="stage emotion",
                    line={"color": "#0f172a", "width": 3, "shape": "spline"},
                    marker={"size": 12, "color": [STAGE_COLOURS[s] for s in STAGES]},
                    connectgaps=True, row=1, col=1,
                    hovertemplate="%{x}<br>emotion %{y:.2f}<extra></extra>")
    dots = tps[tps["emotion"].notna()]
    if not dots.empty:
        where = {s: labels[i] for i, s in enumerate(STAGES)}
        fig.add_scatter(x=dots["stage"].map(where), y=dots["emotion"], mode="markers",
                        name="touchpoint emotion", marker={"size": 8, "color": MUTED},
                        text=dots["touchpoint"], row=1, col=1,
                        hovertemplate="%{text}<br>emotion %{y:.2f}<extra></extra>")
    fig.add_hline(y=0, line={"color": MUTED, "dash": "dot"}, row=1, col=1)
    fig.add_bar(x=tps["touchpoint"], y=tps["reach"], name="reach (customers)",
                marker_color=[STAGE_COLOURS.get(s, MUTED) for s in stage], opacity=0.6,
                customdata=stage, row=2, col=1,
                hovertemplate="%{x} (%{customdata})<br>reach %{y:,}<extra></extra>")
    for flag, symbol, colour, name, lift in (
            ("pain_point", "x", BAD, "pain point", 1.06),
            ("moment_of_truth", "star", STAR, "moment of truth", 1.18)):
        hit = tps[tps[flag].astype(bool)]
        if not hit.empty:
            fig.add_scatter(x=hit["touchpoint"], y=hit["reach"] * lift, mode="markers",
                            name=name, marker={"symbol": symbol, "size": 14, "color": colour},
                            row=2, col=1, hovertemplate=f"{name}: %{{x}}<extra></extra>")
    gaps = jm.gaps[jm.gaps["kind"].isin(["no_owned_touchpoint", "empty_stage"])]
    for name in dict.fromkeys(stage):
        members = tps.index[stage == name]
        note = gaps.loc[gaps["stage"] == name, "kind"].str.replace("_", " ").tolist()
        fig.add_vrect(x0=members.min() - 0.5, x1=members.max() + 0.5, line_width=0,
                      fillcolor=STAGE_COLOURS.get(name, "#e2e8f0"), opacity=0.07, row=2,
                      col=1, annotation_text=f"<b>{name}</b>" + (
                          f"<br><span style='color:{BAD}'>{'; '.join(note)}</span>"
                          if note else ""), annotation_position="top left")
    fig.update_yaxes(range=[-1.05, 1.05], title_text="emotion (−1 … +1)", row=1, col=1)
    fig.update_yaxes(title_text="customers", rangemode="tozero", row=2, col=1)
    fig.update_xaxes(tickangle=-50, tickfont={"size": 11}, row=2, col=1)
    fig = style(fig, title="Journey map from data: emotion, touchpoints, pain points",
                height=760)
    fig.update_layout(margin={"t": 120, "b": 140}, legend={"y": 1.04})
    return fig
