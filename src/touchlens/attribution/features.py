"""Journey features for the counterfactual model, aggregated to distinct patterns in Ibis.

A journey's pattern is, per label it touched: the number of touches n (events, capped at
``N_CAP``) and, with timestamps, a recency bucket of its last touch before the conversion or
the journey's end (0: < 1 day, 1: 1–7 days, 2: > 7 days). Journeys with the same pattern
are one row (``conversions``, ``nulls``, ``revenue`` summed), so fitting and the Shapley
split scale with distinct patterns, not journeys.

Design columns per label (a block, switched off together when the label is removed):
exposed = 1, log(1 + n), 1 − exp(−n / 3) (saturation), and the recency bucket as two
indicators; optional interactions exposed_a · exposed_b for label pairs seen together in at
least ``min_pair_journeys`` journeys. Each non-zero entry carries an owner bitmask (local
positions of the labels it needs), so any subset T of a pattern's labels gives its row by
keeping the entries whose owner ⊆ T.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import scipy.sparse as sp

from touchlens.attribution.counts import N_CAP, count_matrix, label_counts
from touchlens.attribution.paths import PathSource

ITEM_SEP, FIELD_SEP = "\x1e", "\x1f"
BLOCK = 5  # exposed, log1p(n), saturation, recency 1–7 d, recency > 7 d


def patterns_expr(source: PathSource, recency: bool = False) -> ir.Table:
    """One row per distinct pattern, in key order: key, conversions, nulls, revenue."""
    t = source.touches
    per = t.group_by(["path_key", "label"]).agg(n=t.n_touch.sum(), rec=t.days_before.min())
    item = per.label + FIELD_SEP + ibis.least(per.n, N_CAP).cast("string")
    if recency and source.has_time:
        bucket = ibis.cases((per.rec < 1.0, "0"), (per.rec < 7.0, "1"), else_="2")
        item = item + FIELD_SEP + bucket
    keys = per.mutate(_item=item).group_by(_pk=per.path_key).agg(
        key=ibis._._item.collect().sort().join(ITEM_SEP))
    p = source.paths
    j = p.left_join(keys, p.path_key == keys._pk)
    j = j.mutate(key=j.key.fill_null(""))
    # in key order: the folds and samples drawn over these rows must not depend on the order
    # a parallel group-by happens to return them in (same data, same result)
    return j.group_by("key").agg(conversions=j.conversions.sum(), nulls=j.nulls.sum(),
                                 revenue=j.revenue.sum()).order_by("key")


def pattern_frame(source: PathSource, recency: bool = False) -> pd.DataFrame:
    """The :func:`patterns_expr` rows (key, conversions, nulls, revenue; in key order), by
    the cheapest route the source allows.

    A workspace source without recency needs only how many touches of each label every
    journey has (:func:`touchlens.attribution.counts.label_counts`: no windows, joins or
    strings in the backend; 10M journeys: ~6 s and ~2 GB instead of ~50 s and ~7 GB). The
    keys are then written and sorted by Arrow exactly as :func:`patterns_expr` writes and
    sorts them (the same rows in the same order: the folds drawn over them are too).
    Otherwise :func:`patterns_expr`.
    """
    counted = None if recency and source.has_time else label_counts(source)
    if counted is None:
        return source.execute(patterns_expr(source, recency))
    return _keyed_patterns(counted.frame, counted.labels)


def _keyed_patterns(wide: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
    """Count vectors (columns c0.., labels sorted) → :func:`patterns_expr`'s rows: key
    ``label<FIELD_SEP>n`` items of the non-zero counts joined by ``ITEM_SEP``, sorted."""
    counts = count_matrix(wide, len(labels))
    rows, cols_at = np.nonzero(counts)  # row-major: by pattern, then label (sorted)
    items = pc.binary_join_element_wise(
        pa.array(labels, pa.string()).take(pa.array(cols_at)),
        pc.cast(pa.array(counts[rows, cols_at]), pa.string()), FIELD_SEP)
    offsets = np.zeros(len(wide) + 1, dtype=np.int32)
    np.cumsum(np.bincount(rows, minlength=len(wide)), out=offsets[1:])
    keys = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), items), ITEM_SEP)
    order = pc.sort_indices(keys).to_numpy()
    return pd.DataFrame({
        "key": keys.take(pa.array(order)).to_pandas(),
        "conversions": wide["conversions"].to_numpy(float)[order],
        "nulls": wide["nulls"].to_numpy(float)[order],
        "revenue": wide["revenue"].to_numpy(float)[order]})


@dataclass
class Patterns:
    """Distinct patterns in array form (items sorted by pattern, then label)."""

    labels: list[str]
    conversions: np.ndarray
    nulls: np.ndarray
    revenue: np.ndarray
    k: np.ndarray  # labels per pattern
    item_pattern: np.ndarray
    item_label: np.ndarray
    item_pos: np.ndarray  # position of the label within its pattern (0..k-1)
    item_n: np.ndarray
    item_rec: np.ndarray  # recency bucket 0..2 (0 without timestamps)

    @property
    def journeys(self) -> np.ndarray:
        return self.conversions + self.nulls

    def __len__(self) -> int:
        return len(self.k)


def parse_patterns(df: pd.DataFrame) -> Patterns:
    """Arrays from the ``patterns_expr`` result (keys split by Arrow, not row by row)."""
    df = df.reset_index(drop=True)
    keys = pa.array(df["key"].astype(str), type=pa.string(), from_pandas=True)
    lists = pc.split_pattern(keys, pattern=ITEM_SEP)
    items = pc.list_flatten(lists)
    pattern = pc.list_parent_indices(lists).to_numpy().astype(np.int64)
    real = pc.not_equal(items, "").to_numpy(zero_copy_only=False)
    items, pattern = items.filter(pa.array(real)), pattern[real]
    fields = pc.split_pattern(items, pattern=FIELD_SEP)
    label_col = pc.list_element(fields, 0)
    n_col = pc.list_element(fields, 1).cast(pa.float64()) if len(items) else pa.array(
        [], pa.float64())
    width = pc.list_value_length(fields).to_numpy() if len(items) else np.zeros(0, np.int64)
    rec = np.zeros(len(items), dtype=np.int64)
    has_rec = width >= 3
    if has_rec.any():
        third = pc.list_element(fields.filter(pa.array(has_rec)), 2).cast(pa.int64())
        rec[has_rec] = third.to_numpy()
    if isinstance(label_col, pa.ChunkedArray):
        label_col = label_col.combine_chunks()
    encoded = pc.dictionary_encode(label_col)
    labels = sorted(encoded.dictionary.to_pylist())
    rank = np.argsort(np.argsort(np.array(encoded.dictionary.to_pylist(), dtype=object)))
    k = np.bincount(pattern, minlength=len(df)).astype(np.int64)
    starts = np.cumsum(k) - k
    return Patterns(
        labels=labels,
        conversions=df["conversions"].to_numpy(float), nulls=df["nulls"].to_numpy(float),
        revenue=df["revenue"].to_numpy(float), k=k, item_pattern=pattern,
        item_label=rank[encoded.indices.to_numpy()].astype(np.int64) if len(items) else
        np.zeros(0, np.int64),
        item_pos=np.arange(len(pattern), dtype=np.int64) - starts[pattern],
        item_n=np.asarray(n_col.to_numpy(zero_copy_only=False), dtype=float),
        item_rec=rec,
    )


@dataclass
class Design:
    """Feature columns: per-label blocks, then the chosen label pairs."""

    n_labels: int
    pairs: np.ndarray  # (n_pairs, 2) label indices, a < b
    use_recency: bool

    @property
    def n_features(self) -> int:
        return self.n_labels * BLOCK + len(self.pairs)

    def entries(self, pt: Patterns) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(pattern, column, value, owner) of every non-zero entry of the full rows."""
        n = pt.item_n
        vals = [np.ones_like(n), np.log1p(n), 1.0 - np.exp(-n / 3.0)]
        if self.use_recency:
            vals += [(pt.item_rec == 1).astype(float), (pt.item_rec == 2).astype(float)]
        owner = np.left_shift(np.int64(1), pt.item_pos)
        pat = [pt.item_pattern] * len(vals)
        col = [pt.item_label * BLOCK + b for b in range(len(vals))]
        own = [owner] * len(vals)
        if len(self.pairs):
            pp, pc, po = self._pair_entries(pt)
            pat.append(pp)
            col.append(pc)
            own.append(po)
            vals.append(np.ones(len(pp)))
        p, c, v, o = (np.concatenate(x) for x in (pat, col, vals, own))
        if v.all():  # touch counts are ≥ 1: only recency indicators can be 0
            return p, c, v, o
        keep = v != 0
        return p[keep], c[keep], v[keep], o[keep]

    def main_effects(self, entries: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        """The per-label blocks' part of :meth:`entries` (what the same design without
        pairs has): the pair columns come after them, so it is a prefix (views, no copy)."""
        n = int(np.count_nonzero(entries[1] < self.n_labels * BLOCK))
        return tuple(a[:n] for a in entries)

    def _pair_entries(self, pt: Patterns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lookup = np.full(self.n_labels * self.n_labels, -1, dtype=np.int64)
        if len(self.pairs):
            lookup[self.pairs[:, 0] * self.n_labels + self.pairs[:, 1]] = np.arange(
                len(self.pairs))
        a_idx, b_idx = _item_pairs(pt)
        col = lookup[pt.item_label[a_idx] * self.n_labels + pt.item_label[b_idx]]
        ok = col >= 0
        owner = (np.left_shift(np.int64(1), pt.item_pos[a_idx])
                 | np.left_shift(np.int64(1), pt.item_pos[b_idx]))
        return (pt.item_pattern[a_idx][ok], self.n_labels * BLOCK + col[ok], owner[ok])

    def full_matrix(self, pt: Patterns,
                    entries: tuple[np.ndarray, ...] | None = None) -> sp.csr_matrix:
        """Every pattern's full row; ``entries``: :meth:`entries` when already at hand."""
        p, c, v, _ = self.entries(pt) if entries is None else entries
        return sp.csr_matrix((v, (p, c)), shape=(len(pt), self.n_features))


def _item_pairs(pt: Patterns) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (a, b) of items in the same pattern with label a < label b."""
    k = pt.k
    starts = np.cumsum(k) - k
    a_list, b_list = [], []
    for size in np.unique(k[k >= 2]):
        rows = starts[k == size]
        ia, ib = np.triu_indices(int(size), 1)
        a_list.append((rows[:, None] + ia[None, :]).ravel())
        b_list.append((rows[:, None] + ib[None, :]).ravel())
    if not a_list:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(a_list), np.concatenate(b_list)


def frequent_pairs(pt: Patterns, min_journeys: float) -> np.ndarray:
    """Label pairs (a < b) that occur together in at least ``min_journeys`` journeys."""
    a_idx, b_idx = _item_pairs(pt)
    if not len(a_idx):
        return np.zeros((0, 2), np.int64)
    n = len(pt.labels)
    keys = pt.item_label[a_idx] * n + pt.item_label[b_idx]
    weight = np.bincount(keys, weights=pt.journeys[pt.item_pattern[a_idx]], minlength=n * n)
    chosen = np.flatnonzero(weight >= min_journeys)
    return np.stack([chosen // n, chosen % n], axis=1)


def subset_rows(design: Design, pt: Patterns, patterns: np.ndarray, masks: np.ndarray,
                entries: tuple[np.ndarray, ...]) -> sp.csr_matrix:
    """Rows for ``patterns`` (m) × local subset ``masks`` (q): row i·q + t keeps the entries
    of pattern i whose owner ⊆ masks[t]."""
    p, c, v, o = entries
    m, q = len(patterns), len(masks)
    where = np.full(len(pt), -1, dtype=np.int64)
    where[patterns] = np.arange(m)
    sel = np.flatnonzero(where[p] >= 0)
    keep = (o[sel, None] & masks[None, :]) == o[sel, None]
    ent, sub = np.nonzero(keep)
    rows = where[p[sel][ent]] * q + sub
    return sp.csr_matrix((v[sel][ent], (rows, c[sel][ent])), shape=(m * q, design.n_features))
