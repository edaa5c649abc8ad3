"""The order-1 transition counts of the workspace's journeys, stored as a rollup.

The Markov chain's counts (:func:`~touchlens.attribution.markov.order1_counts`) are sums
over journeys, hence over customers: a rollup (:mod:`touchlens.journeys.rollups`) kept
with the journey cache and updated in place from the events of the customers an update
touches. Stored per ``level`` (channel, touchpoint) for the workspace's default scope —
the marketing contacts (:data:`~touchlens.attribution.paths.DEFAULT_EXCLUDE`) and the
journeys of never-identified visitors kept exactly when one of them converts (the
``anonymous`` context: a first such conversion rebuilds the rollup). Any other scope is
computed from the journeys as before.

At 10M events a Markov attribution (and the "what to fix first" list quoting it) read the
transitions with one window over every touch (~3.4 s); stored, they are ~60 rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir

from touchlens.attribution.markov import ORDER1_SUMS, order1_counts
from touchlens.attribution.paths import (
    DEFAULT_EXCLUDE,
    LEVELS,
    journey_tables,
    resolve_exclude,
)
from touchlens.journeys import rollups
from touchlens.journeys.rollups import Rollup, register

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

COLUMNS = ("journey_id", "customer_id", "channel", "touchpoint", "is_conversion", "revenue",
           "occurred_at", "event_id")


def transition_counts(tagged: ir.Table, context: dict[str, bool]) -> ir.Table:
    """:func:`~touchlens.attribution.markov.order1_counts` of ``tagged``'s journeys at
    every level (a ``level`` key), in the default scope with ``context["anonymous"]``."""
    parts = []
    for level in LEVELS:
        _, events, paths = journey_tables(tagged, level=level, exclude=DEFAULT_EXCLUDE,
                                          anonymous=context["anonymous"])
        counts = order1_counts(events, paths)
        parts.append(counts.select(level=ibis.literal(level), from_state="from_state",
                                   to_state="to_state", **{c: counts[c] for c in ORDER1_SUMS}))
    return ibis.union(*parts)


def _context(ws: Workspace) -> dict[str, bool]:
    from touchlens.attribution.api import anonymous_conversions

    return scope_context(anonymous_conversions(ws) > 0)


def scope_context(anonymous: bool) -> dict[str, bool]:
    """:data:`TRANSITIONS`' context: whether the journeys of never-identified visitors are
    kept."""
    return {"anonymous": bool(anonymous)}


TRANSITIONS = register(Rollup(
    "attribution_transitions", ("level", "from_state", "to_state"), transition_counts,
    COLUMNS, size="rows", context_of=_context))


def stored_counts(ws: Workspace, *, level: str, exclude: str | Sequence[str] | None,
                  anonymous: bool, build: bool = True, auto: bool = False
                  ) -> ir.Table | None:
    """The stored :data:`TRANSITIONS` of ``level`` when they count the paths of this scope
    (``exclude`` the default, ``anonymous`` as the workspace's context), else None
    (computed instead). ``build=False``: only when already stored and current.
    ``auto``: ``anonymous`` is the workspace's auto rule, i.e. its context (not looked up
    again: a scan of the events for anonymous conversions)."""
    if resolve_exclude(exclude) != resolve_exclude(DEFAULT_EXCLUDE):
        return None
    context = scope_context(anonymous)
    if not build and not (ws.journeys_stored() and rollups.is_current(
            ws.store, TRANSITIONS, context)):
        return None
    # current, with the workspace's context (the caller's when it is the auto rule's)
    stored = ws.stored_rollup(TRANSITIONS, context=context if auto else None)
    if stored is None or not rollups.is_current(ws.store, TRANSITIONS, context):
        return None
    rows = stored.filter(stored.level == level)
    return rows.select("from_state", "to_state", *ORDER1_SUMS)
