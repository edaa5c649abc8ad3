"""Charts over the insights and VoC layers: funnel, flow links, recommendations, topics."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from touchlens.charts.theme import ACCENT, BAD, GOOD, MUTED, PALETTE, empty, style


def funnel(steps: pd.DataFrame) -> go.Figure:
    """:meth:`Workspace.funnel` rows (step_name, n, rate_from_previous, drop_off) as a funnel
    with the drop-off to the next step written on each bar."""
    if steps.empty:
        return empty("No journeys in this period")
    text = [f"{n:,} · {100 * r:.0f}% of previous" if r == r else f"{n:,}"
            for n, r in zip(steps["n"], steps["rate_from_previous"], strict=True)]
    fig = go.Figure(go.Funnel(
        y=steps["step_name"].astype(str), x=steps["n"], text=text, textinfo="text",
        marker={"color": PALETTE[: len(steps)]},
        customdata=(steps["drop_off"].fillna(0) * 100).round(1),
        hovertemplate="%{y}: %{x:,}<br>drop-off to the next step %{customdata}%"
                      "<extra></extra>"))
    return style(fig, title="Customers reaching each stage", height=420)


def flow_sankey(links: pd.DataFrame, touchpoint: str, direction: str) -> go.Figure:
    """:meth:`Workspace.flows` links (source_step, source, target_step, target, n_journeys)
    as a Sankey; nodes are labelled with their step offset so the diagram stays acyclic."""
    if links.empty:
        return empty(f"No journeys through {touchpoint} in this period")

    def label(step: int, name: str) -> str:
        return name if step == 0 else f"{step:+d}· {name}".replace("-", "−")

    src = [label(int(s), str(n)) for s, n in zip(links["source_step"], links["source"],
                                                  strict=True)]
    dst = [label(int(s), str(n)) for s, n in zip(links["target_step"], links["target"],
                                                  strict=True)]
    nodes = list(dict.fromkeys(src + dst))
    index = {n: i for i, n in enumerate(nodes)}
    colours = [BAD if n.endswith("(end)") else PALETTE[0] if n == touchpoint
               else PALETTE[(i % (len(PALETTE) - 1)) + 1] for i, n in enumerate(nodes)]
    fig = go.Figure(go.Sankey(
        arrangement="snap", node={"label": nodes, "color": colours, "pad": 14, "thickness": 16},
        link={"source": [index[s] for s in src], "target": [index[t] for t in dst],
              "value": links["n_journeys"].tolist(), "color": "rgba(148,163,184,0.35)"}))
    word = "after" if direction == "after" else "before"
    return style(fig, title=f"Steps {word} {touchpoint}", height=560)


def recommendations(recs: pd.DataFrame, *, top: int = 12) -> go.Figure:
    """Money at stake per month of the top actions, with its interval (whiskers)."""
    if recs.empty or "money_per_month" not in recs:
        return empty("No recommendation for this period")
    df = recs.dropna(subset=["money_per_month"]).head(top).iloc[::-1]
    if df.empty:
        return empty("No action with an estimate of money at stake in this period")
    known = df["currency"].dropna() if "currency" in df else pd.Series(dtype=object)
    currency = str(known.iloc[0]) if len(known) else ""
    fig = go.Figure(go.Bar(
        x=df["money_per_month"], y=df["action"].astype(str), orientation="h",
        marker_color=[BAD if k == "pain_point" else ACCENT for k in df.get("kind", [])],
        error_x={"type": "data", "symmetric": False,
                 "array": (df["money_high"] - df["money_per_month"]).fillna(0),
                 "arrayminus": (df["money_per_month"] - df["money_low"]).fillna(0),
                 "color": "#334155"},
        hovertemplate="%{y}<br>%{x:,.0f} " + currency + " per month<extra></extra>"))
    fig.update_yaxes(automargin=True, tickfont={"size": 11})
    fig.update_xaxes(title_text=f"money at stake per month {currency}".strip())
    return style(fig, title="What to fix first: money at stake", height=max(320,
                                                                            32 * len(df) + 110))


def topics(topic_table: pd.DataFrame) -> go.Figure:
    """Mentions per topic split into negative and other (bars), from ``ws.voc.topics()``."""
    if topic_table.empty:
        return empty("No texts in this period")
    df = topic_table.sort_values("n_mentions")
    negative = df["n_negative"]
    fig = go.Figure()
    fig.add_bar(x=negative, y=df["topic"], orientation="h", name="negative", marker_color=BAD)
    fig.add_bar(x=df["n_mentions"] - negative, y=df["topic"], orientation="h",
                name="neutral or positive", marker_color=GOOD, opacity=0.7)
    fig.update_layout(barmode="stack")
    fig.update_xaxes(title_text="mentions")
    fig.update_yaxes(automargin=True)
    fig = style(fig, title="Topics in customers' words", height=max(300, 30 * len(df) + 120))
    fig.update_layout(legend={"font": {"color": MUTED}})
    return fig
