"""Metrics: touchpoint scorecard and customer-experience survey scores."""

from touchlens.metrics.cx import cx_counts, cx_scores
from touchlens.metrics.touchpoint import (
    scorecard_frame,
    touchpoint_activity,
    touchpoint_journeys,
    touchpoint_spend,
)

__all__ = ["cx_counts", "cx_scores", "scorecard_frame", "touchpoint_activity",
           "touchpoint_journeys", "touchpoint_spend"]
