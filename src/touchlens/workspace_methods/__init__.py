"""The Workspace's methods per area, as mixins: each holds one-line delegations to its layer,
so :mod:`touchlens.workspace` stays the small core (opening, input, journeys, scorecard)."""

from touchlens.workspace_methods.ai_answers import AIAnswerMethods
from touchlens.workspace_methods.attribution import AttributionMethods
from touchlens.workspace_methods.governance import GovernanceMethods
from touchlens.workspace_methods.insights import InsightMethods
from touchlens.workspace_methods.loyalty import LoyaltyMethods
from touchlens.workspace_methods.monitoring import MonitoringMethods
from touchlens.workspace_methods.voc import VoiceOfCustomerMethods

__all__ = ["AIAnswerMethods", "AttributionMethods", "GovernanceMethods", "InsightMethods",
           "LoyaltyMethods", "MonitoringMethods", "VoiceOfCustomerMethods"]
