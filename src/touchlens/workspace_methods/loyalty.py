"""Loyalty and personalisation: RFM, cohorts, churn, CLV, drivers, segments, next-best touchpoint
(touchlens.loyalty.service; docs/loyalty.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd


class LoyaltyMethods:
    """Workspace methods; mixed into :class:`touchlens.Workspace`."""

    def rfm(self, *, as_of: Any = None) -> pd.DataFrame:
        """One row per customer: customer_id, recency_days, frequency, monetary, r_score,
        f_score, m_score (1–5), rfm_score, segment."""
        from touchlens.loyalty import service

        return service.rfm(self, as_of=as_of)

    def rfm_segments(self, *, as_of: Any = None) -> pd.DataFrame:
        """One row per RFM segment: n_customers, share, mean recency/frequency/monetary, revenue."""
        from touchlens.loyalty import service

        return service.rfm_segments(self, as_of=as_of)

    def cohorts(self, *, by: str = "period", period: str = "month",
                max_periods: int | None = None) -> pd.DataFrame:
        """Retention per cohort (first-purchase period, or acquisition channel/touchpoint) ×
        periods since first purchase: cohort, period, n_customers, n_active, retention."""
        from touchlens.loyalty import service

        return service.cohorts(self, by=by, period=period, max_periods=max_periods)

    def churn(self, *, period: str = "month") -> pd.DataFrame:
        """Churn rate per period: period_start, n_active_start, n_retained, n_churned,
        churn_rate, n_active, n_new."""
        from touchlens.loyalty import service

        return service.churn(self, period=period)

    def clv_summary(self, *, unit: str = "week", observation_end: Any = None,
                    calibration_end: Any = None) -> pd.DataFrame:
        """Per customer: frequency, recency, T, monetary_value (or the calibration/holdout
        columns when ``calibration_end`` is given)."""
        from touchlens.loyalty import service

        return service.clv_summary(self, unit=unit, observation_end=observation_end,
                                   calibration_end=calibration_end)

    def clv_fit(self, *, unit: str = "week", observation_end: Any = None) -> Any:
        """A fitted :class:`touchlens.loyalty.CLVModel` (BG/NBD + Gamma-Gamma)."""
        from touchlens.loyalty import service

        return service.clv_fit(self, unit=unit, observation_end=observation_end)

    def clv_predict(self, *, unit: str = "week", observation_end: Any = None,
                    horizon_months: int = 12, margin: float = 1.0, discount_rate: float = 0.01,
                    model: Any = None) -> pd.DataFrame:
        """Per customer: the summary plus p_alive, expected_purchases, expected_spend, clv."""
        from touchlens.loyalty import service

        return service.clv_predict(self, unit=unit, observation_end=observation_end,
                                   horizon_months=horizon_months, margin=margin,
                                   discount_rate=discount_rate, model=model)

    def loyalty_drivers(self, *, index_date: Any = None, exposure_days: int = 90,
                        horizon_days: int = 90, min_exposed: int = 30) -> pd.DataFrame:
        """Per touchpoint × outcome (repeat_purchase, revenue, nps): the effect of a touch in
        the ``exposure_days`` before the index date on the next ``horizon_days``, adjusted for
        RFM segment (see :mod:`touchlens.loyalty.drivers`)."""
        from touchlens.loyalty import service

        return service.loyalty_drivers(self, index_date=index_date,
                                       exposure_days=exposure_days,
                                       horizon_days=horizon_days, min_exposed=min_exposed)

    def next_best_touchpoint(self, customer_ids: Any, *, top: int = 3,
                             candidates: list[str] | None = None) -> pd.DataFrame:
        """Per customer the ``top`` touchpoints whose next contact most raises the chance that
        their current journey converts: customer_id, journey_id, rank, touchpoint, uplift,
        p_convert, p_convert_after (see :mod:`touchlens.loyalty.next_best`). Personalising:
        only customers with personalization consent (docs/privacy.md); ``attrs`` hold
        ``n_excluded_no_consent``, ``consent_note`` and ``skipped_no_consent``."""
        from touchlens.loyalty import service

        return service.next_best_touchpoint(self, customer_ids, top=top, candidates=candidates)

    def next_best_evaluation(self, *, holdout_share: float = 0.3, top: int = 3) -> pd.DataFrame:
        """Time-based holdout of the next-best model against the most-popular baseline:
        method, k, n_holdout, n_converting, hit_rate, n_followed, conversion_when_followed,
        hit_rate_lift, conversion_lift, split_at (consenting customers only; see
        :meth:`next_best_touchpoint`)."""
        from touchlens.loyalty import service

        return service.next_best_evaluation(self, holdout_share=holdout_share, top=top)

    def segments(self, *, clv: bool = False) -> pd.DataFrame:
        """One row per customer: customer_id, rfm_segment, preferred_channel, journey_shape
        (+ clv, clv_tier with ``clv=True``); see :mod:`touchlens.loyalty.segments`. Only
        customers with personalization consent; ``attrs["n_excluded_no_consent"]`` counts
        the others (docs/privacy.md). The segment profiles and scorecard filter alike."""
        from touchlens.loyalty import service

        return service.segments(self, clv=clv)

    def segment_profiles(self, *, by: str = "journey_shape") -> pd.DataFrame:
        """One row per segment: n_customers, n_journeys, n_conversions, conversion_rate,
        revenue, revenue_per_customer, typical_path."""
        from touchlens.loyalty import service

        return service.segment_profiles(self, by=by)

    def segment_scorecard(self, *, by: str = "journey_shape") -> pd.DataFrame:
        """One row per segment × touchpoint: reach, touches, journeys, converting_journeys,
        conversion_rate."""
        from touchlens.loyalty import service

        return service.segment_scorecard(self, by=by)
