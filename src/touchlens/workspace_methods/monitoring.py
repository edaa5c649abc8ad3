"""Monitoring and experiments: rolling KPIs, anomalies, alerts, A/B tests (docs/monitoring.md,
docs/experiments.md)."""

from __future__ import annotations

from typing import Any

import pandas as pd


class MonitoringMethods:
    """Workspace methods; mixed into :class:`touchlens.Workspace`."""

    def kpis(self, *, grain: str = "day", since: Any = None, until: Any = None,
             baseline_weeks: int = 4) -> pd.DataFrame:
        """Touchpoint KPIs per hour or day against a same-weekday(/hour) baseline; one row per
        touchpoint × period (columns: :mod:`touchlens.monitoring.kpis`)."""
        from touchlens.monitoring import service

        return service.kpis(self, grain=grain, since=since, until=until,
                            baseline_weeks=baseline_weeks)

    def detect_anomalies(self, *, grain: str = "day", since: Any = None, as_of: Any = None,
                         detector: Any = None, save: bool = True, notify: Any = None
                         ) -> pd.DataFrame:
        """CUSUM anomaly episodes on complete periods up to ``as_of`` (default: latest event);
        new ones are stored in ``alerts`` and passed to ``notify`` (e.g. a
        :class:`touchlens.monitoring.WebhookDispatcher`'s ``submit``). Columns: the alerts
        table's plus ``active`` and ``new``."""
        from touchlens.monitoring import service

        return service.detect_anomalies(self, grain=grain, since=since, as_of=as_of,
                                        detector=detector, save=save, notify=notify)

    def alerts(self, *, since: Any = None) -> pd.DataFrame:
        """Stored alerts, newest first: alert_id, grain, touchpoint, metric, direction, since,
        detected_at, observed, expected, band_low, band_high, z, statistic, threshold,
        method, message, created_at."""
        from touchlens.monitoring import service

        return service.alerts(self, since=since)

    def declare_experiment(self, spec: Any) -> list[str]:
        """Store experiment(s) from a YAML path, a mapping or an ``Experiment``; returns names."""
        from touchlens.experiments import service

        return service.declare(self, spec)

    def experiments(self) -> pd.DataFrame:
        """Declared experiments: name, touchpoint, variants, assignment_unit, metrics, start,
        end, declared_at."""
        from touchlens.experiments import service

        return service.experiments(self)

    def experiment_report(self, name: str) -> pd.DataFrame:
        """One row per metric × variant with tests, lift CI, P(beats control), always-valid
        p and the SRM check (columns: :data:`touchlens.experiments.report.SUMMARY_COLUMNS`)."""
        from touchlens.experiments import service

        return service.report(self, name).summary

    def experiment_looks(self, name: str) -> pd.DataFrame:
        """The daily always-valid sequential test per binary metric × treatment: day, x_a, n_a,
        x_b, n_b, diff, likelihood_ratio, p_value, cs_low, cs_high, reject, tau."""
        from touchlens.experiments import service

        return service.report(self, name).looks
