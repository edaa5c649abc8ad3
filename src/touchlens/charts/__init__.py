"""Plotly figure builders shared by the dashboard and the HTML report.

Each builder takes a Workspace result (a pandas DataFrame with its documented columns) and
returns a ``plotly.graph_objects.Figure``; none computes an analysis of its own beyond
grouping a result for display (documented where it happens).
"""

from touchlens.charts.ai import ai_visibility
from touchlens.charts.attribution import attribution_models, reallocation
from touchlens.charts.cx import cx_scores, scorecard_metric
from touchlens.charts.flows import flows
from touchlens.charts.insights import flow_sankey, funnel, recommendations, topics
from touchlens.charts.journey_map import journey_map, journey_map_from, pain_points
from touchlens.charts.loyalty import churn, clv_distribution, cohort_heatmap, rfm_segments
from touchlens.charts.monitoring import KPI_METRICS, kpi_watch
from touchlens.charts.overview import top_paths, trend
from touchlens.charts.theme import empty, style

__all__ = ["KPI_METRICS", "ai_visibility", "attribution_models", "churn", "clv_distribution",
           "cohort_heatmap", "cx_scores", "empty", "flow_sankey", "flows",
           "funnel", "journey_map", "journey_map_from", "kpi_watch", "pain_points",
           "reallocation", "recommendations", "rfm_segments", "scorecard_metric", "style",
           "top_paths", "topics", "trend"]
