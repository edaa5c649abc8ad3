"""Metrics: touchpoint scorecard and customer-experience survey scores."""

from touchlens.metrics.cx import cx_counts, cx_scores
from touchlens.metrics.outcomes import daily_outcomes, journey_outcomes, outcome_totals
from touchlens.metrics.touchpoint import (
    scorecard_frame,
    touchpoint_activity,
    touchpoint_journeys,
    touchpoint_spend,
)

__all__ = ["cx_counts", "cx_scores", "daily_outcomes", "journey_outcomes", "outcome_totals",
           "scorecard_frame", "touchpoint_activity", "touchpoint_journeys",
           "touchpoint_spend"]
