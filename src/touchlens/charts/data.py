"""The Workspace calls behind each chart and table of the dashboard and the report.

Every function takes a Workspace (already narrowed to a period/channel by the caller, see
:mod:`touchlens.api.scope`) and returns what one panel shows. ``channel`` limits
touchpoint-level tables to that channel's rows.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from touchlens.io.pii import mask_text
from touchlens.workspace import Workspace

if TYPE_CHECKING:
    import ibis.expr.types as ir

ALL_PATHS = 10**9  # top_paths(top=ALL_PATHS) returns every distinct path
# Models on the attribution page: fast on the demo workspace (about 3 s for all seven, cold).
# The counterfactual model takes ~30 s there: ask for it with ``models=`` (docs/web.md).
ATTRIBUTION_MODELS = ("last", "first", "linear", "position", "time_decay", "markov",
                      "shapley")
ROI_MODEL = "markov"
BRANDS_ENV = "TOUCHLENS_BRANDS"


def only_channel(frame: pd.DataFrame, channel: str | None) -> pd.DataFrame:
    """The rows of ``channel`` (all rows when None or the frame has no channel column)."""
    if channel is None or "channel" not in frame:
        return frame
    return frame[frame["channel"] == channel].reset_index(drop=True)


def touchpoints(ws: Workspace, channel: str | None = None) -> pd.DataFrame:
    return only_channel(ws.touchpoints(), channel)


def scorecard(ws: Workspace, channel: str | None = None) -> pd.DataFrame:
    return only_channel(ws.scorecard(), channel)


def all_paths(ws: Workspace, *, level: str = "touchpoint", converting_only: bool = False
              ) -> pd.DataFrame:
    """Every distinct path with its counts, most frequent first (for flows and top-N)."""
    return ws.top_paths(top=ALL_PATHS, level=level, converting_only=converting_only)


def _num(value: Any) -> float | None:
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else value


def outcomes_table(ws: Workspace) -> ir.Table:
    """One row per journey (:data:`touchlens.metrics.outcomes.OUTCOME_COLUMNS`), lazy: the
    stored journeys when the workspace keeps them, else computed from the journey-tagged
    events without building the paths (:func:`touchlens.metrics.journey_outcomes`)."""
    from touchlens.metrics import journey_outcomes
    from touchlens.metrics.outcomes import OUTCOME_COLUMNS

    if ws.journeys_stored():
        return ws.journeys_table().select(*OUTCOME_COLUMNS)
    return journey_outcomes(ws.journey_events())


def daily(ws: Workspace) -> pd.DataFrame:
    """Journeys, conversions and revenue per UTC day of the journeys' end (columns day —
    UTC midnight —, n_journeys, n_conversions, revenue; ordered by day; see
    :func:`touchlens.metrics.daily_outcomes`): the overview's trend."""
    from touchlens.metrics import daily_outcomes

    frame = ws.store.execute(daily_outcomes(outcomes_table(ws)))
    frame["day"] = pd.to_datetime(frame["day"], utc=True)
    return frame


def kpis(ws: Workspace) -> dict[str, Any]:
    """Headline numbers: customers, events, journeys, conversions, conversion rate (converting
    journeys / journeys), revenue, and NPS/CSAT/CES with n over all feedback."""
    from touchlens.metrics import outcome_totals

    stats = ws.stats()
    totals = ws.store.execute(outcome_totals(outcomes_table(ws))).iloc[0]
    n = int(totals["journeys"])
    conversions = int(totals["conversions"]) if n else 0
    out: dict[str, Any] = {
        "customers": stats["customers"], "events": stats["events"],
        "feedback": stats["feedback"], "journeys": n, "conversions": conversions,
        "conversion_rate": conversions / n if n else None,
        "revenue": float(totals["revenue"]) if n else 0.0,
        "currency": ws.settings.currency,
    }
    cx = ws.cx_overall()
    for name in ("nps", "csat", "ces"):
        row = cx.iloc[0] if len(cx) else None
        out[name] = None if row is None else _num(row[name])
        out[f"{name}_n"] = 0 if row is None else int(row[f"{name}_n"])
    return out


def has(ws: Workspace, method: str) -> bool:
    """True when the Workspace class offers ``method`` (checked on the class, so properties
    such as ``voc`` are not evaluated)."""
    return hasattr(type(ws), method)


LAYERS = {"attribution": "attribution", "voc": "voc", "insights": "recommendations",
          "funnel": "funnel", "flows": "flows", "journey_map": "journey_map",
          "loyalty": "rfm_segments", "clv": "clv_predict", "monitoring": "alerts",
          "ai_answers": "ai_visibility", "segments": "segments"}


def layers(ws: Workspace) -> dict[str, bool]:
    """Which optional analysis layers this Workspace offers (pages show "not available yet"
    for the others)."""
    return {layer: has(ws, method) for layer, method in LAYERS.items()}


def journey_map_touchpoints(ws: Workspace, channel: str | None = None) -> pd.DataFrame:
    """Per touchpoint: stage, reach, CSAT with n and pain-point flags — the insights layer's
    journey map when present, else the scorecard."""
    if has(ws, "journey_map"):
        return only_channel(ws.journey_map().touchpoints, channel)
    return scorecard(ws, channel)


def _mask_cell(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list | tuple) or hasattr(value, "tolist"):
        return [mask_text(v) if isinstance(v, str) else v for v in list(value)]
    return value


def masked(frame: pd.DataFrame, columns: tuple[str, ...] = ("text", "examples")
           ) -> pd.DataFrame:
    """``frame`` with emails, phone and card-like numbers masked in its free-text columns
    (:func:`touchlens.io.pii.mask_text`; list cells item by item). Every verbatim the
    dashboard or the report shows goes through here."""
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = pd.Series([_mask_cell(v) for v in out[col].tolist()], index=out.index,
                                 dtype=object)
    return out


def verbatims(ws: Workspace, *, limit: int = 50) -> pd.DataFrame:
    """The latest texts with their sentiment and topics (VoC layer), newest first; PII
    masked."""
    texts = ws.voc.sentiment()
    cols = [c for c in ("occurred_at", "touchpoint", "channel", "language", "sentiment",
                        "sentiment_score", "topics", "text") if c in texts]
    return masked(texts.sort_values("occurred_at", ascending=False)[cols].head(limit))


def voc_pain_points(ws: Workspace) -> pd.DataFrame:
    """The VoC pain points (topic × touchpoint) with their example verbatims masked."""
    return masked(ws.voc.pain_points())


def attribution_compare(ws: Workspace, models: tuple[str, ...] = ATTRIBUTION_MODELS
                        ) -> pd.DataFrame:
    """Each model's share of conversions per channel side by side (+ min, max, spread)."""
    return ws.attribution_compare(list(models))


def attribution_roi(ws: Workspace, model: str = ROI_MODEL) -> pd.DataFrame:
    """Spend, attributed conversions and revenue, CPA, ROAS and the bounded, budget-neutral
    reallocation suggestion per channel; ``attrs["assumptions"]`` says what it assumes."""
    return ws.attribution_roi(model)


def alerts(ws: Workspace, *, limit: int = 20) -> pd.DataFrame:
    """The latest stored alerts with their evidence; ``band`` = the expected range as text."""
    table = ws.alerts().head(limit)
    if table.empty:
        return table.assign(band=pd.Series(dtype=object))
    rate = table["metric"].isin(["conversion_rate", "negative_share"])
    scale = rate.map({True: 100.0, False: 1.0})
    unit = rate.map({True: "%", False: ""})
    band = [f"{lo * s:,.1f} – {hi * s:,.1f}{u}" if lo == lo and hi == hi else "—"
            for lo, hi, s, u in zip(table["band_low"], table["band_high"], scale, unit,
                                    strict=True)]
    return table.assign(band=band)


def brands_spec(given: str | None, db: Path | None) -> Any:
    """The brands whose AI visibility is shown: ``given`` (names, yours first, comma
    separated), else ``$TOUCHLENS_BRANDS`` (a YAML path or names), else ``brands.yaml`` next
    to the workspace file; None when none is configured."""
    for text in (given, os.environ.get(BRANDS_ENV)):
        if text and text.strip():
            text = text.strip()
            if text.endswith((".yaml", ".yml")):
                return Path(text)
            names = [n.strip() for n in text.split(",") if n.strip()]
            if names:
                return names
    if db is not None and (Path(db).parent / "brands.yaml").exists():
        return Path(db).parent / "brands.yaml"
    return None


def ai_answers_count(ws: Workspace) -> int:
    """Stored AI-assistant answers (0 when the table is empty or absent)."""
    try:
        return ws.store.count("ai_answers")
    except Exception:  # an older workspace without the table
        return 0


PROSPECT = "prospect"  # customers without a purchase (not in ws.rfm())


def segment_members(ws: Workspace) -> dict[str, frozenset[str]]:
    """RFM segment → its customers (``ws.rfm()`` over the whole workspace); ``prospect`` is
    not listed: it means everyone without a purchase, i.e. not in any of these."""
    rfm = ws.rfm()
    if rfm.empty:
        return {}
    return {str(seg): frozenset(ids.astype(str)) for seg, ids in
            rfm.groupby("segment", observed=True)["customer_id"]}
