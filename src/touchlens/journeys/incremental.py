"""Incremental refresh of the stored identity map and journeys after appended events.

Between two reads a live workspace mostly *appends* events (the collector). Rebuilding the
identity map and every journey for that costs over a minute at 10M events, while only the
customers with new events changed. Two facts make a partial update exact:

- a component of the identity graph that no new event touches keeps its nodes and its
  label (its smallest node, :func:`touchlens.journeys.identity.stitch`);
- a customer's journeys depend on that customer's resolved events only (journey ids are
  ``customer_id:n``, every window is per customer: :func:`journey_events`).

So, with S = the new events' nodes plus every node of the old components they touch (S is
closed: an edge at a node of S has both ends in S), only S is stitched again, from the
events and identities of its nodes; the map rows of S, and the journeys (with their counts
per touchpoint) of the customers S was labelled with before or is labelled with now, are
deleted and written again, and the stored rollups (:mod:`touchlens.journeys.rollups`) lose
those customers' old events and gain their new ones.

Taken only when the stored tables are as the last build left them (:func:`fingerprint`:
rows of the three journey tables and the map, rows and content of ``identities``) and no stored
event has gone since (events = cached + new); and when the new events are at most
``max_share`` of all (beyond that one full rebuild is cheaper). Otherwise :func:`refresh`
answers False and the caller rebuilds everything. It runs in one transaction: one snapshot
read, one commit; its work tables (names starting ``_journeys_inc``) are dropped in it.
Tested against a full rebuild on random appends (``tests/journeys/test_incremental.py``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from touchlens.journeys import rollups
from touchlens.journeys.identity import stitch
from touchlens.journeys.paths import journey_events, journeys, resolved_events
from touchlens.journeys.touchpoints import customer_touchpoints
from touchlens.store import Store
from touchlens.store.schema import CUSTOMER_TOUCHPOINTS_CACHE, JOURNEY_CACHE, JOURNEYS_CACHE

FINGERPRINT_KEY = "journey_cache_fingerprint"
# "1" once an update has made every cached event agree with the map (see _unstitched):
# from then on each update keeps it so, and only a full build sets it back to "0"
CHECKED_KEY = "journey_cache_checked"
# the events' row mark (Store.row_mark) an update left: the next one reads the rows past it
# as the new events instead of comparing every stored event_id with the cache's (1.2 s of
# a 3 s update at 10M events); "" after a full build (its events are read in several
# statements, so no one mark is exact): the first update compares the ids of the events
# past the build's mark (BUILD_MARK_KEY)
MARK_KEY = "journey_cache_events_mark"
# "mark;rows" of the events (Store.mark_and_rows) taken just before the identity map was
# last stitched in full / the journey cache last built in full: every event numbered up to
# the mark is in that snapshot. The first update after a full build reads the events past
# them — the only ones the map or the cache can miss — instead of every event (~4 s at
# 10M), when no event up to the mark has gone since (their rows still number the same)
STITCH_MARK_KEY = "identity_map_events_mark"
BUILD_MARK_KEY = "journey_cache_build_mark"
WORK = "_journeys_inc"
MAX_SHARE = 0.05
_PRIME = 2_147_483_647


class _Rebuild(Exception):
    """The stored tables cannot be updated in place: roll back, rebuild everything."""


def fingerprint(store: Store, identities: str | None = None) -> str:
    """What the last build left: rows of the three journey tables and of the identity map,
    rows of ``identities`` and a checksum of their content (order-free: Σ hash mod p).
    ``identities``: :func:`identity_parts` when the caller read them in this snapshot."""
    parts = [store.table(JOURNEY_CACHE).count(), store.table(JOURNEYS_CACHE).count(),
             store.table(CUSTOMER_TOUCHPOINTS_CACHE).count(),
             store.table("identity_map").count()]
    ident = identity_parts(store) if identities is None else identities
    return ";".join([*(str(store.scalar(p)) for p in parts), ident])


def identity_parts(store: Store) -> str:
    """The ``identities`` part of :func:`fingerprint`: rows and the content checksum (the
    costly part: ~0.4 s over 2.2M rows)."""
    ident = store.table("identities")
    content = ident.id_type.concat("|", ident.id_value, "|", ident.customer_id).hash()
    return ";".join(str(store.scalar(p)) for p in (
        ident.count(), (content % _PRIME).sum().fill_null(0)))


def refresh(store: Store, lookback_days: float, *, max_share: float | None = None) -> bool:
    """Bring the stored identity map and journeys up to date with appended events; False
    (nothing changed) when only a full rebuild can (see the module docstring).
    ``max_share``: default :data:`MAX_SHARE`."""
    max_share = MAX_SHARE if max_share is None else max_share
    try:
        with store.transaction():
            # one snapshot: an update leaves ``identities`` as it found them, so their part
            # of the fingerprint is read once for the check and the new fingerprint
            identities = identity_parts(store)
            if store.get_meta(FINGERPRINT_KEY) != fingerprint(store, identities):
                raise _Rebuild
            ev, cached = store.table("events"), store.table(JOURNEY_CACHE)
            mark = store.get_meta(MARK_KEY)
            built = None if mark else _past(store, BUILD_MARK_KEY)
            new = _keep(store, "new", store.appended_since("events", int(mark)) if mark
                        else (ev if built is None else built).anti_join(
                            cached.select("event_id"), "event_id"))
            n_new, n_events, n_cached = (int(store.scalar(t.count())) for t in (new, ev, cached))
            # rows past the mark are all new (a row's number never grows); the count says
            # whether they are all the new ones (a delete may have renumbered rows)
            if n_events - n_new != n_cached or n_new > max_share * n_events:
                raise _Rebuild
            delta = new
            if store.get_meta(CHECKED_KEY) != "1":  # first update after a full build
                suspects = _past(store, STITCH_MARK_KEY)
                suspected = (cached if suspects is None
                             else cached.filter(cached.event_id.isin(suspects.event_id)))
                redo = ev.semi_join(_unstitched(suspected, store.table("identity_map")),
                                    "event_id")
                delta = _keep(store, "delta", new.union(redo))
            if store.scalar(delta.count()):
                _update(store, delta, lookback_days)
            _drop_work(store)
            # this snapshot's: the map holds every event up to it now
            store.set_meta(MARK_KEY, str(take_mark(store, STITCH_MARK_KEY)))
            store.set_meta(CHECKED_KEY, "1")
            store.set_meta(FINGERPRINT_KEY, fingerprint(store, identities))
    except _Rebuild:
        return False
    return True


def take_mark(store: Store, key: str) -> int:
    """Keep the events' "mark;rows" under ``key`` (:data:`STITCH_MARK_KEY`,
    :data:`BUILD_MARK_KEY`), just before the full build it stands for reads them (or as an
    update ends); returns the mark."""
    mark, rows = store.mark_and_rows("events")
    store.set_meta(key, f"{mark};{rows}")
    return mark


def _past(store: Store, key: str) -> ir.Table | None:
    """The events past the mark kept under ``key``; None (every event, the caller reads them
    all) when there is none, or when an event up to it has gone since (a delete can
    renumber rows)."""
    kept = (store.get_meta(key) or "").split(";")
    if len(kept) == 2 and all(k.lstrip("-").isdigit() for k in kept):
        mark, rows = (int(k) for k in kept)
        if store.rows_up_to("events", mark) == rows:
            return store.appended_since("events", mark)
    return None


def _unstitched(cached: ir.Table, imap: ir.Table) -> ir.Table:
    """event_id of cached journey events the identity map does not account for: their node
    is not in it, or they link an anonymous id to a customer the map keeps apart.

    A full build stitches the map from one snapshot of the events and tags the journeys from
    a later one (separate statements, not to hold 10M+ rows in one transaction), so events
    the collector stored in between are in the journeys, resolved with a map that has not
    seen them. For every other event the cached row is what a build now would write."""
    node = ibis.ifelse(cached.source_customer_id.notnull(), "customer", "anonymous")
    keyed = cached.select("event_id", "anonymous_id", _t=node,
                          _v=cached.source_customer_id.coalesce(cached.anonymous_id),
                          _both=cached.source_customer_id.notnull()
                          & cached.anonymous_id.notnull())
    own, anon = imap.view(), imap.view()
    j = keyed.left_join(own, [keyed._t == own.id_type, keyed._v == own.id_value]).select(
        "event_id", "anonymous_id", "_both", _label=own.customer_id)
    j = j.left_join(anon, [anon.id_type == "anonymous", j.anonymous_id == anon.id_value]
                    ).select("event_id", "_both", "_label", _anon_label=anon.customer_id)
    apart = j._both & (j._anon_label.isnull() | (j._anon_label != j._label))
    return j.filter(j._label.isnull() | apart).select("event_id")


def _update(store: Store, delta: ir.Table, lookback_days: float) -> None:
    """Redo the map and journeys of the components ``delta``'s events touch."""
    imap, cached = store.table("identity_map"), store.table(JOURNEY_CACHE)
    nodes = _nodes(delta)
    # the labels S had: in the map, and in the cached journeys (an unstitched event's own id)
    before = _keep(store, "before", imap.semi_join(nodes, ["id_type", "id_value"])
                   .select("customer_id").union(
                       cached.semi_join(delta, "event_id").select("customer_id"), distinct=True))
    s = _keep(store, "nodes", nodes.union(
        imap.semi_join(before, "customer_id").select("id_type", "id_value")))
    customers = s.filter(s.id_type == "customer").id_value
    anonymous = s.filter(s.id_type == "anonymous").id_value
    ev = store.table("events")
    events = _keep(store, "events",
                   ev.filter(ev.customer_id.isin(customers) | ev.anonymous_id.isin(anonymous)))
    ident = store.table("identities")
    # an identities row links (id_type, id_value) to a customer node: both in S or neither
    links = ident.filter(ident.customer_id.isin(customers))
    stitched = _keep(store, "map", stitch(store, events, links, work=f"{WORK}_identity"))
    after = stitched.select("customer_id").distinct()
    affected = _keep(store, "affected", before.union(after))
    store.delete_in("identity_map", "customer_id", before)
    store.insert_select("identity_map", stitched)
    kept = rollups.current(store)
    if kept:  # their events as the rollups counted them (the columns the rollups read)
        gone = _keep(store, "gone", cached.select(*rollups.columns(kept)).filter(
            cached.customer_id.isin(affected.customer_id)))
    store.delete_in(JOURNEY_CACHE, "customer_id", affected)
    # their events now, kept: the journeys, counts and rollups below read them (picking
    # them out of the cache again would read every column of every cached event)
    came = _keep(store, "came", journey_events(
        resolved_events(events, store.table("identity_map")), lookback_days))
    store.insert_select(JOURNEY_CACHE, came)
    store.delete_in(JOURNEYS_CACHE, "customer_id", affected)
    store.delete_in(CUSTOMER_TOUCHPOINTS_CACHE, "customer_id", affected)
    theirs = came.filter(came.customer_id.isin(after.customer_id))
    their_journeys = _keep(store, "journeys", journeys(theirs))  # the counts read them too
    store.insert_select(JOURNEYS_CACHE, their_journeys)
    store.insert_select(CUSTOMER_TOUCHPOINTS_CACHE, customer_touchpoints(theirs,
                                                                          their_journeys))
    if kept:
        rollups.merge(store, kept, gone, theirs)
    else:
        rollups.new_generation(store)


def _nodes(events: ir.Table) -> ir.Table:
    """The identity-graph nodes of ``events`` (id_type, id_value), distinct."""
    known = events.filter(events.customer_id.notnull())
    anon = events.filter(events.anonymous_id.notnull())
    return known.select(id_type=ibis.literal("customer"), id_value=known.customer_id).union(
        anon.select(id_type=ibis.literal("anonymous"), id_value=anon.anonymous_id),
        distinct=True)


def _keep(store: Store, name: str, expr: ir.Table) -> ir.Table:
    """``expr`` stored as a work table (read once, used several times)."""
    store.replace(f"{WORK}_{name}", expr)
    return store.table(f"{WORK}_{name}")


def _drop_work(store: Store) -> None:
    for name in store.tables_like(f"^{WORK}"):
        store.drop(name)
