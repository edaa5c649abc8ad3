"""Monitoring: rolling touchpoint KPIs against a seasonal baseline, anomaly alerts, webhooks.

Public API::

    kpi_table(events, feedback, grain="day"|"hour", baseline_weeks=4)      (kpis, Ibis)
    detect(kpis_frame, Detector(...), grain=...), scores(...)           (anomalies, CUSUM)
    store_alerts, stored_alerts, WebhookDispatcher                                 (alerts)
    Injection, inject_anomalies, random_injections                  (inject: for tuning)
"""

from touchlens.monitoring.alerts import WebhookDispatcher, store_alerts, stored_alerts
from touchlens.monitoring.anomalies import Detector, detect, scores
from touchlens.monitoring.inject import Injection, inject_anomalies, random_injections
from touchlens.monitoring.kpis import METRICS, kpi_frame, kpi_table

__all__ = ["METRICS", "Detector", "Injection", "WebhookDispatcher", "detect",
           "inject_anomalies", "kpi_frame", "kpi_table", "random_injections", "scores",
           "store_alerts", "stored_alerts"]
