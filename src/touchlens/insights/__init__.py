"""Insights: funnels, flows, the data-driven journey map, moments of truth, revenue at risk,
omnichannel consistency and the ranked list of what to fix first (docs/insights.md).

Pure Ibis expression builders live in the modules (:mod:`.funnels`, :mod:`.flows`,
:mod:`.experience`, :mod:`.moments`, :mod:`.journey_map`, :mod:`.consistency`,
:mod:`.recommend`); :mod:`.service` runs them on a Workspace.
"""

from touchlens.insights.journey_map import JourneyMap
from touchlens.insights.moments import MomentsResult, Windows
from touchlens.insights.stratified import bh_qvalues, mh_difference

__all__ = ["JourneyMap", "MomentsResult", "Windows", "bh_qvalues", "mh_difference"]
