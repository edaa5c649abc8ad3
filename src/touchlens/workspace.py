"""The Workspace: the Python entry point. Every face (CLI, API, web) calls only this.

Results are pandas DataFrames with documented columns; the analytics behind them are Ibis
expressions, so the same methods run on DuckDB (``Workspace.open``) and Spark
(``Workspace.open_spark``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from touchlens import journeys as J
from touchlens import metrics as M
from touchlens.config import Settings, default_db_path
from touchlens.errors import ConfigError
from touchlens.io import Mapping, ingest_path, ingest_table
from touchlens.journeys.catalogue import touchpoint_usage
from touchlens.store import Store


class Workspace:
    """A touchlens workspace: its store, settings, and the analyses over them."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, *, settings: Settings | None = None,
             **overrides: Any) -> Workspace:
        """Open or create a DuckDB workspace file (default ``$TOUCHLENS_DB`` or
        ``./touchlens.duckdb``); keyword overrides go to :class:`Settings`."""
        settings = (settings or Settings()).model_copy(update=overrides)
        path = default_db_path() if path is None else path
        return cls(Store.open_duckdb(path, settings), settings)

    @classmethod
    def open_spark(cls, session: Any = None, *, master: str = "local[2]",
                   warehouse: str | Path | None = None, settings: Settings | None = None,
                   **overrides: Any) -> Workspace:
        """Open a workspace on Spark: a given SparkSession or a new one on ``master``."""
        from touchlens.store.spark import spark_session

        settings = (settings or Settings()).model_copy(update=overrides)
        owns = session is None
        session = session or spark_session(master=master, warehouse=warehouse)
        return cls(Store.open_spark(session, owns_session=owns), settings)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- input ---------------------------------------------------------------------------
    def ingest(self, paths: str | Path | Iterable[str | Path], kind: str, *,
               format: str | None = None, mapping: str | Path | dict | None = None
               ) -> pd.DataFrame:
        """Ingest files of one kind. One row per file: file, kind, rows_in, stored,
        quarantined, duplicates, batch_id (rows_in = stored + quarantined + duplicates)."""
        if isinstance(paths, str | Path):
            paths = [paths]
        parsed = Mapping.load(mapping)
        results = []
        for p in paths:
            with self.store.transaction():  # the file and its audit entry commit together
                results.append(ingest_path(self.store, p, kind, fmt=format, mapping=parsed,
                                           settings=self.settings))
                self._audit_ingest(results[-1])
        return _results_frame(results)

    def ingest_arrow(self, table: pa.Table | pd.DataFrame, kind: str, *,
                     source: str = "<arrow>", mapping: str | Path | dict | None = None
                     ) -> pd.DataFrame:
        """Ingest an in-memory table; same result columns as :meth:`ingest`."""
        if isinstance(table, pd.DataFrame):
            table = pa.Table.from_pandas(table, preserve_index=False)
        with self.store.transaction():
            result = ingest_table(self.store, table, kind, source=source,
                                  mapping=Mapping.load(mapping), settings=self.settings)
            self._audit_ingest(result)
        return _results_frame([result])

    def attach(self, location: str | Path, kind: str = "events") -> dict[str, int]:
        """Read the Parquet files at ``location`` (folder, glob or URL) in place as part of
        ``kind``'s table; returns counts of rows breaking the table's rules (and ``rows``)."""
        from touchlens.store.attach import attach_parquet, attached_problems

        attach_parquet(self.store, kind, str(location))
        return attached_problems(self.store, kind)

    def quarantine(self) -> pd.DataFrame:
        """Rejected rows: batch_id, kind, file, row_number, field, reason, raw, quarantined_at."""
        q = self.store.table("quarantine")
        return self.store.execute(q.order_by(["quarantined_at", "file", "row_number"]))

    def ingest_log(self) -> pd.DataFrame:
        log = self.store.table("ingest_log")
        return self.store.execute(log.order_by("started_at"))

    # -- derived tables ------------------------------------------------------------------
    def refresh(self, *, force: bool = False) -> None:
        """Rebuild the stitched identity map if new events or identities arrived."""
        if not force and self.store.get_meta("identity_map_stale") != "1":
            return
        expr = J.stitch(self.store, self.store.table("events"), self.store.table("identities"))
        self.store.replace("identity_map", expr)
        self.store.set_meta("identity_map_stale", "0")

    def events(self) -> ir.Table:
        """Events with stitched ``customer_id`` (Ibis table, lazy)."""
        self.refresh()
        return J.resolved_events(self.store.table("events"), self.store.table("identity_map"))

    def journey_events(self) -> ir.Table:
        """Events tagged with ``journey_id`` and ``is_conversion`` (lazy Ibis table; grain:
        one row per event; see :func:`touchlens.journeys.journey_events`)."""
        return J.journey_events(self.events(), self.settings.lookback_days)

    def journeys_table(self) -> ir.Table:
        """Journeys as a lazy Ibis table (see :func:`touchlens.journeys.journeys`)."""
        return J.journeys(self.journey_events())

    # -- analyses ------------------------------------------------------------------------
    def touchpoints(self) -> pd.DataFrame:
        """The catalogue: touchpoint, channel, stage, medium, control, cost_type,
        primary_metric, description, source (builtin|user|auto), reviewed, n_events."""
        usage = self.store.execute(touchpoint_usage(self.store.table("events")))
        user = self.store.execute(self.store.table("touchpoints"))
        return J.catalogue(user, usage)

    def journeys(self, *, converting_only: bool = False) -> pd.DataFrame:
        """One row per journey (journey_id, customer_id, started_at, ended_at, n_touches,
        duration_hours, path, channel_path, converted, conversion_type,
        conversion_touchpoint, revenue), ordered by customer and start."""
        j = self.journeys_table()
        if converting_only:
            j = j.filter(j.converted)
        return self.store.execute(j.order_by(["customer_id", "started_at", "journey_id"]))

    def top_paths(self, *, top: int = 10, converting_only: bool = False,
                  level: str = "touchpoint") -> pd.DataFrame:
        """Most frequent paths: path, n_journeys, n_conversions, conversion_rate, revenue."""
        if level not in ("touchpoint", "channel"):
            raise ConfigError(f"level must be 'touchpoint' or 'channel', not {level!r}")
        if top < 1:
            raise ConfigError(f"top must be at least 1, not {top}")
        expr = J.top_paths(self.journeys_table(), top=top, converting_only=converting_only,
                           level=level)
        return self.store.execute(expr)

    def scorecard(self) -> pd.DataFrame:
        """One row per touchpoint with reach, touches, CTR, engagement, open rate, journeys,
        conversion rate, cost, influenced revenue and CSAT/NPS/CES with n (see
        :mod:`touchlens.metrics.touchpoint` for every formula)."""
        tagged = self.journey_events()
        journey_table = J.journeys(tagged)
        ex = self.store.execute
        activity = ex(M.touchpoint_activity(tagged))
        per_journey = ex(M.touchpoint_journeys(tagged, journey_table))
        spend = ex(M.touchpoint_spend(self.store.table("costs")))
        fb = self.store.table("feedback")
        cx = M.cx_scores(ex(M.cx_counts(fb.filter(fb.touchpoint.notnull()), ["touchpoint"])))
        return M.scorecard_frame(self.touchpoints(), activity, per_journey, spend, cx)

    def cx_scores(self, by: str = "touchpoint") -> pd.DataFrame:
        """NPS/CSAT/CES with n and 95% CIs per ``by`` column of feedback."""
        fb = self.store.table("feedback")
        if by not in fb.columns:
            raise ConfigError(f"cannot group feedback by {by!r}; use one of {fb.columns}")
        return M.cx_scores(self.store.execute(M.cx_counts(fb, [by])))

    def cx_overall(self) -> pd.DataFrame:
        """NPS/CSAT/CES over all feedback: one row, the columns of :meth:`cx_scores` (with
        ``scope`` = "all" as the group)."""
        import ibis

        fb = self.store.table("feedback")
        fb = fb.mutate(scope=ibis.literal("all"))
        return M.cx_scores(self.store.execute(M.cx_counts(fb, ["scope"])))

    # -- loyalty (touchlens.loyalty.service; formulas in docs/loyalty.md) -----------------
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

    # -- governance (touchlens.governance; docs/privacy.md) --------------------------------
    def consent_filter(self, purpose: str) -> Any:
        """A :class:`touchlens.governance.ConsentFilter` for ``purpose`` (analytics,
        personalization, marketing): ``keep(table)``, ``apply(table) -> (kept, n_excluded)``,
        ``filter_frame(df)``, ``note(n)``. Personalising analyses must use it."""
        from touchlens.governance.consent import consent_filter

        self.refresh()
        return consent_filter(self.store, self.store.table("identity_map"), purpose,
                              default=self.settings.consent_default)

    def consent_status(self) -> pd.DataFrame:
        """Latest consent per customer and purpose: customer_id, purpose, status, occurred_at."""
        from touchlens.governance.consent import consent_status

        self.refresh()
        expr = consent_status(self.store.table("consent"), self.store.table("identity_map"))
        return self.store.execute(expr.order_by(["customer_id", "purpose"]))

    def erase(self, *, customer: str | None = None, email: str | None = None,
              phone: str | None = None, dry_run: bool = False) -> Any:
        """Erase one person from every table and registered file; returns the
        :class:`touchlens.governance.ErasureReceipt` (also stored, without the id in clear)."""
        from touchlens.governance.erasure import erase

        return erase(self.store, customer=customer, email=email, phone=phone, dry_run=dry_run)

    def erasure_receipts(self) -> pd.DataFrame:
        """Stored receipts: receipt_id, erased_at, subject_hash, id_type, actor,
        n_identifiers, rows_deleted (JSON), files (JSON)."""
        from touchlens.governance.receipts import receipts

        return receipts(self.store)

    def apply_retention(self, days: dict[str, float] | None = None, *, now: Any = None,
                        dry_run: bool = False) -> pd.DataFrame:
        """Delete rows older than the retention periods (stored policy < settings < ``days``):
        one row per table (table, column, days, cutoff, rows_deleted)."""
        from touchlens.governance import retention as R

        policy = R.effective_policy(self.store, self.settings.retention_days, days)
        return R.apply_retention(self.store, policy, now=now, dry_run=dry_run)

    def audit(self, action: str, target: str = "", details: dict | None = None) -> int:
        """Append an audit entry (e.g. ``key_create``) by the current actor; returns its seq.
        Never put a personal identifier in ``target``/``details``."""
        from touchlens.governance.audit import record

        return record(self.store, action, target, details)

    def audit_log(self, *, action: str | None = None, limit: int | None = None
                  ) -> pd.DataFrame:
        """Audit entries, oldest first: seq, recorded_at, actor, action, target, details,
        prev_hash, hash."""
        from touchlens.governance.audit import audit_log

        return audit_log(self.store, action=action, limit=limit)

    def register_written_file(self, path: str | Path, kind: str = "export") -> None:
        """Faces call this for every file they write with customer data (exports, reports),
        so :meth:`erase` can rewrite or list it."""
        from touchlens.governance.files import register_written_file

        register_written_file(self.store, path, kind)

    def _audit_ingest(self, result: Any) -> None:
        from touchlens.governance.audit import record

        record(self.store, "ingest", result.file, {
            "kind": result.kind, "batch_id": result.batch_id, "rows_in": result.rows_in,
            "stored": result.stored, "quarantined": result.quarantined,
            "duplicates": result.duplicates})

    # -- AI-assistant answers (touchlens.aivis; docs/ai_visibility.md) --------------------
    def ai_visibility(self, brands: Any, *, by: str | None = None) -> pd.DataFrame:
        """Brand visibility in the stored AI answers, one row per [by ×] brand: brand,
        answers, mention_rate, citation_rate, avg_position, share_of_voice, sentiment, Wilson
        bounds, n_mentioned, n_cited, stability, repeated_prompts, is_target. ``brands``: a
        :class:`touchlens.aivis.BrandSet`, a brands YAML path or dict, or names (target
        first); ``by``: assistant, topic, week, market or language."""
        from touchlens.aivis import visibility_report

        return visibility_report(self.store, brands, by=by)

    def ai_answer_mentions(self, brands: Any) -> pd.DataFrame:
        """One row per stored AI answer × brand: mentioned, cited, position, n_mentions,
        sentiment (grain and columns: :mod:`touchlens.aivis.mentions`)."""
        from touchlens.aivis.report import stored_mentions

        return stored_mentions(self.store, brands)

    # -- insights (touchlens.insights.service; docs/insights.md) -------------------------
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

    # -- monitoring and experiments (docs/monitoring.md, docs/experiments.md) ------------
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

    def loyalty_drivers(self, *, index_date: Any = None, exposure_days: int = 90,
                        horizon_days: int = 90, min_exposed: int = 30) -> pd.DataFrame:
        """Per touchpoint × outcome (repeat_purchase, revenue, nps): the effect of a touch in
        the ``exposure_days`` before the index date on the next ``horizon_days``, adjusted for
        RFM segment (see :mod:`touchlens.loyalty.drivers`)."""
        from touchlens.loyalty import service

        return service.loyalty_drivers(self, index_date=index_date,
                                       exposure_days=exposure_days,
                                       horizon_days=horizon_days, min_exposed=min_exposed)

    # -- voice of customer (touchlens.voc; docs/voc.md) ----------------------------------
    @property
    def voc(self) -> Any:
        """Voice of customer: ``ws.voc.scores(by=..., period=...)``, ``.changes()``,
        ``.analyze()``, ``.sentiment()``, ``.topics()``, ``.pain_points()`` (DataFrames)."""
        from touchlens.voc.facade import VoiceOfCustomer

        if getattr(self, "_voc", None) is None:
            self._voc = VoiceOfCustomer(self)
        return self._voc

    def next_best_touchpoint(self, customer_ids: Any, *, top: int = 3,
                             candidates: list[str] | None = None) -> pd.DataFrame:
        """Per customer the ``top`` touchpoints whose next contact most raises the chance that
        their current journey converts: customer_id, journey_id, rank, touchpoint, uplift,
        p_convert, p_convert_after (see :mod:`touchlens.loyalty.next_best`)."""
        from touchlens.loyalty import service

        return service.next_best_touchpoint(self, customer_ids, top=top, candidates=candidates)

    def next_best_evaluation(self, *, holdout_share: float = 0.3, top: int = 3) -> pd.DataFrame:
        """Time-based holdout of the next-best model against the most-popular baseline:
        method, k, n_holdout, n_converting, hit_rate, n_followed, conversion_when_followed,
        hit_rate_lift, conversion_lift, split_at."""
        from touchlens.loyalty import service

        return service.next_best_evaluation(self, holdout_share=holdout_share, top=top)

    def segments(self, *, clv: bool = False) -> pd.DataFrame:
        """One row per customer: customer_id, rfm_segment, preferred_channel, journey_shape
        (+ clv, clv_tier with ``clv=True``); see :mod:`touchlens.loyalty.segments`."""
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

    # -- attribution (touchlens.attribution; docs/attribution.md) ------------------------
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

    def stats(self) -> dict[str, int]:
        """Row counts: events, customers (stitched), feedback, quarantined."""
        ev = self.events()
        customers = int(self.store.execute(ev.customer_id.nunique().as_table()).iloc[0, 0])
        return {"events": self.store.count("events"), "customers": customers,
                "feedback": self.store.count("feedback"),
                "quarantined": self.store.count("quarantine")}


def _results_frame(results: list) -> pd.DataFrame:
    cols = ["file", "kind", "rows_in", "stored", "quarantined", "duplicates", "batch_id"]
    return pd.DataFrame([{k: getattr(r, k) for k in cols} for r in results], columns=cols)
