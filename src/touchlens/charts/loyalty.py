"""Loyalty charts over the loyalty layer's tables (RFM segments, churn, CLV, cohorts)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from touchlens.charts.theme import ACCENT, BAD, GOOD, MUTED, empty, style


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


def clv_distribution(pred: pd.DataFrame, currency: str = "") -> go.Figure:
    """Histograms of predicted CLV (left) and P(alive) (right) over customers, from
    :meth:`Workspace.clv_predict`. When the model gives no CLV (too little repeat buying to
    fit BG/NBD), the left panel says so and only P(alive) is drawn."""
    if pred.empty or "p_alive" not in pred:
        return empty("No customers with purchases in this period")
    from plotly.subplots import make_subplots

    clv = pred["clv"].dropna() if "clv" in pred else pd.Series(dtype=float)
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.1, subplot_titles=(
        f"predicted CLV {currency}".strip() if len(clv) else "predicted CLV: not estimable",
        "P(alive)"))
    if len(clv):
        fig.add_histogram(x=clv, nbinsx=40, marker_color=ACCENT, name="CLV",
                          showlegend=False, row=1, col=1,
                          hovertemplate="CLV %{x}<br>%{y:,} customers<extra></extra>")
        fig.update_xaxes(title_text=f"CLV {currency}".strip(), row=1, col=1)
    else:
        fig.add_annotation(text="too little repeat buying to fit the CLV model",
                           showarrow=False, xref="x domain", yref="y domain", x=0.5, y=0.5,
                           font={"color": MUTED})
        fig.update_xaxes(visible=False, row=1, col=1)
        fig.update_yaxes(visible=False, row=1, col=1)
    fig.add_histogram(x=pred["p_alive"].dropna(), nbinsx=20, xbins={"start": 0, "end": 1.0001,
                                                                      "size": 0.05},
                      marker_color=GOOD, name="P(alive)", showlegend=False, row=1, col=2,
                      hovertemplate="P(alive) %{x}<br>%{y:,} customers<extra></extra>")
    fig.update_xaxes(title_text="P(alive)", range=[0, 1.0], row=1, col=2)
    fig.update_yaxes(title_text="customers", row=1, col=1)
    return style(fig, title=f"Customer lifetime value ({len(pred):,} customers)", height=360)


def cohort_heatmap(cohorts: pd.DataFrame) -> go.Figure:
    """Retention % per cohort (rows) × periods since the first purchase (columns), from
    :meth:`Workspace.cohorts`; the pivot is for display only."""
    if cohorts.empty or "retention" not in cohorts:
        return empty("No purchases in this period")
    grid = cohorts.pivot_table(index="cohort", columns="period", values="retention",
                               aggfunc="first").sort_index()
    sizes = cohorts.groupby("cohort")["n_customers"].first().reindex(grid.index)
    labels = [f"{str(c)[:10]} (n={int(n):,})" for c, n in zip(grid.index, sizes, strict=True)]
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy() * 100, x=[str(c) for c in grid.columns], y=labels,
        colorscale="Blues", zmin=0, zmax=100, colorbar={"title": "%"},
        text=[[f"{v * 100:.0f}%" if v == v else "" for v in row] for row in grid.to_numpy()],
        texttemplate="%{text}",
        hovertemplate="%{y}<br>period %{x}: %{z:.1f}% active<extra></extra>"))
    fig.update_xaxes(title_text="periods since first purchase", type="category")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return style(fig, title="Retention by cohort", height=max(300, 36 * len(grid) + 140))
