"""What every insight reads: events with their catalogue stage, feedback on stitched customers.

- :func:`stage_rank` maps a touchpoint to its stage's position in ``STAGES`` (0 awareness …
  4 advocacy) with a CASE expression built from the (small) catalogue, so no in-memory table
  has to be shipped to the backend.
- :func:`resolved_feedback` gives feedback rows the stitched ``customer_id`` of the identity
  map (feedback arrives with the raw key a survey tool knows: account, loyalty card, email).
- :func:`cached_journey_events` computes the journey-tagged events once per analysis.
- :func:`parse_duration` reads ``"7d"``, ``"12h"``, ``"30m"``, ``"90s"`` (or seconds as a
  number) into seconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.store.schema import JOURNEY_CACHE, STAGES

if TYPE_CHECKING:
    from touchlens.workspace import Workspace

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


def stage_rank(touchpoint: ir.StringValue, catalogue: pd.DataFrame) -> ir.IntegerValue:
    """Stage position (0..4) of each touchpoint; NULL for touchpoints without a stage."""
    mapping = {tp: STAGE_RANK[s] for tp, s in stage_of(catalogue).items()}
    if not mapping:
        return ibis.null().cast("int64")
    return touchpoint.substitute(mapping, else_=ibis.null().cast("int64")).cast("int64")


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


def _table_name(table: ir.Table) -> str | None:
    try:
        return table.get_name()
    except Exception:  # an expression, not a stored table
        return None


@contextmanager
def cached_journey_events(ws: Workspace) -> Iterator[ir.Table]:
    """The workspace's journey-tagged events, computed once for several queries: the
    workspace's stored journey cache when it has one (DuckDB), else an Ibis ``cache()`` (a
    cached DataFrame on Spark), released after."""
    tagged = ws.journey_events()
    if _table_name(tagged) == JOURNEY_CACHE:
        yield tagged
        return
    tagged = tagged.cache()
    try:
        yield tagged
    finally:
        tagged.release()
