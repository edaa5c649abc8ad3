"""Identity stitching equals a union-find oracle on any graph, and handles tricky chains."""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchlens import Workspace
from touchlens.store.schema import EVENTS, IDENTITIES

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _events(rows: list[tuple[str | None, str | None]]) -> pa.Table:
    data = [{"event_id": f"e{i}", "occurred_at": T0, "customer_id": c, "anonymous_id": a,
             "channel": "web", "touchpoint": "homepage", "event_type": "visit"}
            for i, (c, a) in enumerate(rows)]
    return pa.Table.from_pylist(data, schema=EVENTS)


def _identities(rows: list[tuple[str, str, str]]) -> pa.Table:
    return pa.Table.from_pylist([{"id_type": t, "id_value": v, "customer_id": c}
                                 for t, v, c in rows], schema=IDENTITIES)


def _oracle(events, links):
    """Union-find; label = smallest customer id, else 'anonymous:<smallest anon>'."""
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a, b):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    def node(t, v):
        return ("0" if t == "customer" else "1") + t, v

    for c, a in events:
        if c is not None:
            find(node("customer", c))
            if a is not None:
                union(node("customer", c), node("anonymous", a))
        else:
            find(node("anonymous", a))
    for t, v, c in links:
        union(node(t, v), node("customer", c))
    out = {}
    for x in list(parent):
        root = find(x)
        label = root[1] if root[0] == "0customer" else f"{root[0][1:]}:{root[1]}"
        out[(x[0][1:], x[1])] = label
    return out


def _stitched(ws):
    ws.refresh(force=True)
    m = ws.store.execute(ws.store.table("identity_map"))
    return {(r.id_type, r.id_value): r.customer_id for r in m.itertuples()}


def test_tricky_chain_anon_device_email_customer(make_workspace):
    ws = make_workspace()
    ws.store.append("events", _events([(None, "a1"), (None, "a2"), ("c7", "a2"), ("c3", None),
                                       (None, "lonely")]))
    ws.store.append("identities", _identities([
        ("device", "d1", "c9"), ("email", "h:1", "c9"), ("email", "h:1", "c7"),
        ("loyalty_card", "L5", "c3"), ("anonymous", "a1", "c9"),
    ]))
    got = _stitched(ws)
    assert got[("anonymous", "a1")] == got[("anonymous", "a2")] == "c7"  # via c9 = email = c7
    assert got[("device", "d1")] == "c7"
    assert got[("customer", "c3")] == got[("loyalty_card", "L5")] == "c3"
    assert got[("anonymous", "lonely")] == "anonymous:lonely"


def test_events_follow_the_stitched_customer(tmp_path):
    ws = Workspace.open(tmp_path / "w.duckdb")
    ws.ingest_arrow(_events([(None, "a1"), ("c1", "a1"), (None, "a2")]), "events")
    ev = ws.store.execute(ws.events()).sort_values("event_id")
    assert list(ev.customer_id) == ["c1", "c1", "anonymous:a2"]
    assert ws.stats()["customers"] == 2


ids = st.sampled_from([f"{i}" for i in range(8)])


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.tuples(st.one_of(st.none(), ids.map(lambda s: "c" + s)),
                       st.one_of(st.none(), ids.map(lambda s: "a" + s)))
             .filter(lambda r: r != (None, None)), min_size=1, max_size=12),
    st.lists(st.tuples(st.sampled_from(["device", "email", "loyalty_card", "anonymous"]), ids,
                       ids.map(lambda s: "c" + s)), max_size=10),
)
def test_components_equal_union_find(events, links):
    ws = Workspace.open(":memory:")
    ws.store.append("events", _events(events))
    ws.store.append("identities", _identities(links))
    expected = _oracle(events, links)
    assert _stitched(ws) == expected
