"""The dashboard's pages and the panels on each (what the page template renders).

A panel is a chart (``/v1/charts/<chart>``), the KPI cards, the sortable scorecard table, or
an honest "not available yet" note for a layer this version does not compute. Panels with a
``layer`` are drawn only when the Workspace offers it (``/v1/layers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Panel:
    kind: str  # kpis | chart | table | records | unavailable | *-controls (see page.html)
    title: str = ""
    chart: str | None = None
    endpoint: str | None = None  # records: the /v1 route whose rows are listed
    columns: tuple[tuple[str, str, str], ...] = ()  # records: (key, header, format)
    params: dict[str, str] = field(default_factory=dict)
    note: str = ""
    layer: str | None = None
    wide: bool = True


@dataclass(frozen=True)
class Page:
    """``segments``: whether the global segment filter applies here (it narrows the customers
    whose events and feedback are read; pages where that would mislead ignore it)."""

    slug: str
    title: str
    intro: str
    panels: tuple[Panel, ...]
    segments: bool = True


def _missing(what: str, detail: str) -> Panel:
    return Panel("unavailable", title=what, note=detail)


RECOMMENDATION_COLUMNS = (
    ("rank", "#", "int"), ("action", "Action", "text"), ("touchpoint", "Touchpoint", "text"),
    ("customers_affected", "Customers", "int"), ("money_per_month", "Money / month", "money"),
    ("confidence", "Confidence", "pct"), ("evidence", "Evidence", "text"))
VERBATIM_COLUMNS = (
    ("occurred_at", "When", "date"), ("touchpoint", "Touchpoint", "text"),
    ("language", "Lang", "text"), ("sentiment", "Sentiment", "text"),
    ("topics", "Topics", "text"), ("text", "Verbatim", "text"))
ALERT_COLUMNS = (
    ("detected_at", "Detected", "date"), ("touchpoint", "Touchpoint", "text"),
    ("metric", "Metric", "text"), ("direction", "Direction", "text"),
    ("since", "Since", "date"), ("observed", "Observed", "num"),
    ("expected", "Expected", "num"), ("band", "Usual range", "text"),
    ("message", "What happened", "text"))
ROI_COLUMNS = (
    ("channel", "Channel", "text"), ("spend", "Spend", "money"),
    ("spend_share", "Spend share", "pct"), ("conversions", "Attributed conv.", "num"),
    ("revenue", "Attributed revenue", "money"), ("revenue_share", "Revenue share", "pct"),
    ("cpa", "CPA", "num"), ("roas", "ROAS", "num"),
    ("suggested_spend", "Suggested spend", "money"),
    ("suggested_change_pct", "Change", "signed_pct"))
AI_COLUMNS = (
    ("brand", "Brand", "text"), ("answers", "Answers", "int"),
    ("mention_rate", "Mention rate", "pct"), ("citation_rate", "Citation rate", "pct"),
    ("share_of_voice", "Share of voice", "pct"), ("avg_position", "Avg position", "num"),
    ("sentiment", "Tone (−1…+1)", "num"))
VOC_PAIN_COLUMNS = (
    ("rank", "#", "int"), ("topic", "Topic", "text"), ("touchpoint", "Touchpoint", "text"),
    ("n_negative", "Negative mentions", "int"), ("share_negative", "Negative share", "pct"),
    ("csat", "CSAT %", "score"), ("trend", "Trend", "text"), ("examples", "Examples", "text"))

PAGES: dict[str, Page] = {p.slug: p for p in (
    Page("overview", "Overview",
         "Headline numbers for the period, against the period before.",
         (Panel("kpis", "Key figures"),
          Panel("records", "Latest alerts", endpoint="/v1/alerts", columns=ALERT_COLUMNS,
                layer="monitoring", params={"limit": "10"},
                note="Anomalies found by `touchlens watch` (same weekday of the previous "
                     "weeks as the baseline). See the Monitoring page."),
          Panel("chart", "Conversions and revenue", chart="trend"),
          Panel("chart", "Most frequent journeys", chart="top_paths",
                note="Bar colour: share of journeys on that path that convert."))),
    Page("journey-map", "Journey map",
         "Touchpoints by stage, the customers they reach, how customers feel at each one "
         "(CSAT) and where it hurts.",
         (Panel("chart", "Journey map", chart="journey_map",
                note="Top: each stage's emotion index (−1…+1, from CSAT, NPS and "
                     "sentiment). Bottom: customers reached per touchpoint; red ✕ = pain "
                     "point (bad experiences that cost conversions, low scores, negative "
                     "verbatims), star = moment of truth."),
          Panel("records", "What to fix first", endpoint="/v1/recommendations",
                columns=RECOMMENDATION_COLUMNS[:6], layer="insights"))),
    Page("flows", "Flows",
         "Where journeys go after a touchpoint, or where they come from.",
         (Panel("flows-controls"),
          Panel("chart", "Flows", chart="flows"))),
    Page("funnel", "Funnel",
         "Customers reaching each stage, from first touch to advocacy, with the drop-off.",
         (Panel("chart", "Stage funnel", chart="funnel", layer="funnel"),)),
    Page("attribution", "Attribution",
         "Credit for conversions per channel, by several models side by side.",
         (Panel("chart", "Models side by side", chart="attribution", layer="attribution",
                note="Share of conversions credited to each channel by each model. Where "
                     "the models disagree, the credit is uncertain. Site, app and service "
                     "touches are excluded (docs/attribution.md)."),
          Panel("chart", "Where to move budget", chart="reallocation", layer="attribution"),
          Panel("records", "Return on spend (Markov credit)", endpoint="/v1/attribution/roi",
                columns=ROI_COLUMNS, layer="attribution",
                note="Suggestion only: budget-neutral, each spend moves at most ±20%, "
                     "towards channels whose attributed ROAS beats the portfolio's. It "
                     "assumes the credit is incremental: test before moving money.")),
         segments=False),
    Page("scorecard", "Scorecard",
         "One row per touchpoint. Click a column header to sort.",
         (Panel("chart", "Conversion rate by touchpoint", chart="scorecard",
                params={"metric": "conversion_rate"}),
          Panel("table", "Touchpoint scorecard"))),
    Page("voc", "Voice of customer",
         "NPS, CSAT and CES with 95% intervals; what customers write about, in their words.",
         (Panel("cx-controls"),
          Panel("chart", "Survey scores", chart="cx"),
          Panel("chart", "Topics", chart="topics", layer="voc"),
          Panel("records", "Pain points in customers' words", endpoint="/v1/voc/pain-points",
                columns=VOC_PAIN_COLUMNS, layer="voc"),
          Panel("records", "Latest verbatims", endpoint="/v1/voc/verbatims",
                columns=VERBATIM_COLUMNS, layer="voc"))),
    Page("loyalty", "Loyalty",
         "RFM segments, churn, retention by cohort and predicted customer lifetime value.",
         (Panel("chart", "RFM segments", chart="rfm_segments", layer="loyalty"),
          Panel("chart", "Churn", chart="churn", layer="loyalty"),
          Panel("chart", "Customer lifetime value", chart="clv", layer="clv",
                note="BG/NBD + Gamma-Gamma over each customer's purchases: P(alive) is the "
                     "chance the customer still buys; CLV the discounted margin of the next "
                     "12 months."),
          Panel("chart", "Retention by cohort", chart="cohorts", layer="loyalty")),
         segments=False),
    Page("monitoring", "Monitoring",
         "Each touchpoint's daily KPIs against the same weekday of the previous four weeks, "
         "and the alerts raised when one leaves its usual range.",
         (Panel("monitor-controls"),
          Panel("chart", "Rolling KPI", chart="kpi_watch", layer="monitoring"),
          Panel("records", "Alerts", endpoint="/v1/alerts", columns=ALERT_COLUMNS,
                layer="monitoring", params={"limit": "50"},
                note="Stored by `touchlens watch` or ws.detect_anomalies(); this page only "
                     "reads them.")),
         segments=False),
    Page("ai-answers", "AI answers",
         "How often AI assistants' answers mention and cite your brand, against "
         "competitors (from the answers you collected and ingested).",
         (Panel("brand-controls"),
          Panel("chart", "Brand visibility", chart="ai_visibility", layer="ai_answers"),
          Panel("records", "Per brand", endpoint="/v1/ai-visibility", columns=AI_COLUMNS,
                layer="ai_answers")),
         segments=False),
    Page("insights", "Insights",
         "Ranked actions: money at stake per month, with how sure we are.",
         (Panel("chart", "Money at stake", chart="recommendations", layer="insights"),
          Panel("records", "Recommendations", endpoint="/v1/recommendations",
                columns=RECOMMENDATION_COLUMNS, layer="insights",
                note="Observational estimates: test a fix before trusting the amount."))),
)}
