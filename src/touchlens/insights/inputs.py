"""What every insight reads: events with their catalogue stage, feedback on stitched customers.

- :func:`stage_rank` maps a touchpoint to its stage's position in ``STAGES`` (0 awareness …
  4 advocacy) with a CASE expression built from the (small) catalogue, so no in-memory table
  has to be shipped to the backend.
- :func:`resolved_feedback` gives feedback rows the stitched ``customer_id`` of the identity
  map (feedback arrives with the raw key a survey tool knows: account, loyalty card, email).
- :func:`cached_journey_events` computes the journey-tagged events once per analysis.
- :func:`memo` keeps a result per data version where the workspace can (served workspaces);
  :func:`own_inputs` looks the workspace's own inputs up once, when first needed;
  :func:`beside` runs a computation on another thread where the workspace can.
- :func:`parse_duration` reads ``"7d"``, ``"12h"``, ``"30m"``, ``"90s"`` (or seconds as a
  number) into seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.store.schema import STAGES

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

T = TypeVar("T")
STAGE_RANK: dict[str, int] = {s: i for i, s in enumerate(STAGES)}
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$", re.IGNORECASE)


def parse_duration(value: str | float | int | None) -> float | None:
    """Seconds in ``value`` ("7d", "12h", "30m", "90s", "2w" or a number of seconds)."""
    if value is None:
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if not m:
            raise ConfigError(f"cannot read the duration {value!r}: use e.g. '7d', '12h', '30m'")
        seconds = float(m.group(1)) * _UNITS[(m.group(2) or "s").lower()]
    if seconds <= 0:
        raise ConfigError(f"a duration must be positive, got {value!r}")
    return seconds


def stage_of(catalogue: pd.DataFrame) -> dict[str, str]:
    """touchpoint → stage, for the catalogue rows whose stage is one of ``STAGES``."""
    ok = catalogue[catalogue["stage"].isin(STAGES)]
    return dict(zip(ok["touchpoint"], ok["stage"], strict=True))


def stage_ranks(catalogue: pd.DataFrame) -> dict[str, int]:
    """touchpoint → stage position (0..4), for the touchpoints with a stage."""
    return {tp: STAGE_RANK[s] for tp, s in stage_of(catalogue).items()}


def workspace_stage_ranks(ws: Workspace) -> dict[str, int]:
    """:func:`stage_ranks` of the workspace's catalogue (the context of the rollups built
    with the stages)."""
    return stage_ranks(ws.touchpoints())


def stage_rank(touchpoint: ir.StringValue, catalogue: pd.DataFrame | dict[str, int]
               ) -> ir.IntegerValue:
    """Stage position (0..4) of each touchpoint; NULL for touchpoints without a stage
    (``catalogue``: the catalogue, or its :func:`stage_ranks`)."""
    mapping = catalogue if isinstance(catalogue, dict) else stage_ranks(catalogue)
    if not mapping:
        return ibis.null().cast("int64")
    # a map lookup, not substitute(): its CASE of ~40 string tests cost ~0.7 s per 10M rows
    return ibis.map(mapping).get(touchpoint).cast("int64")


def stage_name(rank: ir.IntegerValue) -> ir.StringValue:
    """Inverse of :func:`stage_rank`."""
    return rank.substitute(dict(enumerate(STAGES)), else_=ibis.null().cast("string"))


def resolved_feedback(feedback: ir.Table, identity_map: ir.Table) -> ir.Table:
    """Feedback with ``customer_id`` replaced by the stitched customer (one row per response).

    A response's key is looked up as a ``customer`` identifier; unknown keys stay as they are.
    """
    m = identity_map.filter(identity_map.id_type == "customer").select(
        _key="id_value", _stitched="customer_id")
    joined = feedback.left_join(m, feedback.customer_id == m._key)
    cols = [c for c in feedback.columns if c != "customer_id"]
    return joined.select(*cols, customer_id=joined._stitched.coalesce(joined.customer_id))


def horizon(events: ir.Table) -> ir.TimestampScalar:
    """The last event time: the end of the observed period."""
    return events.occurred_at.max()


@contextmanager
def cached_journey_events(ws: Workspace) -> Iterator[ir.Table]:
    """The workspace's journey-tagged events, computed once for several queries: the
    workspace's stored journey cache when it has one (DuckDB), else an Ibis ``cache()`` (a
    cached DataFrame on Spark), released after."""
    tagged = ws.journey_events()
    if ws.journeys_stored():
        yield tagged
        return
    tagged = tagged.cache()
    try:
        yield tagged
    finally:
        tagged.release()


def memo(ws: Workspace, name: str, params: tuple, compute: Callable[[], T]) -> T:
    """``ws.memo(name, params, compute)`` when the workspace keeps intermediate results per
    data version (the API's served workspaces), else ``compute()``. ``params`` must hold
    every argument the result depends on besides the workspace's data and scope."""
    keep = getattr(ws, "memo", None)
    return compute() if keep is None else keep(name, params, compute)


class OwnInputs:
    """A workspace's own inputs of the insights, each looked up once and only when a step
    needs it (a memoised step needs none): the journey-tagged events (computed once, see
    :func:`cached_journey_events`), the VoC sentiment (``sentiment(ws)``) and the catalogue."""

    def __init__(self, ws: Workspace, stack: ExitStack,
                 sentiment: Callable[[Workspace], ir.Table | None]) -> None:
        self._ws = ws
        self._stack = stack
        self._lookup = sentiment

    @cached_property
    def tagged(self) -> ir.Table:
        return self._stack.enter_context(cached_journey_events(self._ws))

    @cached_property
    def sentiment(self) -> ir.Table | None:
        return self._lookup(self._ws)

    @cached_property
    def catalogue(self) -> pd.DataFrame:
        return self._ws.touchpoints()


@contextmanager
def own_inputs(ws: Workspace, sentiment: Callable[[Workspace], ir.Table | None]
               ) -> Iterator[OwnInputs]:
    """:class:`OwnInputs` of ``ws``, released (the cached journeys) on exit."""
    with ExitStack() as stack:
        yield OwnInputs(ws, stack, sentiment)


@contextmanager
def beside(ws: Workspace, compute: Callable[[Workspace], T], *,
           here: Callable[[], T] | None = None, parallel: bool = True
           ) -> Iterator[Callable[[], T]]:
    """Yields "get the result" of ``compute``: started at once on another thread with a
    sibling of ``ws`` on its own cursor when ``ws`` can hand one out (``ws.sibling()``: a
    served workspace) and ``parallel``; otherwise ``here()`` (default ``compute(ws)``) run
    when asked. The thread ends before the sibling is closed."""
    make = getattr(ws, "sibling", None)
    if make is None or not parallel:
        yield here if here is not None else (lambda: compute(ws))
        return
    other = make()
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="touchlens-insights") as pool:
            future = pool.submit(compute, other)
            yield future.result
    finally:
        other.close()


def journey_cache_ready(ws: Workspace) -> bool:
    """Whether ``ws``'s journey-tagged events are a stored table (the DuckDB journey cache),
    which another cursor can read instead of recomputing them); builds the cache if it is
    stale, so the other cursors find it ready."""
    ws.journey_events()
    return ws.journeys_stored()
