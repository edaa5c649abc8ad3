"""Plotly figure builders shared by the dashboard and the HTML report.

Each builder takes a Workspace result (a pandas DataFrame with its documented columns) and
returns a ``plotly.graph_objects.Figure``; none computes an analysis of its own beyond
grouping a result for display (documented where it happens).
"""

from touchlens.charts.cx import cx_scores, scorecard_metric
from touchlens.charts.flows import flows
from touchlens.charts.insights import flow_sankey, funnel, recommendations, topics
from touchlens.charts.journey_map import journey_map, pain_points
from touchlens.charts.loyalty import churn, rfm_segments
from touchlens.charts.overview import daily_outcomes, top_paths, trend
from touchlens.charts.theme import empty, style

__all__ = ["churn", "cx_scores", "daily_outcomes", "empty", "flow_sankey", "flows", "funnel",
           "journey_map", "pain_points", "recommendations", "rfm_segments", "scorecard_metric",
           "style", "top_paths", "topics", "trend"]
