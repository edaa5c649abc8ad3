"""Markov-chain attribution solved exactly on the absorbing chain (no random walks).

States: ``(start)``, one per label (order 1) or per run of the last k labels (order k),
and the absorbing ``(conversion)`` and ``(null)``. Transition probabilities are the counts
aggregated in Ibis (each journey of a path adds its transitions once), normalised per state.

With Q the transient-to-transient probabilities and r the one-step conversion
probabilities, the conversion probabilities x of every transient state solve
(I − Q) x = r, and P(conv) = x[start]. Removing label c turns every state that holds c into
a null (its incoming transitions are lost): P₋c solves the same system on the other states.
Removal effect RE_c = 1 − P₋c / P(conv); the conversions of paths with at least one touch are
split ∝ RE_c. Revenue uses the same chain with r replaced by the expected conversion value
per step (Σ value of s → conversion / out-count of s), giving value removal effects.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from touchlens.attribution.paths import INTERNAL_SEP, NONE, PathSource
from touchlens.errors import ConfigError

START, CONV, NULL = "(start)", "(conversion)", "(null)"
BLOCK = 1 << 16  # paths per block of the transition count


def check_order(order: int) -> int:
    if not isinstance(order, int | np.integer) or not 1 <= order <= 4:
        raise ConfigError(f"Markov order must be 1, 2, 3 or 4, got {order!r}")
    return int(order)


def transitions_expr(source: PathSource, order: int = 1, *, by_path: bool = False
                     ) -> ir.Table:
    """Transition counts: from_state, to_state, n (journeys), value (revenue into
    ``(conversion)``) and, with ``by_path``, per path_key with k = occurrences in one path."""
    order = check_order(order)
    t = source.touches
    if order == 1:  # the step before is a column of the touches: no window
        t = t.mutate(_state=t.label, _from=t.prev_label.fill_null(START))
    else:
        w = ibis.window(group_by=t.path_key, order_by=t.step)
        state = t.label
        for i in range(1, order):
            prev = t.label.lag(i).over(w)
            state = ibis.ifelse(prev.isnull(), state, prev + INTERNAL_SEP + state)
        t = t.mutate(_state=state)
        t = t.mutate(_from=t._state.lag().over(w).fill_null(START))
    weight = t.conversions + t.nulls
    zero = ibis.literal(0.0)
    walk = t.select("path_key", from_state=t._from, to_state=t._state, n=weight, value=zero)
    last = t.filter(t.step == t.n_steps - 1)
    conv = last.select("path_key", from_state=last._state, to_state=ibis.literal(CONV),
                       n=last.conversions, value=last.revenue)
    null = last.select("path_key", from_state=last._state, to_state=ibis.literal(NULL),
                       n=last.nulls, value=zero)
    p = source.paths.filter(~source.paths.touched)
    econv = p.select("path_key", from_state=ibis.literal(START), to_state=ibis.literal(CONV),
                     n=p.conversions, value=p.revenue)
    enull = p.select("path_key", from_state=ibis.literal(START), to_state=ibis.literal(NULL),
                     n=p.nulls, value=zero)
    rows = ibis.union(walk, conv, null, econv, enull).filter(ibis._.n > 0)
    keys = ["path_key", "from_state", "to_state"] if by_path else ["from_state", "to_state"]
    return rows.group_by(keys).agg(n=rows.n.sum(), value=rows.value.sum(), k=rows.count())


def transitions(source: PathSource, order: int = 1) -> pd.DataFrame:
    """:func:`transitions_expr` executed, summed over paths — for an order-1 chain on a
    workspace source from :func:`order1_counts` of its events (same rows), read from the
    workspace's stored counts where the source carries them (``source.counted``)."""
    if check_order(order) == 1 and source.events is not None and not source.materialised:
        counted = (source.counted if source.counted is not None
                   else order1_counts(source.events, source.paths))
        return order1_transitions(source.execute(counted))
    return source.execute(transitions_expr(source, order))


ORDER1_SUMS = ("walk", "conv", "conv_k", "value", "null", "null_k", "rows")


def order1_counts(events: ir.Table, paths: ir.Table) -> ir.Table:
    """Order-1 transition counts of a workspace source's ``events`` and ``paths``
    (:class:`~touchlens.attribution.paths.PathSource`): one window, one aggregation
    (:func:`order1_transitions` makes the transitions of them).

    Per (from_state, to_state = a label): ``walk`` (journeys stepping from → to), and for
    the journeys whose last touch has that label ``conv``/``conv_k`` (conversions, such
    journeys), ``value`` (their revenue), ``null``/``null_k``; the journeys without a touch
    are the row (``(start)``, ``(none)``). Every column is a sum over journeys (``rows``:
    the touches and journeys counted), so the counts of many customers are the sums of
    each one's (the stored rollup :data:`touchlens.attribution.stored.TRANSITIONS`).

    Merging repeats changes nothing a first-order chain counts: a step's transition is the
    one into the first touch of its run (``lag`` differs, or is NULL: from ``(start)``), and
    the path's last step is its last touch (``lead`` is NULL), which carries the journey's
    outcome into ``(conversion)`` / ``(null)``. A journey's weight (conversions + nulls) is
    1, so a walk transition counts 1. Every touch is read once, in one pass (10M journeys:
    ~15 s instead of ~25 s with the window's result stored and read three times)."""
    e, p = events, paths
    touch = e.filter(e.is_touch).select("path_key", "label", "occurred_at", "event_id")
    touch = touch.join(p.select("path_key", "conversions", "nulls", "revenue"), "path_key")
    w = ibis.window(group_by=touch.path_key, order_by=[touch.occurred_at, touch.event_id])
    prev, nxt = touch.label.lag().over(w), touch.label.lead().over(w)
    t = touch.mutate(_from=prev.fill_null(START), _open=prev.isnull() | (prev != touch.label),
                     _end=nxt.isnull())
    end = t._end  # the path's last touch: its outcome's transitions
    conv, null = end & (t.conversions > 0), end & (t.nulls > 0)
    walked = t.group_by(from_state=t._from, to_state=t.label).agg(
        walk=t.count(where=t._open),
        conv=t.conversions.sum(where=conv).fill_null(0.0),
        conv_k=t.count(where=conv),
        value=t.revenue.sum(where=conv).fill_null(0.0),
        null=t.nulls.sum(where=null).fill_null(0.0),
        null_k=t.count(where=null), rows=t.count())
    q = p.filter(~p.touched)
    conv, null = q.conversions > 0, q.nulls > 0
    none = q.group_by(from_state=ibis.literal(START), to_state=ibis.literal(NONE)).agg(
        walk=ibis.literal(0, "int64"),
        conv=q.conversions.sum(where=conv).fill_null(0.0), conv_k=q.count(where=conv),
        value=q.revenue.sum(where=conv).fill_null(0.0),
        null=q.nulls.sum(where=null).fill_null(0.0), null_k=q.count(where=null),
        rows=q.count())
    cols = ["from_state", "to_state", *ORDER1_SUMS]
    return ibis.union(walked.select(*cols), none.select(*cols))


def order1_transitions(counts: pd.DataFrame) -> pd.DataFrame:
    """The transitions (from_state, to_state, n, value, k; as :func:`transitions_expr`
    gives them summed over paths) of executed :func:`order1_counts`."""
    counts = counts.astype({c: float for c in ("conv", "value", "null")})
    is_none = (counts["from_state"] == START) & (counts["to_state"] == NONE)
    none = counts.loc[is_none, ["conv", "conv_k", "value", "null", "null_k"]].sum()
    agg = counts.loc[~is_none]
    walk = agg[agg["walk"] > 0]
    ends = agg.groupby("to_state", sort=False)[["conv", "conv_k", "value", "null", "null_k"]
                                               ].sum().reset_index()
    parts = [
        pd.DataFrame({"from_state": walk["from_state"], "to_state": walk["to_state"],
                      "n": walk["walk"].astype(float), "value": 0.0, "k": walk["walk"]}),
        pd.DataFrame({"from_state": ends["to_state"], "to_state": CONV, "n": ends["conv"],
                      "value": ends["value"], "k": ends["conv_k"]})[ends["conv_k"] > 0],
        pd.DataFrame({"from_state": ends["to_state"], "to_state": NULL, "n": ends["null"],
                      "value": 0.0, "k": ends["null_k"]})[ends["null_k"] > 0],
        pd.DataFrame({"from_state": [START, START], "to_state": [CONV, NULL],
                      "n": [none["conv"], none["null"]], "value": [none["value"], 0.0],
                      "k": [none["conv_k"], none["null_k"]]})[
            np.array([none["conv_k"] > 0, none["null_k"] > 0])],
    ]
    out = pd.concat(parts, ignore_index=True)
    return out.astype({"from_state": str, "to_state": str, "n": float, "value": float,
                       "k": "int64"})


def order1_totals(counts: ir.Table) -> ir.Table:
    """(c, r, c0, r0) of :func:`touchlens.attribution.engine.totals` from
    :func:`order1_counts`: every journey's outcome is counted once, at its last touch or in
    the ``(none)`` row."""
    none = (counts.from_state == START) & (counts.to_state == NONE)
    return counts.aggregate(c=counts.conv.sum(), r=counts.value.sum(),
                            c0=counts.conv.sum(where=none), r0=counts.value.sum(where=none))


def coded_transitions(codes: np.ndarray, lengths: np.ndarray, labels: list[str],
                      conversions: np.ndarray, revenue: np.ndarray, nulls: np.ndarray
                      ) -> pd.DataFrame:
    """Order-1 transition counts of coded paths, as :func:`transitions_expr` gives them:
    from_state, to_state, n, value (rows with n > 0).

    Path i has steps ``codes[s_i : s_i + lengths[i]]`` (``labels[code]``) and weight
    w_i = conversions_i + nulls_i: n(a → b) = Σ w_i over adjacent a, b of path i (a =
    ``(start)`` before the first step); n(last → conversion) = Σ conversions_i and its value
    Σ revenue_i; n(last → null) = Σ nulls_i; a path without steps goes from ``(start)``
    straight to the outcome. Counted by ``np.bincount`` over pair ids (from · m + to), a
    block of paths at a time (temporaries stay cache-sized). Each path's revenue must come
    with conversions (revenue_i > 0 ⇒ conversions_i > 0): the query keeps a path's revenue
    only when the path converts.
    """
    k = len(labels)
    start, m = k, k + 3
    size = m * m
    n, value = np.zeros(size), np.zeros(size)
    s0 = 0
    for r0 in range(0, len(lengths), BLOCK):
        lens = lengths[r0:r0 + BLOCK]
        ends = np.cumsum(lens)
        s1 = s0 + int(ends[-1])
        step = codes[s0:s1]
        touched = lens > 0
        pairs = np.empty(s1 - s0, dtype=np.int64)
        pairs[1:] = step[:-1]
        pairs[(ends - lens)[touched]] = start
        pairs *= m
        pairs += step
        conv, nulls_b = conversions[r0:r0 + BLOCK], nulls[r0:r0 + BLOCK]
        n += _weighted_count(pairs, conv + nulls_b, lens, size)
        last = step[ends[touched] - 1].astype(np.int64) * m
        for to, w in ((k + 1, conv), (k + 2, nulls_b)):
            n += np.bincount(last + to, weights=w[touched], minlength=size)
            n[start * m + to] += w[~touched].sum()
        rev = revenue[r0:r0 + BLOCK]
        value += np.bincount(last + k + 1, weights=rev[touched], minlength=size)
        value[start * m + k + 1] += rev[~touched].sum()
        s0 = s1
    keep = np.flatnonzero(n > 0)
    names = np.array([*labels, START, CONV, NULL], dtype=object)
    return pd.DataFrame({"from_state": names[keep // m], "to_state": names[keep % m],
                         "n": n[keep], "value": value[keep]})


def _weighted_count(pairs: np.ndarray, weights: np.ndarray, lengths: np.ndarray,
                    size: int) -> np.ndarray:
    """Σ weight of each pair id, path i's weight on each of its ``lengths[i]`` pairs (one
    weight for every path, as in a table of one row per journey: counts × weight)."""
    if len(weights) and weights.min() == weights.max():
        return np.bincount(pairs, minlength=size) * weights[0]
    return np.bincount(pairs, weights=np.repeat(weights, lengths), minlength=size)


@dataclass
class MarkovSolution:
    """Removal effects and the chain's size, per label (order k states split into labels)."""

    labels: list[str]
    p_conversion: float
    removal_effect: np.ndarray
    value_removal_effect: np.ndarray
    n_states: int


def _labels_of(state: str) -> list[str]:
    return state.split(INTERNAL_SEP)


def solve(trans: pd.DataFrame) -> MarkovSolution:
    """Exact removal effects from a transition table (from_state, to_state, n, value)."""
    trans = trans[trans["n"] > 0]
    names = pd.unique(pd.concat([trans["from_state"], trans["to_state"]]))
    transient = [START, *sorted(s for s in names if s not in (START, CONV, NULL))]
    index = {s: i for i, s in enumerate(transient)}
    m = len(transient)

    def ix(col: pd.Series) -> np.ndarray:
        return col.map(index).to_numpy(dtype=np.int64)

    frm = ix(trans["from_state"])
    out = np.bincount(frm, weights=trans["n"].to_numpy(float), minlength=m)
    out_safe = np.where(out > 0, out, 1.0)
    inner = trans[trans["to_state"].isin(index)]
    q = sp.csr_matrix(
        (inner["n"].to_numpy(float) / out_safe[ix(inner["from_state"])],
         (ix(inner["from_state"]), ix(inner["to_state"]))),
        shape=(m, m))
    conv = trans[trans["to_state"] == CONV]
    ci = ix(conv["from_state"])
    rhs = np.zeros((m, 2))
    rhs[:, 0] = np.bincount(ci, weights=conv["n"].to_numpy(float), minlength=m) / out_safe
    rhs[:, 1] = np.bincount(ci, weights=conv["value"].to_numpy(float), minlength=m) / out_safe
    labels = sorted({x for s in transient[1:] for x in _labels_of(s)})
    holds: dict[str, list[int]] = {x: [] for x in labels}
    for s, i in index.items():
        if s != START:
            for x in set(_labels_of(s)):
                holds[x].append(i)
    base = _absorb(q, rhs, np.ones(m, bool))
    re = np.zeros(len(labels))
    rev = np.zeros(len(labels))
    for j, x in enumerate(labels):
        keep = np.ones(m, bool)
        keep[holds[x]] = False
        removed = _absorb(q, rhs, keep)
        re[j] = 1.0 - removed[0] / base[0] if base[0] > 0 else 0.0
        rev[j] = 1.0 - removed[1] / base[1] if base[1] > 0 else 0.0
    return MarkovSolution(labels, float(base[0]), np.clip(re, 0.0, 1.0), np.clip(rev, 0.0, 1.0),
                          m)


def _absorb(q: sp.csr_matrix, rhs: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """Absorption (conversion, value) from start, states outside ``keep`` made null."""
    idx = np.flatnonzero(keep)
    sub = q[idx][:, idx]
    a = sp.identity(len(idx), format="csc") - sub.tocsc()
    small = len(idx) <= 400  # dense LU is faster for small chains
    x = np.linalg.solve(a.toarray(), rhs[idx]) if small else spla.splu(a).solve(rhs[idx])
    return np.asarray(x)[0]


def split_credit(sol: MarkovSolution, conversions: float, revenue: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and revenue of touched paths split ∝ (value) removal effects."""
    def share(x: np.ndarray) -> np.ndarray:
        total = x.sum()
        return x / total if total > 0 else np.zeros_like(x)

    return conversions * share(sol.removal_effect), revenue * share(sol.value_removal_effect)


def markov_credits(trans: pd.DataFrame, none_conv: float, none_rev: float,
                   total_conv: float, total_rev: float) -> tuple[pd.DataFrame, MarkovSolution]:
    """Long rows (label, conversions, revenue) with the ``(none)`` bucket, and the solution."""
    sol = solve(trans)
    conv, rev = split_credit(sol, total_conv - none_conv, total_rev - none_rev)
    df = pd.DataFrame({"label": sol.labels, "conversions": conv, "revenue": rev,
                       "removal_effect": sol.removal_effect})
    if none_conv or none_rev:
        df = pd.concat([df, pd.DataFrame({"label": [NONE], "conversions": [none_conv],
                                          "revenue": [none_rev], "removal_effect": [np.nan]})],
                       ignore_index=True)
    return df, sol


def markov_from_transitions(trans: pd.DataFrame, totals: tuple[float, float, float, float],
                            order: int) -> tuple[pd.DataFrame, dict]:
    """Credit rows and notes of the chain with these transition counts (``totals`` as in
    :func:`markov_model`)."""
    total_conv, total_rev, none_conv, none_rev = totals
    df, sol = markov_credits(trans, none_conv, none_rev, total_conv, total_rev)
    notes = {"order": order, "states": sol.n_states - 1, "p_conversion": sol.p_conversion,
             "removal_effects": dict(zip(sol.labels, sol.removal_effect.round(6).tolist(),
                                         strict=True)),
             "method": "exact absorbing-chain solve (no simulation)"}
    return df, notes


def _replicate_table(inc: pd.DataFrame, conv: np.ndarray, nulls: np.ndarray,
                     conv_b: np.ndarray, nulls_b: np.ndarray, pos: np.ndarray) -> pd.DataFrame:
    """Transition counts of one bootstrap replicate from the per-path incidence table."""
    to = inc["to_state"].to_numpy()
    cb, nb = conv_b[pos], nulls_b[pos]
    per_journey = inc["k"].to_numpy(float)
    n = np.where(to == CONV, cb, np.where(to == NULL, nb, per_journey * (cb + nb)))
    mean_value = np.divide(inc["value"].to_numpy(float), conv[pos],
                           out=np.zeros(len(inc)), where=conv[pos] > 0)
    out = inc[["from_state", "to_state"]].assign(n=n, value=np.where(to == CONV, mean_value * cb,
                                                                      0.0))
    return out.groupby(["from_state", "to_state"], as_index=False, sort=False).sum()


def markov_model(source: PathSource, *, order: int = 1, bootstrap: int = 0, seed: int = 0,
                 totals: tuple[float, float, float, float]) -> tuple[pd.DataFrame, dict]:
    """Credit rows (label, conversions, revenue, samples) and notes for the Markov model.

    ``totals`` = (conversions, revenue, conversions without touch, their revenue).
    """
    order = check_order(order)
    trans = transitions(source, order)
    df, notes = markov_from_transitions(trans, totals, order)
    if bootstrap:
        from touchlens.attribution.bootstrap import replicates

        local = source.compact()
        inc = local.execute(transitions_expr(local, order, by_path=True))
        paths = local.execute(local.paths.select("path_key", "touched", "conversions", "nulls")
                              ).sort_values("path_key")
        conv, nulls = paths["conversions"].to_numpy(float), paths["nulls"].to_numpy(float)
        touched = paths["touched"].to_numpy(dtype=bool)
        pos = np.searchsorted(paths["path_key"].to_numpy(), inc["path_key"].to_numpy())
        samples = []
        for conv_b, nulls_b in replicates(conv, nulls, bootstrap, seed):
            s = solve(_replicate_table(inc, conv, nulls, conv_b, nulls_b, pos))
            c, _ = split_credit(s, float(conv_b[touched].sum()), 0.0)
            samples.append(pd.Series(c, index=s.labels))
        notes["bootstrap"] = bootstrap
        df = attach_samples(df, samples, {NONE: None})
    return df, notes


def attach_samples(df: pd.DataFrame, samples: list[pd.Series], fixed: dict[str, object]
                   ) -> pd.DataFrame:
    """Add a ``samples`` column (replicated conversions per label; labels in ``fixed`` get
    none: their credit does not depend on the model)."""
    table = pd.DataFrame(samples).reindex(columns=df["label"]).fillna(0.0)
    values = [None if x in fixed else table[x].to_numpy() for x in df["label"]]
    return df.assign(samples=values)
