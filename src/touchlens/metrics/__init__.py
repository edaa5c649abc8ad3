"""Metrics: touchpoint scorecard and customer-experience survey scores."""

from touchlens.metrics.cx import cx_counts, cx_scores
from touchlens.metrics.outcomes import journey_outcomes
from touchlens.metrics.touchpoint import (
    scorecard_frame,
    touchpoint_activity,
    touchpoint_journeys,
    touchpoint_spend,
)

__all__ = ["cx_counts", "cx_scores", "journey_outcomes", "scorecard_frame",
           "touchpoint_activity", "touchpoint_journeys", "touchpoint_spend"]
