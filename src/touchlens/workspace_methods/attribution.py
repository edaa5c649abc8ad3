"""Attribution: models, comparison, ROI, path export (touchlens.attribution;
docs/attribution.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd


class AttributionMethods:
    """Workspace methods; mixed into :class:`touchlens.Workspace`."""

    def attribution(self, model: str | list[str] = "all", *, level: str = "channel",
                    **options: Any) -> pd.DataFrame:
        """Attributed conversions and revenue, one row per model × label: model,
        channel|touchpoint, conversions, revenue, share, ci_low, ci_high. Options: exclude
        (default "site"), anonymous, bootstrap, seed, half_life_days, position_weights,
        markov_order, shapley_value, counterfactual_model (:mod:`touchlens.attribution.api`)."""
        from touchlens.attribution import api

        return api.workspace_attribution(self, model, level=level, **options)

    def attribution_compare(self, model: str | list[str] = "all", *, level: str = "channel",
                            **options: Any) -> pd.DataFrame:
        """Each model's share per label side by side, with min_share, max_share, spread."""
        from touchlens.attribution import api

        return api.workspace_compare(self, model, level=level, **options)

    def attribution_roi(self, model: str = "counterfactual", *, level: str = "channel",
                        max_change: float = 0.2, **options: Any) -> pd.DataFrame:
        """Spend, attributed conversions/revenue, CPA, ROAS and a bounded, budget-neutral
        reallocation suggestion per label (:mod:`touchlens.attribution.roi`)."""
        from touchlens.attribution import api

        return api.workspace_roi(self, model, level=level, max_change=max_change, **options)

    def attribution_paths(self, *, level: str = "channel", **options: Any) -> pd.DataFrame:
        """Journeys in the ChannelAttribution format: path, total_conversions,
        total_conversion_value, total_null (one row per distinct path)."""
        from touchlens.attribution import api

        return api.workspace_paths(self, level=level, **options)
