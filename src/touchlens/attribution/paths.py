"""Journeys prepared for attribution: lazy Ibis tables every model reads.

A :class:`PathSource` holds two tables and the function that executes them:

- ``touches`` — grain: one row per step of a path. Columns: ``path_key``, ``step`` (0-based),
  ``n_steps``, ``label`` (channel or touchpoint), ``prev_label`` (the label of the step
  before; NULL at step 0), ``is_direct``, ``n_touch`` (events merged
  into the step), ``days_before`` (days from the step's last event to the conversion, or to
  the end of a journey without one; NULL when there are no timestamps), and the path's
  ``conversions``, ``revenue``, ``nulls``.
- ``paths`` — grain: one row per path: ``path_key``, ``touched`` (the path has at least one
  step), ``conversions``, ``revenue``, ``nulls``. A path with ``touched`` false is a
  conversion (or null) without any touch; its conversions go to the ``"(none)"`` bucket.
  It is a plain aggregation (no window over the touches), so totals stay cheap.
- ``events`` (workspace sources only, else None) — the journey events the two tables were
  built from: ``path_key``, ``label``, ``is_touch``, ``is_conversion``, ``revenue``,
  ``occurred_at``, ``event_id``. What needs only per-journey counts of each label (the
  counterfactual patterns, the Shapley coalitions: :mod:`.counts`) reads them with one
  aggregation instead of the touches' windows; order-1 transitions need one window over
  them, not two.
- ``converted`` (workspace sources only) — the ``touches`` rows of converting paths (a
  conversion or revenue), built from those journeys' events alone: what the rule-based
  models credit (:meth:`PathSource.credited_touches`).

From a workspace (:func:`from_journey_events`) a path is one journey (conversions 0/1, nulls
1 − conversions); consecutive touches of the same label form one step (as in the journey's
``path``), ``n_touch`` keeping how many events it merged. From a ChannelAttribution table
(:func:`from_path_frame`) a path is one distinct path string, weighted by the counts of the
rows holding it, steps as written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from touchlens.attribution.pathfile import (
    DEFAULT_SEP,
    PATH_COLUMNS,
    Steps,
    positions,
    split_paths,
    validate_distinct,
)
from touchlens.errors import ConfigError
from touchlens.store.timestamps import epoch_seconds

NONE = "(none)"
DIRECT_CHANNELS: tuple[str, ...] = ("direct",)
# On-site and in-store navigation and checkout: these touches follow the decision to buy
# (DOMAIN.md funnel), so ``exclude="site"`` leaves them out of attribution.
SITE_CHANNELS: tuple[str, ...] = ("web", "app", "direct", "store")
# Touchpoints of the built-in catalogue that a purchase triggers (order, delivery, service,
# returns, review requests and the reviews themselves): ``exclude="service"``.
SERVICE_TOUCHPOINTS: tuple[str, ...] = (
    "order_confirmation_email", "delivery_courier", "packaging", "post_purchase_survey",
    "support_chat", "call_center", "return_portal", "review_request_email", "customer_review",
    "social_mention")
EXCLUDE_PRESETS: dict[str, tuple[str, ...]] = {
    "none": (), "site": SITE_CHANNELS, "service": SERVICE_TOUCHPOINTS}
LEVELS = ("channel", "touchpoint")
DEFAULT_EXCLUDE = "site,service"  # workspace journeys: marketing contacts only (docs)
INTERNAL_SEP = "\x1f"
ANONYMOUS_PREFIX = "anonymous:"  # journeys.resolved_events: visitors never linked

Executor = Callable[[ir.Expr], pd.DataFrame]


@dataclass
class PathSource:
    """Paths ready for attribution (see the module docstring for the grains)."""

    touches: ir.Table
    paths: ir.Table
    execute: Executor
    level: str = "channel"
    has_time: bool = False
    lazy: bool = False  # the tables are expressions over the journeys (windows re-run per query)
    events: ir.Table | None = None
    converted: ir.Table | None = None
    _cached: list[ir.Table] = field(default_factory=list, repr=False)
    touches_cached: bool = False
    paths_cached: bool = False
    # workspace sources: the per-journey table (with ``_end_at``) and how to rebuild the
    # source over a materialised copy of it (:meth:`with_paths_cached`)
    _outcome: ir.Table | None = field(default=None, repr=False)
    _rebuild: Callable[[ir.Table], PathSource] | None = field(default=None, repr=False)
    # results computed once per source and shared by its models (e.g. counts.label_counts)
    memo: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    # workspace sources: the order-1 transition counts of these paths as the workspace
    # stores them (markov.order1_counts; touchlens.attribution.stored), else None
    counted: ir.Table | None = field(default=None, repr=False, compare=False)

    @property
    def materialised(self) -> bool:
        """Whether the touches are a table (not windows re-run per query)."""
        return not self.lazy or self.touches_cached

    def cached(self) -> PathSource:
        """The same source with both tables materialised once in the backend (temp tables)."""
        touches, paths = self.touches.cache(), self.paths.cache()
        return replace(self, touches=touches, paths=paths, _cached=[touches, paths],
                       memo=self.memo, touches_cached=True, paths_cached=True)

    @property
    def can_cache_paths(self) -> bool:
        """A workspace source read from its events (see :meth:`with_paths_cached`)."""
        return self._rebuild is not None and self.events is not None and not self.paths_cached

    def with_paths_cached(self) -> PathSource:
        """A workspace source with only its one-row-per-journey table materialised (a temp
        table of journeys, not of touches) and every table built on it rebuilt over that
        copy: for several models that each read the journeys' outcome but, from the
        events, no touches (:meth:`release` drops it)."""
        if self._rebuild is None or self._outcome is None:
            return self.cached()
        outcome = self._outcome.cache()
        out = self._rebuild(outcome)
        return replace(out, execute=self.execute, _cached=[outcome], memo=self.memo,
                       paths_cached=True, counted=self.counted,
                       converted=None if self.converted is None else out.converted)

    def credited_touches(self) -> ir.Table:
        """The touches of paths with a conversion or revenue (all that rule-based models
        credit): the ``converted`` table while the touches are lazy, else a filter."""
        if self.converted is not None and not self.materialised:
            return self.converted
        t = self.touches
        return t.filter(credited(t.conversions, t.revenue))

    def release(self) -> None:
        """Drop the temp tables made by :meth:`cached`."""
        for t in self._cached:
            t.release()
        self._cached.clear()

    def path_table(self, sep: str = DEFAULT_SEP) -> pd.DataFrame:
        """The ChannelAttribution table of these paths (``PATH_COLUMNS``)."""
        return self.execute(path_table_expr(self, sep))

    def compact(self) -> PathSource:
        """A local source over the distinct paths (same results for path-level models)."""
        table = self.path_table(INTERNAL_SEP)
        steps = split_paths(table["path"], INTERNAL_SEP)
        return from_steps(table, steps, direct=(), level=self.level)


def credited(conversions: Any, revenue: Any) -> Any:
    """Which paths a rule-based model credits: those with a conversion or revenue
    (``conversions > 0 | revenue != 0``, on Ibis columns or numpy arrays alike)."""
    return (conversions > 0) | (revenue != 0)


def resolve_exclude(exclude: str | Sequence[str] | None) -> tuple[str, ...]:
    """Names to leave out: presets (``none``, ``site``, ``service``) and/or channel or
    touchpoint names, as a sequence or one comma-separated string (``"site,service"``)."""
    if exclude is None:
        return ()
    items = exclude.split(",") if isinstance(exclude, str) else list(exclude)
    names: list[str] = []
    for item in (str(x).strip() for x in items):
        if item:
            names += EXCLUDE_PRESETS.get(item, (item,))
    return tuple(dict.fromkeys(names))


def check_level(level: str) -> str:
    if level not in LEVELS:
        raise ConfigError(f"level must be 'channel' or 'touchpoint', not {level!r}")
    return level


def journey_tables(tagged: ir.Table, *, level: str, exclude: str | Sequence[str] | None,
                   anonymous: bool) -> tuple[ir.Table, ir.Table, ir.Table]:
    """What :func:`from_journey_events` builds its source of: ``tagged`` in scope with
    ``_label`` and ``_touch``; the ``events`` table; the one-row-per-journey ``paths`` (with
    ``_end_at``). For what reads only events and paths (the stored transition counts),
    without the touch tables' windows."""
    t = tagged
    if not anonymous:
        t = t.filter(~t.customer_id.startswith(ANONYMOUS_PREFIX))
    label = t.channel if level == "channel" else t.touchpoint.coalesce(t.channel)
    conv = t.is_conversion
    is_touch = ~conv & label.notnull()
    names = list(resolve_exclude(exclude))
    if names:
        is_touch = is_touch & ~(t.channel.isin(names) | t.touchpoint.fill_null("").isin(names))
    t = t.mutate(_label=label, _touch=is_touch)
    # one row per journey from a plain aggregation (no window): what totals and the
    # "(none)" bucket need stays cheap
    outcome = t.group_by(path_key=t.journey_id).agg(
        touched=t._touch.any(),
        conversions=conv.cast("float64").max(),
        revenue=t.revenue.sum(where=conv).fill_null(0.0),
        _end_at=t.occurred_at.max(where=conv).coalesce(t.occurred_at.max()),
    )
    paths = outcome.select("path_key", "touched", "conversions", "revenue",
                           nulls=1.0 - outcome.conversions, _end_at="_end_at")
    events = t.select(path_key="journey_id", label="_label", is_touch="_touch",
                      is_conversion="is_conversion", revenue="revenue",
                      occurred_at="occurred_at", event_id="event_id")
    return t, events, paths


def from_journey_events(tagged: ir.Table, execute: Executor, *, level: str = "channel",
                        exclude: str | Sequence[str] | None = None,
                        direct: Sequence[str] = DIRECT_CHANNELS,
                        anonymous: bool = True, cache: bool = False) -> PathSource:
    """Paths of the workspace's journeys (``tagged`` = ``Workspace.journey_events()``).

    Conversion events are outcomes, not touches. Touches whose channel or touchpoint is in
    ``exclude`` are dropped before consecutive repeats are merged. ``anonymous=False`` leaves
    out journeys of visitors never linked to a customer (``customer_id`` ``anonymous:…``):
    when conversions always identify the buyer, those journeys cannot convert, and keeping
    them biases every model towards channels that identify people (email, loyalty).
    ``cache=True`` materialises both tables once (temp tables; :meth:`PathSource.release`).
    """
    check_level(level)
    t, events, paths = journey_tables(tagged, level=level, exclude=exclude,
                                      anonymous=anonymous)

    def build(paths: ir.Table) -> PathSource:
        touches = _steps(t, paths, direct)
        # the rule-based models credit converting paths only: their steps from those
        # journeys' events alone (a fraction of the windows' work)
        kept = paths.filter(credited(paths.conversions, paths.revenue))
        converted = _steps(t.semi_join(kept, t.journey_id == kept.path_key), kept, direct)
        return PathSource(touches, paths.drop("_end_at"), execute, level=level,
                          has_time=True, lazy=True, events=events, converted=converted,
                          _outcome=paths, _rebuild=build)

    if not cache:
        return build(paths)
    paths = paths.cache()
    source = build(paths)
    touches = source.touches.cache()
    return replace(source, touches=touches, _cached=[paths, touches], touches_cached=True,
                   paths_cached=True)


def _steps(t: ir.Table, paths: ir.Table, direct: Sequence[str]) -> ir.Table:
    """The ``touches`` table of the journeys of events ``t`` (with ``_label``, ``_touch``)
    and their ``paths`` rows (with ``_end_at``): consecutive touches of one label merged."""
    touch = t.filter(t._touch)
    # only what the steps need goes through the windows (the sorts carry every column)
    touch = touch.select("journey_id", "occurred_at", "event_id", "_label",
                         _direct=touch.channel.isin(list(direct)))
    # a run of one label ends where the next touch has another label; keep the run ends
    w = ibis.window(group_by="journey_id", order_by=["occurred_at", "event_id"])
    touch = touch.mutate(_rn=ibis.row_number().over(w), _next=touch._label.lead().over(w))
    ends = touch.filter(touch._next.isnull() | (touch._next != touch._label))
    w2 = ibis.window(group_by="journey_id", order_by="_rn")
    runs = ends.select(
        "journey_id", label="_label", prev_label=ends._label.lag().over(w2),
        is_direct="_direct",
        step=ibis.row_number().over(w2),
        n_steps=ends._rn.count().over(ibis.window(group_by="journey_id")),
        n_touch=ends._rn - ends._rn.lag().over(w2).fill_null(-1),
        _last_at="occurred_at",
    )
    both = runs.join(paths, runs.journey_id == paths.path_key)
    seconds = epoch_seconds(both._end_at) - epoch_seconds(both._last_at)
    return both.select(
        "path_key", step=both.step.cast("int64"), n_steps=both.n_steps.cast("int64"),
        label="label", prev_label="prev_label", is_direct="is_direct",
        n_touch=both.n_touch.cast("int64"), days_before=seconds.cast("float64") / 86400.0,
        conversions="conversions", revenue="revenue", nulls="nulls",
    )


def local_executor() -> Executor:
    """An executor on a private in-memory DuckDB (for tables that live in memory)."""
    con = ibis.duckdb.connect()
    con.raw_sql("SET enable_progress_bar = false")  # a library call must not draw on stderr
    return con.execute


def from_steps(table: pd.DataFrame, steps: Steps, *, direct: Sequence[str],
               level: str) -> PathSource:
    """A local source with one path per row of ``table`` (its ``total_*`` counts) and
    ``steps`` (rows numbered as the table's)."""
    lens = steps.lengths.astype(np.int64)
    key = steps.rows
    conv = table["total_conversions"].to_numpy(dtype="float64")
    rev = table["total_conversion_value"].to_numpy(dtype="float64")
    nulls = table["total_null"].to_numpy(dtype="float64")
    step = positions(lens)
    before = pa.array(np.arange(len(key), dtype=np.int64) - 1, mask=step == 0)
    prev = steps.labels.take(before)  # NULL at step 0
    touches = pa.table({
        "path_key": key, "step": step,
        "n_steps": lens[key], "label": steps.labels, "prev_label": prev,
        "is_direct": pc.is_in(steps.labels, value_set=pa.array(list(direct), pa.string())),
        "n_touch": np.ones(len(key), dtype=np.int64),
        "days_before": pa.nulls(len(key), pa.float64()), "conversions": conv[key],
        "revenue": rev[key], "nulls": nulls[key],
    })
    paths = pd.DataFrame({"path_key": np.arange(len(lens), dtype=np.int64), "touched": lens > 0,
                          "conversions": conv, "revenue": rev, "nulls": nulls})
    return PathSource(ibis.memtable(touches), ibis.memtable(paths), local_executor(),
                      level=level, has_time=False)


def from_path_frame(df: pd.DataFrame, *, sep: str = DEFAULT_SEP, level: str = "channel",
                    exclude: str | Sequence[str] | None = None,
                    direct: Sequence[str] = DIRECT_CHANNELS) -> PathSource:
    """Paths of a ChannelAttribution table (validated: errors name the row). Steps named in
    ``exclude`` are dropped (a path left without steps counts as a path without touch)."""
    check_level(level)
    table, steps = validate_distinct(df, sep)
    names = set(resolve_exclude(exclude))
    if names:
        steps = steps.drop(names)
    return from_steps(table, steps, direct=direct, level=level)


def path_table_expr(source: PathSource, sep: str = DEFAULT_SEP) -> ir.Table:
    """ChannelAttribution table: one row per distinct path, most conversions first."""
    t = source.touches
    step = ibis.struct({"step": t.step, "label": t.label})
    per_path = t.group_by(_pk=t.path_key).agg(_steps=step.collect())
    p = source.paths
    j = p.left_join(per_path, p.path_key == per_path._pk)
    path = j._steps.sort().map(lambda s: s.label).join(sep).fill_null("")
    g = j.group_by(path=path).agg(
        total_conversions=j.conversions.sum(),
        total_conversion_value=j.revenue.sum(),
        total_null=j.nulls.sum(),
    )
    return g.order_by([ibis.desc("total_conversions"), ibis.desc("total_null"), "path"]
                      ).select(*PATH_COLUMNS)
