"""Rollups: aggregates of the journey-tagged events that are sums over customers, stored
with the journey cache and kept current in place.

A rollup groups the journey-tagged events by its ``keys``; each of its other columns is a
sum over customers of what one customer's events contribute (events, customers — 1 each —,
customers with some property, amounts). For two sets of customers A and B with no one in
common, build(A ∪ B) = build(A) + build(B) key by key. So when an incremental journey
update (:mod:`touchlens.journeys.incremental`) replaces the tagged events of the affected
customers C, every stored rollup R becomes exactly

    R' = R − build(C's events before) + build(C's events after)

(a group whose ``size`` column falls to 0 has no event left and goes). The update reads
C's few events, not the workspace's: at 10M events the KPI grid's counts per touchpoint ×
day are read from ~5k stored rows instead of being grouped from every event (2.2 s).
Float sums pick up rounding of the order of 1e-16 relative per update.

Stored on first use (:func:`stored`) and valid for one state of the journey cache: a
rollup is stamped with the cache's generation (:data:`GENERATION_KEY`, a counter every
full build and every incremental update moves on), and an update merges the rollups
stamped with the generation it starts from; any other (a rollup whose module is not
loaded in the updating process — the workspace imports every declaring module before an
update, ``touchlens.workspace.ROLLUP_MODULES`` —, one built from an older cache) is built
again on its next use. A full build drops them all (:func:`forget`).

Two variations. A rollup *per customer* (``per_customer``) keeps one customer's rows
under keys that start with ``customer_id`` (values that are no sums: first times, depths);
an update deletes the affected customers' rows and inserts their new ones. A rollup *with a
context* (``context_of``) is built with a small JSON-able value besides the events — the
catalogue's stages per touchpoint, say, which the journeys layer does not compute:
``context_of(workspace)`` gives it, it is kept in ``meta`` with the table (an update builds
with the stored one, so the table stays one build's), and a reader whose context differs
rebuilds it.

Rollups are declared by the layers that read them (:func:`register`) — the journeys layer
only keeps them — and must be sums over customers (or per customer);
``tests/journeys/test_rollups.py`` checks that for every registered one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import ibis
import ibis.expr.schema as sch
import ibis.expr.types as ir

from touchlens.store import Store

log = logging.getLogger(__name__)

GENERATION_KEY = "journey_cache_generation"
PREFIX = "rollup_"
WORK = "_journeys_inc_rollup"


@dataclass(frozen=True)
class Rollup:
    """A customer-additive aggregate of journey-tagged events.

    ``build(tagged)`` (``build(tagged, context)`` with ``context_of``) → ``keys`` + value
    columns, each a sum over customers; ``size``: the value column that is 0 exactly when
    the group has no event (a count of events); ``per_customer``: keys start with
    ``customer_id`` and values are that customer's alone (no ``size``); ``columns``: the
    tagged events' columns ``build`` reads (an update copies only those of the affected
    customers' old events: copying every column costs 3–5× more); ``context_of``:
    workspace → the JSON-able context to build with; ``version``: changed when ``build``
    changes meaning, so stored copies are rebuilt."""

    name: str
    keys: tuple[str, ...]
    build: Callable[..., ir.Table]
    columns: tuple[str, ...]
    size: str | None = None
    version: str = "1"
    per_customer: bool = False
    context_of: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if self.per_customer != (self.size is None):
            raise ValueError(f"rollup {self.name}: a size column exactly when not per customer")
        if self.per_customer and self.keys[:1] != ("customer_id",):
            raise ValueError(f"rollup {self.name}: per customer keys start with customer_id")

    def of(self, tagged: ir.Table, context: Any = None) -> ir.Table:
        """The expression over ``tagged`` (with ``context`` when contextual)."""
        return self.build(tagged) if self.context_of is None else self.build(tagged, context)

    @property
    def table(self) -> str:
        return f"{PREFIX}{self.name}"

    @property
    def stamp_key(self) -> str:
        return f"rollup:{self.name}"

    @property
    def context_key(self) -> str:
        return f"rollup_context:{self.name}"

    @property
    def schema_key(self) -> str:
        return f"rollup_schema:{self.name}"


REGISTRY: dict[str, Rollup] = {}


def register(rollup: Rollup) -> Rollup:
    """Declare ``rollup`` (a module reloaded declares its rollups again); returns it."""
    REGISTRY[rollup.name] = rollup
    return rollup


def generation(store: Store) -> str:
    return store.get_meta(GENERATION_KEY) or "0"


def new_generation(store: Store) -> None:
    """The journey cache changed: every stamp so far is out of date."""
    store.set_meta(GENERATION_KEY, str(int(generation(store)) + 1))


def _encode(context: Any) -> str:
    return json.dumps(context, sort_keys=True, separators=(",", ":"))


def _stamp(store: Store, rollup: Rollup, encoded: str) -> str:
    """``version@generation#digest of the context``."""
    digest = hashlib.sha256(encoded.encode()).hexdigest()[:16]
    return f"{_this_cache(store, rollup)}#{digest}"


def _this_cache(store: Store, rollup: Rollup) -> str:
    return f"{rollup.version}@{generation(store)}"


def is_current(store: Store, rollup: Rollup, context: Any = None) -> bool:
    """Whether ``rollup`` is stored for the journey cache as it is now (and ``context``)."""
    return (store.get_meta(rollup.stamp_key) == _stamp(store, rollup, _encode(context))
            and store.exists(rollup.table))


def stamp(store: Store, rollup: Rollup) -> str | None:
    """``rollup``'s stamp (``version@generation#context digest``) when it is stored for the
    journey cache as it is now (its table is not looked up): what identifies its rows."""
    value = store.get_meta(rollup.stamp_key)
    return value if value and value.split("#")[0] == _this_cache(store, rollup) else None


def _of_this_cache(store: Store, rollup: Rollup) -> bool:
    """Stored for the journey cache as it is now, whatever its context."""
    return stamp(store, rollup) is not None and store.exists(rollup.table)


def stored(store: Store, rollup: Rollup, tagged: ir.Table, context: Any = None, *,
           kept: dict[str, tuple[str, ir.Table]] | None = None) -> ir.Table:
    """``rollup`` of ``tagged`` (the stored journey cache) as a stored table: read when
    current (and with the expression's columns), else built, stored and stamped in one
    transaction. If that fails (another writer's conflicting commit) the expression is
    returned, computed on each read. Either way the columns have the expression's types (a
    stored timestamp carries its precision, which set operations with computed ones would
    refuse). ``kept``: the tables this returned before, by rollup, with their stamps — one
    whose stamp is still the stored one is returned again without building the expression
    and looking the table up (~10–20 ms each; the journey map reads a dozen). The types are
    recorded with the table (``rollup_schema:<name>`` in meta), so a new process reads them
    instead of building the expression to learn them (~0.3 s of a served app's first
    journey map on the demo, every CLI command's reads)."""
    encoded = _encode(context)
    stamped = _stamp(store, rollup, encoded)
    if kept is not None and rollup.name in kept and kept[rollup.name][0] == stamped \
            and store.get_meta(rollup.stamp_key) == stamped:
        return kept[rollup.name][1]
    current = is_current(store, rollup, context)
    built, schema = _schema(rollup, tagged, context, encoded,
                            store=store if current else None)
    table = _read(store, rollup, schema) if current else None
    if table is None:
        built = rollup.of(tagged, context) if built is None else built
        schema = built.schema()  # the expression's own (what was recorded may be stale)
        try:
            with store.transaction():
                store.replace(rollup.table, built)
                store.set_meta(rollup.context_key, encoded)
                store.set_meta(rollup.schema_key, _schema_record(rollup, tagged, encoded,
                                                                 schema))
                store.set_meta(rollup.stamp_key, stamped)
        except Exception:  # the computed expression is always right
            log.warning("rollup %s not stored; computed instead", rollup.name, exc_info=True)
            return built
        table = store.table(rollup.table).cast(schema)
    if kept is not None:
        kept[rollup.name] = (stamped, table)
    return table


# (rollup, version, its build, context, the tagged events' schema) → the expression's
# schema: what a stored table is read with. Building an expression only to learn it cost
# 0.1-0.2 s for the experience rollups in every request of a served filtered view (new
# workspace objects, nothing kept); the schema depends on the code and those inputs only.
_SCHEMAS: dict[tuple, sch.Schema] = {}
_SCHEMAS_MAX = 256


def _schema(rollup: Rollup, tagged: ir.Table, context: Any, encoded: str,
            store: Store | None = None) -> tuple[ir.Table | None, sch.Schema]:
    """(the expression when it had to be built for its schema, else None; its schema).
    ``store``: where the rollup is stored and current — the schema its build recorded
    there is used when it was built by the same version over events of the same schema
    (a new process, a CLI command: no expression built to learn it)."""
    key = (rollup.name, rollup.version, id(rollup.build), encoded,
           tuple(tagged.schema().items()))
    schema = _SCHEMAS.get(key)
    if schema is None and store is not None:
        schema = _recorded_schema(store, rollup, tagged, encoded)
    if schema is not None:
        _remember(key, schema)
        return None, schema
    built = rollup.of(tagged, context)
    schema = built.schema()
    _remember(key, schema)
    return built, schema


def _remember(key: tuple, schema: sch.Schema) -> None:
    if key not in _SCHEMAS and len(_SCHEMAS) >= _SCHEMAS_MAX:
        _SCHEMAS.clear()
    _SCHEMAS[key] = schema


def _schema_identity(rollup: Rollup, tagged: ir.Table, encoded: str) -> str:
    """What a recorded schema was derived from: the rollup's version, its context and the
    tagged events' schema (digests)."""
    events = ";".join(f"{n}:{t}" for n, t in tagged.schema().items())
    digest = hashlib.sha256(f"{encoded}|{events}".encode()).hexdigest()[:16]
    return f"{rollup.version}#{digest}"


def _schema_record(rollup: Rollup, tagged: ir.Table, encoded: str,
                   schema: sch.Schema) -> str:
    """The meta value that records ``schema`` for :func:`_recorded_schema`."""
    return json.dumps({"of": _schema_identity(rollup, tagged, encoded),
                       "columns": [[n, str(t)] for n, t in schema.items()]})


def _recorded_schema(store: Store, rollup: Rollup, tagged: ir.Table, encoded: str
                     ) -> sch.Schema | None:
    """The schema the rollup's build recorded, when derived from the same inputs."""
    try:
        record = json.loads(store.get_meta(rollup.schema_key) or "null")
        if not record or record.get("of") != _schema_identity(rollup, tagged, encoded):
            return None
        return sch.Schema({n: ibis.dtype(t) for n, t in record["columns"]})
    except (ValueError, TypeError, KeyError, AttributeError):  # unreadable: build instead
        return None


def _read(store: Store, rollup: Rollup, schema: sch.Schema) -> ir.Table | None:
    """The stored table with the expression's types (``schema``); None when its columns are
    others (stored by a build of the same version but another meaning, a development copy:
    rebuilt rather than failing every read)."""
    table = store.table(rollup.table)
    if set(table.columns) != set(schema.names):
        return None
    return table.cast(schema)


def current(store: Store) -> list[Rollup]:
    """The registered rollups stored for the journey cache as it is now."""
    return [r for r in REGISTRY.values() if _of_this_cache(store, r)]


def columns(rollups: list[Rollup]) -> list[str]:
    """The tagged events' columns ``rollups`` read (customer_id first)."""
    names = dict.fromkeys(["customer_id"])
    for rollup in rollups:
        names.update(dict.fromkeys(rollup.columns))
    return list(names)


def merge(store: Store, rollups: list[Rollup], before: ir.Table, after: ir.Table) -> None:
    """Replace ``before`` (the affected customers' tagged events as stored) with ``after``
    (as they are now) in each of ``rollups``, which must be current (:func:`current`);
    then move the generation on and stamp them with it. Runs in the caller's transaction."""
    encoded = {r.name: store.get_meta(r.context_key) or "null" for r in rollups}
    for rollup in rollups:
        context = json.loads(encoded[rollup.name])
        if rollup.per_customer:
            _replace_customers(store, rollup, before, after, context)
        else:
            _add(store, rollup, rollup.of(before, context), rollup.of(after, context))
    new_generation(store)
    for rollup in rollups:
        store.set_meta(rollup.stamp_key, _stamp(store, rollup, encoded[rollup.name]))


def _add(store: Store, rollup: Rollup, gone: ir.Table, came: ir.Table) -> None:
    """stored − gone + came, key by key; empty groups dropped."""
    old = store.table(rollup.table)
    values = [c for c in old.columns if c not in rollup.keys]
    types = old.schema()
    gone = gone.select(*rollup.keys, **{c: -gone[c] for c in values})
    parts = ibis.union(old, *(t.select(*old.columns).cast(types) for t in (came, gone)),
                       distinct=False)
    summed = parts.group_by(list(rollup.keys)).agg(
        **{c: parts[c].sum().cast(types[c]) for c in values})
    summed = summed.filter(summed[rollup.size] != 0)
    store.replace(WORK, summed)
    store.replace(rollup.table, store.table(WORK))
    store.drop(WORK)


def _replace_customers(store: Store, rollup: Rollup, before: ir.Table, after: ir.Table,
                       context: Any) -> None:
    """The rows of every customer of ``before`` or ``after``, from ``after``."""
    customers = before.select("customer_id").union(after.select("customer_id"))
    store.delete_in(rollup.table, "customer_id", customers)
    old = store.table(rollup.table)
    store.insert_select(rollup.table, rollup.of(after, context).select(*old.columns).cast(
        old.schema()))


def forget(store: Store) -> None:
    """A full build: drop every stored rollup and move the generation on."""
    for name in store.tables_like(f"^{PREFIX}"):
        store.drop(name)
    new_generation(store)
