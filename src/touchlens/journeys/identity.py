"""Identity stitching: linked identifiers → one customer, as connected components in Ibis.

Nodes are identifiers (``customer``, ``anonymous``, ``email`` hash, ``loyalty_card``,
``device``…). Edges come from the ``identities`` table (identifier → customer_id) and from
events that carry both a customer_id and an anonymous_id. Components are found by min-label
propagation with pointer jumping (each round: a node takes the smallest label among itself and
its neighbours, then the label of its label), materialised per round, until nothing changes.
Node keys sort customer ids first, so a component's label is its smallest customer_id when it
has one (two customer ids joined by a shared identifier merge into the smaller); otherwise the
label is ``"<type>:<value>"`` of its smallest identifier, e.g. ``anonymous:abc``.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from touchlens.store import Store

MAX_ROUNDS = 64
_SEP = "|"


def _node(id_type: ir.StringValue, id_value: ir.StringValue) -> ir.StringValue:
    rank = ibis.ifelse(id_type == "customer", "0", "1")
    return rank + id_type + _SEP + id_value


def identity_edges(events: ir.Table, identities: ir.Table) -> ir.Table:
    """Undirected edges (src, dst) between identifier nodes, self-loops included."""
    linked = identities.select(
        src=_node(identities.id_type, identities.id_value),
        dst=_node(ibis.literal("customer"), identities.customer_id),
    )
    both = events.filter(events.customer_id.notnull() & events.anonymous_id.notnull())
    login = both.select(
        src=_node(ibis.literal("anonymous"), both.anonymous_id),
        dst=_node(ibis.literal("customer"), both.customer_id),
    ).distinct()
    customers = events.filter(events.customer_id.notnull()).select(
        n=_node(ibis.literal("customer"), events.customer_id))
    anons = events.filter(events.customer_id.isnull()).select(
        n=_node(ibis.literal("anonymous"), events.anonymous_id))
    nodes = customers.union(anons).union(linked.select(n=linked.src)).union(
        linked.select(n=linked.dst))
    loops = nodes.select(src=nodes.n, dst=nodes.n)
    directed = linked.union(login)
    return directed.union(directed.select(src=directed.dst, dst=directed.src)).union(loops)


def stitch(store: Store, events: ir.Table, identities: ir.Table,
           *, work: str = "_identity_work") -> ir.Table:
    """Compute the component label of every node; returns the ``identity_map`` expression."""
    store.replace(f"{work}_edges", identity_edges(events, identities).distinct())
    edges = store.table(f"{work}_edges")
    labels = edges.group_by(node=edges.src).agg(label=edges.dst.min())
    store.replace(f"{work}_labels", labels)
    for _ in range(MAX_ROUNDS):
        current = store.table(f"{work}_labels")
        hop = edges.join(current, edges.dst == current.node).select(node=edges.src,
                                                                    label=current.label)
        spread = hop.group_by("node").agg(label=hop.label.min())
        jump_src = spread.view()
        jump = spread.join(jump_src, spread.label == jump_src.node).select(
            node=spread.node, label=ibis.least(spread.label, jump_src.label))
        store.replace(f"{work}_next", jump)
        nxt = store.table(f"{work}_next")
        changed = nxt.join(current, "node").filter(nxt.label != current.label).count()
        n_changed = int(store.execute(changed.as_table()).iloc[0, 0])
        store.replace(f"{work}_labels", nxt)
        if n_changed == 0:
            break
    final = store.table(f"{work}_labels")
    body = final.node.substr(1)  # drop the sort rank
    label_body = final.label.substr(1)
    split_at = label_body.find(_SEP)
    label_type = label_body.substr(0, split_at)
    label_value = label_body.substr(split_at + 1)
    node_at = body.find(_SEP)
    return final.select(
        id_type=body.substr(0, node_at),
        id_value=body.substr(node_at + 1),
        customer_id=ibis.ifelse(label_type == "customer", label_value,
                                label_type + ":" + label_value),
    )
