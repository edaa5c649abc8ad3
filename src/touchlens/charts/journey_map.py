"""The journey map: touchpoints grouped by stage, with the emotion curve and pain points.

- x: touchpoints, ordered by stage (awareness → advocacy), each stage a shaded band;
- bars: reach (distinct customers) of each touchpoint;
- emotion curve: CSAT (top-2-box %, right axis) of the touchpoints that have one, joined
  across stages; a dotted line gives each stage's pooled CSAT (Σ top-2 / Σ n);
- pain points (red ✕): the insights layer's flags (``ws.journey_map()``) when given its
  touchpoint table; on a scorecard, touchpoints whose CSAT is below ``PAIN_CSAT`` % with at
  least ``MIN_N`` responses (a display rule).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from touchlens.charts.theme import BAD, STAGE_COLOURS, empty, style
from touchlens.store.schema import STAGES

PAIN_CSAT = 50.0
MIN_N = 30


def pain_points(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Touchpoints flagged as pain points, worst CSAT first: the insights layer's
    ``pain_point`` flag when the table has one (``ws.journey_map().touchpoints``), else the
    display rule above."""
    sc = scorecard
    if "pain_point" in sc:
        flagged = sc[sc["pain_point"].fillna(False).astype(bool)]
    else:
        flagged = sc[(sc["csat"] < PAIN_CSAT) & (sc["csat_n"] >= MIN_N)]
    return flagged.sort_values("csat")


def stage_csat(scorecard: pd.DataFrame) -> pd.DataFrame:
    """Pooled CSAT per stage: Σ(csat% × n) / Σ n over its touchpoints (= Σ top-2 / Σ n)."""
    sc = scorecard[scorecard["csat_n"] > 0]
    if sc.empty:
        return pd.DataFrame(columns=["stage", "csat", "csat_n"])
    weighted = (sc["csat"] * sc["csat_n"]).groupby(sc["stage"]).sum()
    n = sc.groupby("stage")["csat_n"].sum()
    out = pd.DataFrame({"csat": weighted / n, "csat_n": n}).reset_index()
    return out


def journey_map(scorecard: pd.DataFrame) -> go.Figure:
    """Stages × touchpoints (see the module docstring)."""
    if scorecard.empty:
        return empty("No touchpoints in this period")
    rank = {s: i for i, s in enumerate(STAGES)}
    sc = scorecard.assign(_o=scorecard["stage"].map(rank).fillna(len(STAGES)))
    sc = sc.sort_values(["_o", "reach"], ascending=[True, False]).reset_index(drop=True)
    stage = sc["stage"].fillna("unclassified")
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_bar(x=sc["touchpoint"], y=sc["reach"], name="reach (customers)",
                marker_color=[STAGE_COLOURS.get(s, "#94a3b8") for s in stage], opacity=0.55,
                customdata=stage, hovertemplate="%{x} (%{customdata})<br>reach %{y:,}"
                "<extra></extra>")
    has = sc[sc["csat_n"] > 0]
    few = has["csat_n"] < MIN_N  # hollow markers: too few responses to rely on
    fig.add_scatter(x=has["touchpoint"], y=has["csat"], name="emotion curve (CSAT %)",
                    mode="lines+markers", line={"color": "#0f172a", "width": 2.5},
                    marker={"size": 9, "symbol": ["circle-open" if f else "circle"
                                                  for f in few]},
                    secondary_y=True,
                    customdata=has["csat_n"],
                    hovertemplate="%{x}<br>CSAT %{y:.0f}% (n=%{customdata})<extra></extra>")
    pains = pain_points(sc)
    if not pains.empty:
        fig.add_scatter(x=pains["touchpoint"], y=pains["csat"].fillna(2.0), name="pain point",
                        mode="markers", marker={"symbol": "x", "size": 16, "color": BAD,
                                                "line": {"width": 2, "color": BAD}},
                        secondary_y=True, hovertemplate="pain point: %{x}<br>CSAT %{y:.0f}%"
                        "<extra></extra>")
    per_stage = stage_csat(sc)
    for row in per_stage.itertuples():
        members = sc.index[stage == row.stage]
        fig.add_scatter(x=[sc["touchpoint"][members.min()], sc["touchpoint"][members.max()]],
                        y=[row.csat, row.csat], mode="lines", showlegend=False,
                        line={"color": STAGE_COLOURS.get(row.stage, "#94a3b8"), "width": 2,
                              "dash": "dot"}, secondary_y=True,
                        hovertemplate=f"{row.stage}: CSAT {row.csat:.0f}% "
                        f"(n={int(row.csat_n)})<extra></extra>")
    for name in dict.fromkeys(stage):
        members = sc.index[stage == name]
        fig.add_vrect(x0=members.min() - 0.5, x1=members.max() + 0.5, line_width=0,
                      fillcolor=STAGE_COLOURS.get(name, "#e2e8f0"), opacity=0.07,
                      annotation_text=f"<b>{name}</b>", annotation_position="top left",
                      annotation_font={"color": STAGE_COLOURS.get(name, "#475569")})
    fig.update_yaxes(title_text="reach (customers)", secondary_y=False, rangemode="tozero")
    fig.update_yaxes(title_text="CSAT % (top-2-box; hollow: n < 30)", secondary_y=True,
                     range=[0, 105], tickmode="array", tickvals=[0, 25, 50, 75, 100],
                     showgrid=False)
    fig.update_xaxes(tickangle=-50, tickfont={"size": 11})
    fig = style(fig, title="Journey map: reach by stage, emotion curve and pain points",
                height=540)
    fig.update_layout(margin={"t": 100, "b": 140}, legend={"y": 1.1, "x": 1, "xanchor": "right"})
    return fig


def journey_map_from(jm: object, channel: str | None = None) -> go.Figure:
    """The insights layer's journey map (:func:`touchlens.insights.figures.
    journey_map_figure`: emotion curve over stages, touchpoints with pain points and moments
    of truth) for a :class:`touchlens.insights.JourneyMap`; ``channel`` keeps that channel's
    touchpoints in the lower panel (the stage curve stays whole)."""
    from dataclasses import replace

    from touchlens.insights.figures import journey_map_figure

    if channel is not None:
        tps = jm.touchpoints  # type: ignore[attr-defined]
        jm = replace(jm, touchpoints=tps[tps["channel"] == channel].reset_index(drop=True))
    return journey_map_figure(jm)  # type: ignore[arg-type]
