"""The dashboard's pages and the panels on each (what the page template renders).

A panel is a chart (``/v1/charts/<chart>``), the KPI cards, the sortable scorecard table, or
an honest "not available yet" note for a layer this version does not compute. Panels with a
``layer`` are drawn only when the Workspace offers it (``/v1/layers``).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Panel:
    kind: str  # kpis | chart | table | records | unavailable | flows-controls | cx-controls
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
    slug: str
    title: str
    intro: str
    panels: tuple[Panel, ...]


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
VOC_PAIN_COLUMNS = (
    ("rank", "#", "int"), ("topic", "Topic", "text"), ("touchpoint", "Touchpoint", "text"),
    ("n_negative", "Negative mentions", "int"), ("share_negative", "Negative share", "pct"),
    ("csat", "CSAT %", "score"), ("trend", "Trend", "text"), ("examples", "Examples", "text"))

PAGES: dict[str, Page] = {p.slug: p for p in (
    Page("overview", "Overview",
         "Headline numbers for the period, against the period before.",
         (Panel("kpis", "Key figures"),
          Panel("chart", "Conversions and revenue", chart="trend"),
          Panel("chart", "Most frequent journeys", chart="top_paths",
                note="Bar colour: share of journeys on that path that convert."))),
    Page("journey-map", "Journey map",
         "Touchpoints by stage, the customers they reach, how customers feel at each one "
         "(CSAT) and where it hurts.",
         (Panel("chart", "Journey map", chart="journey_map",
                note="Pain points come from the insights layer (bad experiences that cost "
                     "conversions, low scores, negative verbatims)."),
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
         (_missing("Attribution models",
                   "The attribution layer is not exposed by the Workspace yet."),)),
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
         "RFM segments and churn.",
         (Panel("chart", "RFM segments", chart="rfm_segments", layer="loyalty"),
          Panel("chart", "Churn", chart="churn", layer="loyalty"))),
    Page("insights", "Insights",
         "Ranked actions: money at stake per month, with how sure we are.",
         (Panel("chart", "Money at stake", chart="recommendations", layer="insights"),
          Panel("records", "Recommendations", endpoint="/v1/recommendations",
                columns=RECOMMENDATION_COLUMNS, layer="insights",
                note="Observational estimates: test a fix before trusting the amount."))),
)}
