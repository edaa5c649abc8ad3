"""The Workspace: the Python entry point. Every face (CLI, API, web) calls only this.

Results are pandas DataFrames with documented columns; the analytics behind them are Ibis
expressions, so the same methods run on DuckDB (``Workspace.open``) and Spark
(``Workspace.open_spark``).
"""

from __future__ import annotations

import importlib
import logging
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
from touchlens.journeys import incremental, rollups
from touchlens.journeys.catalogue import USAGE, touchpoint_usage
from touchlens.store import Store
from touchlens.store.schema import CUSTOMER_TOUCHPOINTS_CACHE, JOURNEY_CACHE, JOURNEYS_CACHE
from touchlens.workspace_methods import (
    AIAnswerMethods,
    AttributionMethods,
    GovernanceMethods,
    InsightMethods,
    LoyaltyMethods,
    MonitoringMethods,
    VoiceOfCustomerMethods,
)

log = logging.getLogger(__name__)
JOURNEY_CACHE_KEY = "journey_cache_key"
# 2: + the one-row-per-journey table, 3: + _step, 4: + the counts per customer and
# touchpoint, 5: + their journey counts; older: rebuilt
JOURNEY_CACHE_FORMAT = 5
# the modules declaring rollups (touchlens.journeys.rollups.register) above the journeys
# layer, which cannot import them; tests/journeys/test_rollups.py checks the list is whole
ROLLUP_MODULES = ("touchlens.monitoring.kpis", "touchlens.insights.funnels",
                  "touchlens.insights.flows", "touchlens.insights.journey_map",
                  "touchlens.insights.experience", "touchlens.insights.moments",
                  "touchlens.insights.consistency", "touchlens.insights.recommend",
                  "touchlens.attribution.stored")


class Workspace(LoyaltyMethods, GovernanceMethods, AIAnswerMethods, InsightMethods,
                MonitoringMethods, VoiceOfCustomerMethods, AttributionMethods):
    """A touchlens workspace: its store, settings, and the analyses over them."""

    def __init__(self, store: Store, settings: Settings | None = None) -> None:
        self.store = store
        self.settings = settings or Settings()
        # the last catalogue made from stored usage counts, with what it was made from
        self._catalogue_kept: tuple[tuple[str, int], pd.DataFrame] | None = None
        self._rollups_kept: dict[str, tuple[str, ir.Table]] = {}  # see rollups.stored

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
        session = session or spark_session(master=master, warehouse=warehouse,
                                           driver_memory=settings.spark_driver_memory)
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
        """Rebuild the stitched identity map if new events or identities arrived (or
        ``force``); the journey cache is then rebuilt on its next use. When events were only
        appended since the stored journeys were built, the map and the journeys of the
        customers those events touch are updated in place instead
        (:mod:`touchlens.journeys.incremental`; same result)."""
        if not force and self.store.get_meta("identity_map_stale") != "1":
            return
        # Marked fresh *before* the build reads the events: events written meanwhile by
        # another cursor (a served collector does not wait for builds) mark it stale again,
        # so the next refresh stitches them. Marked after, they would pass for stitched.
        self.store.set_meta("identity_map_stale", "0")
        try:
            if not force and self._journeys_current() and self._refresh_appended():
                return
            self.store.set_meta(JOURNEY_CACHE_KEY, "")
            if self.journeys_stored():
                incremental.take_mark(self.store, incremental.STITCH_MARK_KEY)
            expr = J.stitch(self.store, self.store.table("events"),
                            self.store.table("identities"))
            self.store.replace("identity_map", expr)
        except BaseException:
            self.store.set_meta("identity_map_stale", "1")
            raise

    def _refresh_appended(self) -> bool:
        """The incremental update; False (full rebuild) when it does not apply or fails —
        a failed update is rolled back and logged, the full rebuild is always right. Every
        module declaring rollups is imported first, so the update keeps all the stored
        ones current (one not registered in this process would be left to rebuild on its
        next use: up to ~6 s at 10M events)."""
        try:
            for module in ROLLUP_MODULES:
                importlib.import_module(module)
            return incremental.refresh(self.store, self.settings.lookback_days)
        except Exception:
            log.warning("incremental journey update failed; rebuilding", exc_info=True)
            return False

    def _journeys_current(self) -> bool:
        """Whether the stored journey tables were built with the current settings (their
        data may lag behind new events)."""
        return (self.journeys_stored()
                and self.store.get_meta(JOURNEY_CACHE_KEY) == self._journey_cache_key())

    def events(self) -> ir.Table:
        """Events with stitched ``customer_id`` (Ibis table, lazy; the columns of
        :func:`touchlens.journeys.resolved_events`).

        While the stored journey cache is current it already holds these rows, so they are
        read from it instead of joining every event to the identity map again (the KPI grid
        on 10M events: ~6 s → ~3 s); the cache is not built for this."""
        resolved = self._resolved_events()
        if self._journeys_current():
            return self.store.table(JOURNEY_CACHE).select(*resolved.columns)
        return resolved

    def _resolved_events(self) -> ir.Table:
        """Every event joined to the (refreshed) identity map."""
        self.refresh()
        return J.resolved_events(self.store.table("events"), self.store.table("identity_map"))

    def _journey_cache_key(self) -> str:
        return f"lookback={self.settings.lookback_days};format={JOURNEY_CACHE_FORMAT}"

    def journey_events(self) -> ir.Table:
        """Events tagged with ``journey_id`` and ``is_conversion`` (Ibis table; grain: one
        row per event; see :func:`touchlens.journeys.journey_events`).

        On DuckDB the result is cached in the derived table ``journey_events_cache`` (built
        on first use after new data, an erasure, retention or a lookback change), so every
        analysis reads stored journeys instead of re-running the windows: ~10× faster
        scorecards on 1M events. The journeys themselves (one row each, with their paths:
        :meth:`journeys_table`) are stored with it in ``journeys_cache``. Not cached on Spark
        (a stored copy there is a distributed write of every event, not measured against
        recomputing yet) nor when Parquet is attached in place (the files may change under
        us).
        """
        if not self.journeys_stored():
            return J.journey_events(self._resolved_events(), self.settings.lookback_days)
        self.refresh()
        key = self._journey_cache_key()
        if self.store.get_meta(JOURNEY_CACHE_KEY) != key:
            # from the identity map just refreshed (not refreshed again: events stored
            # since keep it marked stale for the next refresh)
            events = J.resolved_events(self.store.table("events"),
                                       self.store.table("identity_map"))
            incremental.take_mark(self.store, incremental.BUILD_MARK_KEY)
            # The key is written last: a build that stops half-way is redone next time.
            # (Not one transaction: at 50M events that would hold both tables in memory.)
            self.store.replace(JOURNEY_CACHE, J.journey_events(events,
                                                               self.settings.lookback_days))
            self.store.replace(JOURNEYS_CACHE, J.journeys(self.store.table(JOURNEY_CACHE)))
            self.store.replace(CUSTOMER_TOUCHPOINTS_CACHE,
                               J.customer_touchpoints(self.store.table(JOURNEY_CACHE),
                                                      self.store.table(JOURNEYS_CACHE)))
            rollups.forget(self.store)
            self.store.set_meta(incremental.CHECKED_KEY, "0")
            self.store.set_meta(incremental.MARK_KEY, "")
            self.store.set_meta(incremental.FINGERPRINT_KEY, incremental.fingerprint(self.store))
            self.store.set_meta(JOURNEY_CACHE_KEY, key)
        return self.store.table(JOURNEY_CACHE)

    def journeys_stored(self) -> bool:
        """Whether :meth:`journey_events` returns the stored journey cache (a table other
        cursors can read) rather than an expression that recomputes the journeys (see its
        docstring)."""
        return self.store.engine == "duckdb" and not self.store.attached

    def journeys_table(self) -> ir.Table:
        """Journeys as a lazy Ibis table (see :func:`touchlens.journeys.journeys`): the
        stored ``journeys_cache`` when :meth:`journeys_stored` (2.2 s → ~0.1 s for the top
        paths of 10M events), else computed from :meth:`journey_events`."""
        tagged = self.journey_events()
        if self.journeys_stored():
            return self.store.table(JOURNEYS_CACHE)
        return J.journeys(tagged)

    def customer_touchpoints(self) -> ir.Table:
        """Counts per customer and touchpoint as a lazy Ibis table (see
        :mod:`touchlens.journeys.touchpoints`): the stored ``customer_touchpoints_cache``
        when :meth:`journeys_stored`, else computed from :meth:`journey_events`."""
        tagged = self.journey_events()
        if self.journeys_stored():
            return self.store.table(CUSTOMER_TOUCHPOINTS_CACHE)
        return J.customer_touchpoints(tagged)

    def rollup(self, rollup: rollups.Rollup) -> ir.Table:
        """``rollup`` of :meth:`journey_events` (with its context for this workspace) as a
        lazy Ibis table: :meth:`stored_rollup`, else computed."""
        stored = self.stored_rollup(rollup)
        if stored is not None:
            return stored
        return rollup.of(self.journey_events(), self._rollup_context(rollup))

    def stored_rollup(self, rollup: rollups.Rollup, *, context: Any = None
                      ) -> ir.Table | None:
        """``rollup`` as stored with the journey cache and updated with it (built on first
        use; see :mod:`touchlens.journeys.rollups`) when :meth:`journeys_stored`; None where
        it would be computed — the analyses then compute their result the direct way.
        ``context``: the rollup's context for this workspace when the caller has it already
        (else ``rollup.context_of(self)``, which may query the data)."""
        if not self.journeys_stored():
            return None
        if context is None:
            context = self._rollup_context(rollup)
        return self._stored_rollup(rollup, context)

    def _rollup_context(self, rollup: rollups.Rollup) -> Any:
        return None if rollup.context_of is None else rollup.context_of(self)

    def _stored_rollup(self, rollup: rollups.Rollup, context: Any) -> ir.Table:
        return rollups.stored(self.store, rollup, self.journey_events(), context,
                              kept=self._rollups_kept)

    # -- analyses ------------------------------------------------------------------------
    def touchpoints(self) -> pd.DataFrame:
        """The catalogue: touchpoint, channel, stage, medium, control, cost_type,
        primary_metric, description, source (builtin|user|auto), reviewed, n_events."""
        events = self.store.table("events")
        # from the stored counts when the journeys are current with every event (else
        # reading them would first update or build the journeys)
        current = (self._journeys_current()
                   and self.store.get_meta("identity_map_stale") != "1")
        stored = self.stored_rollup(USAGE) if current else None
        user = self.store.execute(self.store.table("touchpoints"))
        stamp = None if stored is None else rollups.stamp(self.store, USAGE)
        if stamp is None:
            return J.catalogue(user, self.store.execute(touchpoint_usage(events, stored)))
        # the same stored counts and user rows make the same catalogue: kept, so the
        # analyses asking for it again and again (the journey map: its stages, the
        # rollups' contexts, ~10 times) do not merge it again (~0.1 s each at 10M events)
        key = (stamp, int(pd.util.hash_pandas_object(user, index=False).sum()))
        if self._catalogue_kept is None or self._catalogue_kept[0] != key:
            usage = self.store.execute(touchpoint_usage(events, stored))
            self._catalogue_kept = (key, J.catalogue(user, usage))
        return self._catalogue_kept[1].copy()

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
        ex = self.store.execute
        counts = ex(M.touchpoint_activity(self.customer_touchpoints()))
        journey_columns = ["journeys", "converting_journeys", "influenced_revenue"]
        activity = counts.drop(columns=journey_columns)
        per_journey = counts[["touchpoint", *journey_columns]]
        spend = ex(M.touchpoint_spend(self.store.table("costs")))
        fb = self.store.table("feedback")
        cx = M.cx_scores(ex(M.cx_counts(fb.filter(fb.touchpoint.notnull()), ["touchpoint"])))
        return M.scorecard_frame(self.touchpoints(), activity, per_journey, spend, cx)

    def cx_scores(self, by: str = "touchpoint") -> pd.DataFrame:
        """NPS/CSAT/CES with n and 95% CIs per ``by`` column of feedback, one row per value
        in its order (no value last)."""
        fb = self.store.table("feedback")
        if by not in fb.columns:
            raise ConfigError(f"cannot group feedback by {by!r}; use one of {fb.columns}")
        counts = self.store.execute(M.cx_counts(fb, [by]).order_by(by))
        return M.cx_scores(counts.reset_index(drop=True))

    def cx_overall(self) -> pd.DataFrame:
        """NPS/CSAT/CES over all feedback: one row, the columns of :meth:`cx_scores` (with
        ``scope`` = "all" as the group)."""
        import ibis

        fb = self.store.table("feedback")
        fb = fb.mutate(scope=ibis.literal("all"))
        return M.cx_scores(self.store.execute(M.cx_counts(fb, ["scope"])))

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
