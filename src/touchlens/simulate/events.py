"""An append-only buffer of simulated events (numpy blocks) rendered once into an Arrow table.

Events are kept as integer codes (person, touchpoint, event type, key/cookie/device kind) and
float times in days since the world's start; strings are made only at the end, with Arrow
``take`` on small dictionaries, so millions of rows cost no Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from touchlens.simulate.people import PeopleIds
from touchlens.simulate.spec import channel_of
from touchlens.store import schema as S

_US_PER_DAY = 86_400_000_000


def _ids(prefix: str, numbers: np.ndarray) -> pa.Array:
    """prefix + decimal number, vectorised in Arrow."""
    text = pc.cast(pa.array(numbers, pa.int64()), pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


class EventLog:
    """Collects event blocks; :meth:`to_table` renders them in the ``events`` input schema."""

    def __init__(self) -> None:
        self._parts: list[dict[str, np.ndarray | None]] = []
        self._codes: dict[str, dict[str, int]] = {"tp": {}, "type": {}, "campaign": {}}

    def code(self, kind: str, name: str) -> int:
        """Integer code of a touchpoint (``tp``), event ``type`` or ``campaign`` name."""
        table = self._codes[kind]
        return table.setdefault(name, len(table))

    def campaigns(self, rng: np.random.Generator, names: Sequence[str], size: int) -> np.ndarray:
        """Random campaign codes drawn from ``names`` (−1 = no campaign)."""
        if not names:
            return np.full(size, -1, np.int64)
        codes = np.array([self.code("campaign", c) for c in names])
        return codes[rng.integers(0, len(codes), size)]

    def add(self, person: np.ndarray, t: np.ndarray, touchpoint: str, event_type: str, *,
            key: int | np.ndarray = 0, anon: int | np.ndarray = 0,
            device: int | np.ndarray = 0, order: np.ndarray | None = None,
            revenue: np.ndarray | None = None, cost: np.ndarray | float | None = None,
            campaign: np.ndarray | None = None, attrs: np.ndarray | None = None) -> None:
        """Append len(person) events of one touchpoint and type (times in days)."""
        n = len(person)
        if n == 0:
            return

        def full(value: int | float | np.ndarray | None, fill: float, dtype: type) -> np.ndarray:
            if value is None:
                return np.full(n, fill, dtype)
            return np.broadcast_to(np.asarray(value, dtype), (n,)).copy()

        self._parts.append({
            "person": np.asarray(person, np.int64), "t": np.asarray(t, float),
            "tp": np.full(n, self.code("tp", touchpoint), np.int32),
            "type": np.full(n, self.code("type", event_type), np.int32),
            "key": full(key, 0, np.int8), "anon": full(anon, 0, np.int8),
            "device": full(device, 0, np.int8), "order": full(order, -1, np.int64),
            "revenue": full(revenue, np.nan, float), "cost": full(cost, np.nan, float),
            "campaign": full(campaign, -1, np.int64), "attrs": attrs,
        })

    def __len__(self) -> int:
        return sum(len(p["person"]) for p in self._parts)

    def column(self, name: str) -> np.ndarray:
        """One concatenated raw column (codes, times) in insertion order."""
        return np.concatenate([p[name] for p in self._parts]) if self._parts else np.array([])

    def to_table(self, ids: PeopleIds, n_people: int, tag: str, start_us: int,
                 currency: str) -> pa.Table:
        """Events sorted by time; event_id = ``e<tag>-<rank>``, order_id = ``o<tag>-<n>``."""
        if not self._parts:
            return S.EVENTS.empty_table()
        col = {k: self.column(k) for k in self._parts[0] if k != "attrs"}
        attrs = np.concatenate([p["attrs"] if p["attrs"] is not None
                                else np.full(len(p["person"]), None, object)
                                for p in self._parts])
        order = np.lexsort((col["person"], col["t"]))
        col = {k: v[order] for k, v in col.items()}
        attrs = attrs[order]
        person = col["person"]
        kinds = {k: col[k].astype(np.int64) * n_people + person for k in ("key", "anon", "device")}
        when = start_us + np.round(col["t"] * _US_PER_DAY).astype(np.int64)

        def names(kind: str) -> list[str]:
            table = self._codes[kind]
            return sorted(table, key=table.__getitem__)

        tps = names("tp")
        tp_arr = pa.array(tps, pa.string())
        ch_arr = pa.array([channel_of(tp) for tp in tps], pa.string())
        camp = pa.array([*names("campaign"), None], pa.string())
        money = ~np.isnan(col["revenue"]) | ~np.isnan(col["cost"])
        order_ids = _ids(f"o{tag}-", np.maximum(col["order"], 0))
        columns = {
            "event_id": _ids(f"e{tag}-", np.arange(len(person))),
            "occurred_at": pa.array(when, S.TS),
            "customer_id": ids.keys.take(pa.array(kinds["key"])),
            "anonymous_id": ids.anons.take(pa.array(kinds["anon"])),
            "channel": ch_arr.take(pa.array(col["tp"])),
            "touchpoint": tp_arr.take(pa.array(col["tp"])),
            "event_type": pa.array(names("type"), pa.string()).take(pa.array(col["type"])),
            "order_id": pc.if_else(pa.array(col["order"] >= 0), order_ids,
                                   pa.scalar(None, pa.string())),
            "revenue": pa.array(col["revenue"], pa.float64(), from_pandas=True),
            "currency": pa.array(np.where(money, currency, None), pa.string()),
            "cost": pa.array(col["cost"], pa.float64(), from_pandas=True),
            "campaign": camp.take(pa.array(np.where(col["campaign"] < 0, len(camp) - 1,
                                                    col["campaign"]))),
            "device": ids.devices.take(pa.array(kinds["device"])),
            "attributes": pa.array(attrs, pa.string()),
        }
        return pa.table(columns, schema=S.EVENTS)
