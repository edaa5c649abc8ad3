"""``touchlens report``: one self-contained HTML file (plotly.js inlined, opens offline).

The quarterly touchpoint review: headline KPIs against the previous period, the journey map,
the top pain points with the revenue that flows through them, attribution (models side by
side, return on spend), the most frequent journeys, survey scores with a few verbatims (PII
masked), the scorecard, and the layers not in this version yet listed as such.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import plotly
import plotly.graph_objects as go
from jinja2 import Environment, FileSystemLoader, select_autoescape

from touchlens import __version__
from touchlens import charts as C
from touchlens.api.scope import Scope
from touchlens.api.served import ServedWorkspace
from touchlens.charts import data as D
from touchlens.workspace import Workspace

HERE = Path(__file__).parent
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
KPI_ROWS = (("customers", "Customers", "int"), ("journeys", "Journeys", "int"),
            ("conversions", "Conversions", "int"), ("conversion_rate", "Conversion rate", "pct"),
            ("revenue", "Revenue", "money"), ("nps", "NPS", "score"),
            ("csat", "CSAT % (top-2-box)", "score"), ("ces", "CES (1–7)", "score"))


def _fmt(value: Any, kind: str, currency: str = "") -> str:
    if value is None:
        return "—"
    if kind == "pct":
        return f"{100 * value:.1f}%"
    if kind == "score":
        return f"{value:.1f}"
    if kind == "money":
        return f"{value:,.0f} {currency}".strip()
    return f"{int(value):,}"


def _delta(cur: Any, prev: Any, kind: str) -> str:
    if cur is None or prev is None:
        return ""
    diff = cur - prev
    if kind == "pct":
        return f"{100 * diff:+.1f} pp"
    if kind == "score":
        return f"{diff:+.1f}"
    return f"{100 * diff / abs(prev):+.1f}%" if prev else ""


def _figure(fig: go.Figure) -> str:
    return fig.to_html(full_html=False, include_plotlyjs=False,
                       config={"displaylogo": False, "responsive": True})


def build_report(ws: Workspace, scope: Scope | None = None) -> str:
    """The report's HTML for ``scope`` (default: everything) of the DuckDB workspace ``ws``."""
    scope = scope or Scope()
    lock = threading.RLock()

    def scoped(s: Scope) -> ServedWorkspace:
        return ServedWorkspace(ws.store, lock, ws.settings, s)

    with scoped(scope) as cur_ws:
        kpis = D.kpis(cur_ws)
        scorecard = D.scorecard(cur_ws, scope.channel)
        map_table = D.journey_map_touchpoints(cur_ws, scope.channel)
        jm = cur_ws.journey_map() if D.has(cur_ws, "journey_map") else None
        paths = D.all_paths(cur_ws)
        daily = D.daily(cur_ws)
        cx = cur_ws.cx_scores("channel")
        layers = D.layers(cur_ws)
        pains = _pain_rows(cur_ws, map_table, scorecard, kpis["currency"])
        all_recs = cur_ws.recommendations() if layers["insights"] else None
        extra = _layer_figures(cur_ws, layers, all_recs)
        recs = None if all_recs is None else all_recs.head(10)
        roi = D.attribution_roi(cur_ws) if layers["attribution"] else None
        verbatims = D.verbatims(cur_ws, limit=8) if layers["voc"] else None
    previous = None
    if scope.previous() is not None:
        with scoped(scope.previous()) as prev_ws:
            previous = D.kpis(prev_ws)
    currency = kpis["currency"]
    kpi_rows = [{"label": label, "value": _fmt(kpis[key], kind, currency),
                 "previous": _fmt(previous[key], kind, currency) if previous else "",
                 "delta": _delta(kpis[key], previous[key], kind) if previous else ""}
                for key, label, kind in KPI_ROWS]
    top_tp = next((s for s in str(paths["path"].iloc[0]).split(" > ") if s), None) \
        if len(paths) else None
    figures = {
        "trend": _figure(C.trend(daily, currency=currency)),
        "journey_map": _figure(C.journey_map(map_table) if jm is None
                               else C.journey_map_from(jm, scope.channel)),
        "top_paths": _figure(C.top_paths(paths.head(10))),
        "flows": _figure(C.flows(paths, top_tp, total_journeys=int(paths["n_journeys"].sum())
                                 if len(paths) else None)),
        "cx": _figure(C.cx_scores(D.only_channel(cx, scope.channel), "channel")),
        "conversion": _figure(C.scorecard_metric(scorecard, "conversion_rate")),
        **{name: _figure(fig) for name, fig in extra.items()},
    }
    recommendations = None if recs is None else [
        {"rank": int(r.rank), "action": r.action, "touchpoint": r.touchpoint,
         "customers": f"{int(r.customers_affected):,}",
         "money": f"{_fmt(r.money_per_month, 'money', str(r.currency))} "
                  f"({_fmt(r.money_low, 'money')}–{_fmt(r.money_high, 'money')})",
         "confidence": _fmt(r.confidence, "pct"), "evidence": r.evidence}
        for r in recs.itertuples()]
    env = Environment(loader=FileSystemLoader(str(HERE / "templates")),
                      autoescape=select_autoescape(["html"]))
    return env.get_template("report.html").render(
        scope=scope.label(), previous=scope.previous().label() if scope.previous() else None,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), version=__version__,
        kpis=kpi_rows, pains=pains, figures=figures, layers=layers,
        recommendations=recommendations, roi=_roi_rows(roi, currency),
        roi_assumptions=None if roi is None else roi.attrs.get("assumptions", ""),
        verbatims=None if verbatims is None else [
            {"when": str(r.occurred_at)[:10], "touchpoint": r.touchpoint,
             "sentiment": str(r.sentiment), "text": str(r.text)}
            for r in verbatims.itertuples() if isinstance(r.text, str)],
        plotly_js=PLOTLY_JS.read_text(encoding="utf-8"),
        scorecard=scorecard.head(40).to_dict("records"), currency=currency)


def _pain_rows(ws: Workspace, map_table: pd.DataFrame, scorecard: pd.DataFrame,
               currency: str) -> list[dict[str, str]]:
    """Top pain points with money at stake: the insights layer's table when present, else the
    journey map's flagged touchpoints with the revenue of the journeys through them."""
    if D.has(ws, "journey_map"):
        table = ws.journey_map().pain_points.head(10)
        return [{"touchpoint": r.touchpoint, "stage": str(r.stage), "what": str(r.detail),
                 "customers": f"{int(r.affected_customers):,}"
                 if r.affected_customers == r.affected_customers else "—",
                 "money": _fmt(None if r.per_month_at_risk != r.per_month_at_risk
                               else r.per_month_at_risk, "money", currency) + " / month"}
                for r in table.itertuples()]
    flagged = C.pain_points(scorecard)
    return [{"touchpoint": r.touchpoint, "stage": str(r.stage),
             "what": f"CSAT {r.csat:.0f}% (n={int(r.csat_n)})",
             "customers": f"{int(r.reach):,}",
             "money": _fmt(r.influenced_revenue, "money", currency) + " influenced"}
            for r in flagged.itertuples()]


def _roi_rows(roi: pd.DataFrame | None, currency: str) -> list[dict[str, str]] | None:
    """The ROI table's channels with spend, for the report."""
    if roi is None:
        return None
    spent = roi[roi["spend"] > 0]
    return [{"channel": str(r.channel), "spend": _fmt(r.spend, "money", currency),
             "revenue": _fmt(r.revenue, "money", currency),
             "roas": "—" if r.roas != r.roas else f"{r.roas:,.1f}",
             "change": "—" if r.suggested_change_pct != r.suggested_change_pct
             else f"{100 * r.suggested_change_pct:+.1f}%"} for r in spent.itertuples()]


def _layer_figures(ws: Workspace, layers: dict[str, bool],
                   recommendations: pd.DataFrame | None) -> dict[str, go.Figure]:
    figures: dict[str, go.Figure] = {}
    if layers["attribution"]:
        figures["attribution"] = C.attribution_models(D.attribution_compare(ws))
    if layers["funnel"]:
        figures["funnel"] = C.funnel(ws.funnel())
    if recommendations is not None:
        figures["recommendations"] = C.recommendations(recommendations)
    if layers["voc"]:
        figures["topics"] = C.topics(ws.voc.topics())
    return figures


def write_report(ws: Workspace, output: str | Path, scope: Scope | None = None) -> Path:
    """Write :func:`build_report` to ``output`` and register it as a written file (so
    ``touchlens erase`` can list it); returns the path."""
    path = Path(output)
    path.write_text(build_report(ws, scope), encoding="utf-8")
    ws.register_written_file(path, "report")
    return path
