"""Journey analytics and insights: funnels, flows, journey map, moments of truth, recommendations
(touchlens.insights.service; docs/insights.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd


class InsightMethods:
    """Workspace methods; mixed into :class:`touchlens.Workspace`."""

    def funnel(self, steps: Any = None, *, within: str | float | None = None,
               by: str | None = None, per: str = "customer",
               segments: pd.DataFrame | None = None) -> pd.DataFrame:
        """Stage funnel (``steps=None``) or ordered funnel of touchpoints/event types, one row
        per [by ×] step: step, step_name, n, rate_from_previous (+ Wilson bounds),
        rate_from_first, drop_off, n_dropped, median_hours, p90_hours."""
        from touchlens.insights import service

        return service.funnel(self, steps, within=within, by=by, per=per, segments=segments)

    def flows(self, touchpoint: str, direction: str = "after", steps: int = 3
              ) -> pd.DataFrame:
        """Sankey links around a touchpoint: source_step, source, target_step, target,
        n_journeys, share, conversion_rate."""
        from touchlens.insights import service

        return service.flows(self, touchpoint, direction=direction, steps=steps)

    def repeats(self) -> pd.DataFrame:
        """Loops and repeated touches per touchpoint."""
        from touchlens.insights import service

        return service.repeats(self)

    def first_last(self, *, churn_days: float = 30.0) -> pd.DataFrame:
        """First/last touchpoints before conversion and before churn, per touchpoint."""
        from touchlens.insights import service

        return service.first_last(self, churn_days=churn_days)

    def journey_map(self) -> Any:
        """The data-driven journey map (:class:`touchlens.insights.JourneyMap`: stages,
        touchpoints, pain_points, gaps, moments tables)."""
        from touchlens.insights import service

        return service.journey_map(self)

    def moments_of_truth(self, *, repeat_days: float = 90.0) -> pd.DataFrame:
        """Bad vs good experience per touchpoint × signal × outcome: stratified gap, CI, p,
        q, moment_of_truth flag (observational)."""
        from touchlens.insights import service

        return service.moments(self, repeat_days=repeat_days).moments

    def revenue_at_risk(self) -> pd.DataFrame:
        """Affected customers × lost conversion rate × mean value, with interval, per month
        and the printed assumptions (observational)."""
        from touchlens.insights import service

        return service.moments(self).revenue_at_risk

    def consistency(self, *, purposes: dict[str, str] | None = None) -> pd.DataFrame:
        """Omnichannel consistency per purpose × channel, with the index and flags."""
        from touchlens.insights import service

        return service.consistency(self, purposes=purposes)

    def handoffs(self) -> pd.DataFrame:
        """Channel switches inside journeys and their success rate."""
        from touchlens.insights import service

        return service.handoffs(self)

    def recommendations(self, *, attribution_model: str | None = "markov") -> pd.DataFrame:
        """The ranked "what to fix first" list (money at stake × confidence); the
        attribution model's touchpoint credits are quoted (None skips attribution)."""
        from touchlens.insights import service

        return service.recommendations(self, attribution_model=attribution_model)
