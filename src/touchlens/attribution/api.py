"""Entry points: attribution on a plain path DataFrame, or on a workspace's journeys.

Path DataFrames use the ChannelAttribution format (:mod:`.pathfile`); results have the
columns of :mod:`.engine` (``model``, the level, ``conversions``, ``revenue``, ``share``,
``ci_low``, ``ci_high``). The ``Workspace.attribution*`` methods delegate here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from touchlens.attribution import engine, frame_markov, frame_rules, frame_shapley
from touchlens.attribution.compare import compare_table
from touchlens.attribution.pathfile import DEFAULT_SEP
from touchlens.attribution.paths import (
    ANONYMOUS_PREFIX,
    DEFAULT_EXCLUDE,
    DIRECT_CHANNELS,
    PathSource,
    check_level,
    from_journey_events,
    from_path_frame,
    path_table_expr,
    resolve_exclude,
)
from touchlens.attribution.roi import combine_spend, roi_table, spend_exprs
from touchlens.attribution.stored import stored_counts
from touchlens.store.schema import CONVERSION_EVENT_TYPES

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

PathsLike = pd.DataFrame | PathSource
ROI_MODEL = "counterfactual"


def source_of(paths: PathsLike, *, sep: str = DEFAULT_SEP, level: str = "channel",
              exclude: str | Sequence[str] | None = None,
              direct: Sequence[str] = DIRECT_CHANNELS) -> PathSource:
    """A :class:`PathSource` from a ChannelAttribution DataFrame (or one as is)."""
    if isinstance(paths, PathSource):
        return paths
    return from_path_frame(paths, sep=sep, level=level, exclude=exclude, direct=direct)


def attribute(paths: PathsLike, model: str | Sequence[str] = "all", *, sep: str = DEFAULT_SEP,
              level: str = "channel", exclude: str | Sequence[str] | None = None,
              **options: Any) -> pd.DataFrame:
    """Attribution of a path table by ``model`` (``"all"``, a name or a list of names).

    ``options`` go to :func:`touchlens.attribution.engine.attribute` (half_life_days,
    position_weights, markov_order, shapley_value, counterfactual_model, bootstrap, seed,
    confidence). ``time_decay`` needs timestamps, so ``"all"`` skips it on path tables.
    The order-1 Markov model alone, the Shapley model alone and rule models take
    shortcuts on a DataFrame (:mod:`.frame_markov`, :mod:`.frame_shapley`,
    :mod:`.frame_rules`; same results).
    """
    if isinstance(paths, pd.DataFrame) and frame_markov.applies(model, options):
        result = frame_markov.markov_of_frame(paths, sep=sep, level=level, exclude=exclude,
                                             confidence=options.get("confidence", 0.95))
        if result is not None:
            return result
    if isinstance(paths, pd.DataFrame) and frame_rules.applies(model, options):
        return engine.attribute(frame_rules.rows_source(paths, sep=sep, level=level,
                                                        exclude=exclude), model, **options)
    if isinstance(paths, pd.DataFrame) and frame_shapley.applies(model, options):
        result = frame_shapley.shapley_of_frame(paths, sep=sep, level=level, exclude=exclude,
                                               **options)
        if result is not None:
            return result
    return engine.attribute(source_of(paths, sep=sep, level=level, exclude=exclude), model,
                            **options)


def heuristics(paths: PathsLike, models: Sequence[str] = ("first", "last", "last_non_direct",
                                                          "linear", "participation",
                                                          "position", "j_curve",
                                                          "inverse_j", "w_shaped"),
               **kwargs: Any) -> pd.DataFrame:
    """Rule-based models (see :mod:`.heuristics`) on a path table."""
    return attribute(paths, list(models), **kwargs)


def markov(paths: PathsLike, *, order: int = 1, bootstrap: int = 0, seed: int = 0,
           **kwargs: Any) -> pd.DataFrame:
    """Exact Markov-chain attribution (see :mod:`.markov`) on a path table."""
    return attribute(paths, "markov", markov_order=order, bootstrap=bootstrap, seed=seed,
                     **kwargs)


def shapley(paths: PathsLike, *, value: str = "conversions", bootstrap: int = 0,
            seed: int = 0, **kwargs: Any) -> pd.DataFrame:
    """Shapley-value attribution (see :mod:`.shapley`) on a path table."""
    return attribute(paths, "shapley", shapley_value=value, bootstrap=bootstrap, seed=seed,
                     **kwargs)


def counterfactual(paths: PathsLike, *, model: str = "auto", bootstrap: int = 0,
                   seed: int = 0, **kwargs: Any) -> pd.DataFrame:
    """Counterfactual data-driven attribution (see :mod:`.counterfactual`)."""
    return attribute(paths, "counterfactual", counterfactual_model=model,
                     bootstrap=bootstrap, seed=seed, **kwargs)


def compare(result: pd.DataFrame) -> pd.DataFrame:
    """All models of ``result`` side by side with their spread (see :mod:`.compare`)."""
    level = result.columns[1]
    return compare_table(result, level)


# ---------------------------------------------------------------- workspace


def workspace_source(ws: Workspace, *, level: str = "channel",
                     exclude: str | Sequence[str] | None = DEFAULT_EXCLUDE,
                     anonymous: bool | None = None, cache: bool = False,
                     counted: str | None = None, auto_anonymous: bool = False
                     ) -> PathSource:
    """The workspace's journeys as a :class:`PathSource` (lazy, on its backend).

    ``anonymous=None`` (auto): keep journeys of never-identified visitors only if one of them
    converts; when none can, they are fragments of customers' journeys and every model would
    credit the channels that identify people (measured: docs/attribution.md).
    ``counted``: carry the stored order-1 transition counts of this scope (:mod:`.stored`):
    ``"build"`` — built on first use (for a run that reads nothing else), ``"stored"`` — only
    when they are stored and current (never built: a run that reads the journeys anyway
    should not pay for a pass over every event), None — not at all.
    ``auto_anonymous``: the caller's ``anonymous`` is the auto rule's (it need not be
    looked up again to know the stored counts' scope).
    """
    if anonymous is None:
        anonymous, auto_anonymous = anonymous_conversions(ws) > 0, True
    source = from_journey_events(ws.journey_events(), ws.store.execute,
                                 level=check_level(level), exclude=exclude,
                                 anonymous=anonymous, cache=cache)
    stored = (None if counted is None else
              stored_counts(ws, level=level, exclude=exclude, anonymous=anonymous,
                            build=counted == "build", auto=auto_anonymous))
    return source if stored is None else replace(source, counted=stored)


def anonymous_conversions(ws: Workspace) -> int:
    """Conversion events of visitors never linked to a customer."""
    ev = ws.events()
    t = ev.filter(ev.event_type.isin(CONVERSION_EVENT_TYPES)
                  & ev.customer_id.startswith(ANONYMOUS_PREFIX))
    return int(ws.store.execute(t.count().as_table()).iloc[0, 0])


def workspace_attribution(ws: Workspace, model: str | Sequence[str] = "all", *,
                          level: str = "channel",
                          exclude: str | Sequence[str] | None = DEFAULT_EXCLUDE,
                          anonymous: bool | None = None, **options: Any) -> pd.DataFrame:
    """Attribution over the workspace's journeys."""
    models = engine.resolve_models(model)
    auto = anonymous is None
    if auto:
        anonymous = anonymous_conversions(ws) > 0
    # engine.attribute materialises the touches for the call when the models read them
    # more than once (engine.scans); one Markov or one pass of rules reads them once. A
    # first-order Markov chain reads the stored transition counts: built for a run of it
    # alone, read when stored for one with other models (which read the journeys anyway:
    # the build, a pass over every event, would not pay for itself in one run)
    order, bootstrap = options.get("markov_order", 1), options.get("bootstrap", 0)
    counted = ("build" if engine.counts_only(models, order, bootstrap)
               else "stored" if "markov" in models and engine.counts_only(
                   ["markov"], order, bootstrap)
               else None)
    source = workspace_source(ws, level=level, exclude=exclude, anonymous=anonymous,
                              counted=counted, auto_anonymous=auto)
    result = engine.attribute(source, models, **options)
    result.attrs["notes"] = {"scope": {
        "excluded": list(resolve_exclude(exclude)),
        "anonymous_journeys": "kept" if anonymous else "dropped"}} | result.attrs["notes"]
    return result


def workspace_compare(ws: Workspace, model: str | Sequence[str] = "all", **kwargs: Any
                      ) -> pd.DataFrame:
    """Every model's share per label side by side, with the spread."""
    result = workspace_attribution(ws, model, **kwargs)
    table = compare_table(result, result.columns[1])
    table.attrs["notes"] = result.attrs.get("notes", {})
    return table


def workspace_roi(ws: Workspace, model: str = ROI_MODEL, *, level: str = "channel",
                  max_change: float = 0.2, **kwargs: Any) -> pd.DataFrame:
    """CPA, ROAS and a bounded budget-reallocation suggestion (see :mod:`.roi`)."""
    if model == "all" or "," in model:
        model = ROI_MODEL
    result = workspace_attribution(ws, model, level=level, **kwargs)
    table, event = spend_exprs(ws.store.table("costs"), ws.store.table("events"), level)
    spend = combine_spend(ws.store.execute(table), ws.store.execute(event))
    out = roi_table(result, spend, level, max_change=max_change)
    out.attrs["model"] = model
    out.attrs["notes"] = result.attrs.get("notes", {})
    return out


def workspace_paths(ws: Workspace, *, level: str = "channel",
                    exclude: str | Sequence[str] | None = None, anonymous: bool = True,
                    sep: str = DEFAULT_SEP) -> pd.DataFrame:
    """The workspace's journeys in the ChannelAttribution format (one row per path)."""
    source = workspace_source(ws, level=level, exclude=exclude, anonymous=anonymous)
    return ws.store.execute(path_table_expr(source, sep))
