"""Journeys: identity stitching, the touchpoint catalogue and time-ordered paths."""

from touchlens.journeys.catalogue import builtin_catalogue, catalogue
from touchlens.journeys.identity import stitch
from touchlens.journeys.paths import journey_events, journeys, resolved_events, top_paths
from touchlens.journeys.touchpoints import customer_touchpoints

__all__ = ["builtin_catalogue", "catalogue", "customer_touchpoints", "journey_events",
           "journeys", "resolved_events", "stitch", "top_paths"]
