"""Loyalty and value: RFM, cohorts and churn, CLV (BG/NBD + Gamma-Gamma).

Three levels (see docs/loyalty.md):

- Ibis expressions over a purchases table (any backend): :func:`purchases`,
  :func:`customer_summary`, :func:`calibration_holdout`, :func:`rfm_table`,
  :func:`rfm_segments`, :func:`cohort_retention`, :func:`churn_rates`, :func:`acquisition`;
- estimators on a per-customer summary frame: :class:`BetaGeoModel`,
  :class:`GammaGammaModel`, :class:`CLVModel` (``fit`` → self, ``params_``, predictions);
- ``Workspace`` methods returning pandas frames (``ws.rfm()``, ``ws.cohorts()``,
  ``ws.churn()``, ``ws.clv_summary()``, ``ws.clv_fit()``, ``ws.clv_predict()``,
  ``ws.loyalty_drivers()``, ``ws.segments()``, ``ws.segment_profiles()``,
  ``ws.segment_scorecard()``, ``ws.next_best_touchpoint()``, ``ws.next_best_evaluation()``).
"""

from touchlens.loyalty.bgnbd import BetaGeoModel, simulate_bgnbd
from touchlens.loyalty.clv import (
    CLVModel,
    calibration_holdout_frequencies,
    customer_lifetime_value,
)
from touchlens.loyalty.cohorts import acquisition, churn_rates, cohort_retention
from touchlens.loyalty.datasets import load_cdnow_summary, load_cdnow_transactions
from touchlens.loyalty.drivers import loyalty_drivers
from touchlens.loyalty.gamma_gamma import (
    GammaGammaModel,
    frequency_spend_correlation,
    simulate_gamma_gamma,
)
from touchlens.loyalty.next_best import NextBestTouchpoint
from touchlens.loyalty.rfm import SEGMENTS, rfm_segments, rfm_table
from touchlens.loyalty.segments import customer_segments, segment_profiles, segment_scorecard
from touchlens.loyalty.summary import calibration_holdout, customer_summary, purchases

__all__ = [
    "SEGMENTS",
    "BetaGeoModel",
    "CLVModel",
    "GammaGammaModel",
    "NextBestTouchpoint",
    "acquisition",
    "calibration_holdout",
    "calibration_holdout_frequencies",
    "churn_rates",
    "cohort_retention",
    "customer_lifetime_value",
    "customer_segments",
    "customer_summary",
    "frequency_spend_correlation",
    "load_cdnow_summary",
    "load_cdnow_transactions",
    "loyalty_drivers",
    "purchases",
    "rfm_segments",
    "rfm_table",
    "segment_profiles",
    "segment_scorecard",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
]
