"""Attribution charts: several models' credit side by side, and the reallocation suggestion.

Both draw :meth:`Workspace.attribution_compare` / :meth:`Workspace.attribution_roi` tables as
they are; nothing is recomputed here.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from touchlens.charts.theme import BAD, GOOD, MUTED, PALETTE, empty, style

NOT_MODELS = {"min_share", "max_share", "spread"}


def model_columns(compare: pd.DataFrame) -> list[str]:
    """The model columns of a compare table (everything but the label and the spread)."""
    label = compare.columns[0]
    return [c for c in compare.columns if c != label and c not in NOT_MODELS]


def attribution_models(compare: pd.DataFrame) -> go.Figure:
    """Share of conversions per channel (x) for each model (one bar colour per model); the
    labels are ordered by their largest share, so the channels that matter come first."""
    if compare.empty:
        return empty("No converting journeys in this period")
    label = compare.columns[0]
    models = model_columns(compare)
    order = compare.assign(_top=compare[models].max(axis=1)).sort_values("_top",
                                                                        ascending=False)
    fig = go.Figure()
    for i, model in enumerate(models):
        fig.add_bar(x=order[label].astype(str), y=order[model] * 100, name=model,
                    marker_color=PALETTE[i % len(PALETTE)],
                    hovertemplate=f"{model}<br>%{{x}}: %{{y:.1f}}% of conversions"
                                  "<extra></extra>")
    fig.update_layout(barmode="group", bargap=0.18, bargroupgap=0.04)
    fig.update_yaxes(title_text="share of conversions %", rangemode="tozero")
    fig.update_xaxes(tickangle=-35)
    fig = style(fig, title=f"Credit per {label}, model by model", height=470)
    fig.update_layout(margin={"t": 96}, legend={"y": 1.04})
    return fig


def reallocation(roi: pd.DataFrame) -> go.Figure:
    """The suggested budget change per label (bars, green up / red down) for the labels with
    spend; labels without spend have no suggestion and are left out."""
    if roi.empty or "suggested_change" not in roi:
        return empty("No spend recorded in this period")
    label = roi.columns[0]
    moved = roi[roi["suggested_change"].notna()].sort_values("suggested_change")
    if moved.empty:
        return empty("No spend recorded in this period")
    colours = [GOOD if v > 0 else BAD if v < 0 else MUTED for v in moved["suggested_change"]]
    fig = go.Figure(go.Bar(
        x=moved["suggested_change"], y=moved[label].astype(str), orientation="h",
        marker_color=colours, customdata=(moved["suggested_change_pct"] * 100).round(1),
        hovertemplate="%{y}: %{x:+,.0f} (%{customdata:+.1f}%)<extra></extra>"))
    fig.update_xaxes(title_text="suggested spend change (budget-neutral)", zeroline=True)
    fig.update_yaxes(automargin=True)
    return style(fig, title="Where to move budget", height=max(260, 34 * len(moved) + 120))
