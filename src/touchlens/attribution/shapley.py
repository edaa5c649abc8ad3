"""Shapley-value attribution (Zhao et al. 2018): players are labels (channels or touchpoints).

The Shapley value of player j in a game v over players N (|N| = k):

    φ_j = Σ_{S ⊆ N∖{j}} |S|! (k − |S| − 1)! / k! · (v(S ∪ {j}) − v(S)),

computed exactly from the 2^k values for k ≤ ``EXACT_MAX`` (15), otherwise estimated from
random permutations (mean marginal contribution; the sample size and standard errors are
reported). Coalition counts come from Ibis: each journey's set of labels as a bitmask
(Σ 1 << index per distinct label; ``bit_or`` is not portable) or, past 62 labels, as a sorted
string.

Characteristic functions (``value``):

- ``"conversions"`` (default): v(S) = conversions of journeys whose label set ⊆ S. Its Shapley
  value is exact at any size in closed form: each journey's conversions are split equally
  over its distinct labels.
- ``"rate"``: each journey with label set S is its own game over S, v_S(T) = r(T) − r(∅),
  r(T) the observed conversion rate of journeys whose set is exactly T (a set never observed
  takes the highest rate of its observed subsets; r(∅) = rate of journeys without touches).
  A label's credit is the expected incremental conversions Σ_journeys φ_j; the rest of the
  conversions is ``"(baseline)"``.
"""

from __future__ import annotations

from collections.abc import Callable
from math import factorial

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from touchlens.attribution.counts import LabelCounts, count_matrix, label_counts
from touchlens.attribution.paths import NONE, PathSource
from touchlens.errors import ConfigError

EXACT_MAX = 15
MASK_MAX = 62
N_PERMUTATIONS = 2000
BASELINE = "(baseline)"
VALUES = ("conversions", "rate")
DESCRIPTIONS = {
    "conversions": "v(S) = conversions of journeys whose label set is a subset of S "
                   "(Zhao et al. 2018); exact closed form: equal split over a journey's "
                   "distinct labels",
    "rate": "per journey with label set S: v(T) = r(T) - r(empty) for T subset of S, r = "
            "observed conversion rate of journeys with exactly that set (unseen sets: best "
            "observed subset); credit = expected incremental conversions",
}


# ---------------------------------------------------------------- the Shapley value


def popcount(masks: np.ndarray) -> np.ndarray:
    return np.bitwise_count(np.asarray(masks, dtype=np.int64)).astype(np.int64)


def exact_from_values(v: np.ndarray) -> np.ndarray:
    """φ (m × k) from game values v (m × 2^k; column = subset bitmask) by the definition."""
    v = np.atleast_2d(np.asarray(v, dtype=float))
    k = round(np.log2(v.shape[1]))
    if 1 << k != v.shape[1]:
        raise ValueError(f"a game over k players has 2^k values, got {v.shape[1]}")
    masks = np.arange(1 << k, dtype=np.int64)
    size = popcount(masks)
    weight = np.array([factorial(s) * factorial(k - s - 1) / factorial(k) for s in range(k)])
    phi = np.zeros((v.shape[0], k))
    for j in range(k):
        without = masks[(masks >> j) & 1 == 0]
        phi[:, j] = (v[:, without | (1 << j)] - v[:, without]) @ weight[size[without]]
    return phi


def sampled(value: Callable[[np.ndarray], np.ndarray], k: int, n_permutations: int,
            rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Monte-Carlo Shapley: (φ, standard error) from ``n_permutations`` random orders.

    ``value(masks)`` returns v for an int64 array of subset bitmasks (k ≤ 62).
    """
    if k > MASK_MAX:
        raise ConfigError(f"sampled Shapley supports up to {MASK_MAX} players, got {k}")
    perms = np.argsort(rng.random((n_permutations, k)), axis=1)
    bits = np.left_shift(np.int64(1), perms.astype(np.int64))
    prefix = np.concatenate([np.zeros((n_permutations, 1), np.int64),
                             np.cumsum(bits, axis=1)], axis=1)
    v = np.asarray(value(prefix.ravel()), dtype=float).reshape(prefix.shape)
    marginal = np.diff(v, axis=1)
    per_player = np.empty_like(marginal)
    np.put_along_axis(per_player, perms, marginal, axis=1)
    phi = per_player.mean(axis=0)
    se = per_player.std(axis=0, ddof=1) / np.sqrt(n_permutations) if n_permutations > 1 \
        else np.full(k, np.nan)
    return phi, se


def game_from_coalitions(masks: np.ndarray, worth: np.ndarray, k: int) -> np.ndarray:
    """v(S) = Σ worth of coalitions ⊆ S for every S (2^k values; zeta transform)."""
    v = np.zeros(1 << k)
    np.add.at(v, np.asarray(masks, dtype=np.int64), np.asarray(worth, dtype=float))
    for j in range(k):
        idx = np.arange(1 << k)
        has = idx[(idx >> j) & 1 == 1]
        v[has] += v[has ^ (1 << j)]
    return v


# ---------------------------------------------------------------- coalitions from journeys


def coalitions_expr(source: PathSource, n_labels: int) -> ir.Table:
    """One row per observed label set: key (bitmask, or sorted labels past 62),
    conversions, nulls, revenue."""
    t = source.touches
    pairs = t.select("path_key", "label").distinct()
    if n_labels <= MASK_MAX:
        labels = t.select("label").distinct()
        labels = labels.mutate(idx=ibis.dense_rank().over(order_by="label").cast("int64"))
        pairs = pairs.join(labels, "label")
        bit = ibis.literal(1, type="int64") << pairs.idx
        sets = pairs.group_by(_pk=pairs.path_key).agg(key=bit.sum())
        empty = ibis.literal(0, type="int64")
    else:
        sets = pairs.group_by(_pk=pairs.path_key).agg(
            key=pairs.label.collect(distinct=True).sort().join("\x1f"))
        empty = ibis.literal("")
    p = source.paths
    j = p.left_join(sets, p.path_key == sets._pk)
    j = j.mutate(key=j.key.fill_null(empty))
    # in key order, so bootstrap replicates drawn over the rows are reproducible
    return j.group_by("key").agg(conversions=j.conversions.sum(), nulls=j.nulls.sum(),
                                 revenue=j.revenue.sum()).order_by("key")


def coalitions_of(counted: LabelCounts) -> pd.DataFrame:
    """:func:`coalitions_expr`'s rows (bitmask keys, in key order) from the journeys'
    label counts: a journey's set is its labels with a non-zero count."""
    present = count_matrix(counted.frame, len(counted.labels)) > 0
    bits = np.left_shift(np.int64(1), np.arange(len(counted.labels), dtype=np.int64))
    f = counted.frame
    return coalition_rows(present.astype(np.int64) @ bits, *(
        f[col].to_numpy(float) for col in ("conversions", "nulls", "revenue")))


def coalition_rows(keys: np.ndarray, conversions: np.ndarray, nulls: np.ndarray,
                   revenue: np.ndarray) -> pd.DataFrame:
    """:func:`coalitions_expr`'s rows from one bitmask key per row (a journey, a path, a
    count vector) and its counts: summed per key, in key order."""
    sets, at = np.unique(keys, return_inverse=True)
    return pd.DataFrame({"key": sets, **{
        name: np.bincount(at, weights=col, minlength=len(sets))
        for name, col in (("conversions", conversions), ("nulls", nulls),
                          ("revenue", revenue))}})


def _members(df: pd.DataFrame, labels: list[str]) -> list[np.ndarray]:
    """Label indices of each coalition row (bitmask or joined-string keys)."""
    if len(labels) <= MASK_MAX:
        keys = df["key"].to_numpy(dtype=np.int64)
        bits = np.arange(len(labels), dtype=np.int64)
        return [bits[(key >> bits) & 1 == 1] for key in keys]
    pos = {x: i for i, x in enumerate(labels)}
    return [np.array([pos[x] for x in str(key).split("\x1f") if x], dtype=np.int64)
            for key in df["key"]]


# ---------------------------------------------------------------- the two games


def conversions_credit(members: list[np.ndarray], worth: np.ndarray, n_labels: int
                       ) -> np.ndarray:
    """Exact Shapley value of the ``conversions`` game: each set's worth split equally."""
    sizes = np.array([len(m) for m in members], dtype=np.int64)
    credit = np.zeros(n_labels)
    touched = sizes > 0
    if touched.any():
        flat = np.concatenate([m for m in members if len(m)])
        share = np.repeat(np.asarray(worth, dtype=float)[touched] / sizes[touched],
                          sizes[touched])
        np.add.at(credit, flat, share)
    return credit


class RateGame:
    """Observed conversion rate by exact label set, closed upwards over unseen sets."""

    def __init__(self, members: list[np.ndarray], conversions: np.ndarray, nulls: np.ndarray):
        journeys = np.asarray(conversions, float) + np.asarray(nulls, float)
        masks = np.array([int(np.sum(np.left_shift(np.int64(1), m))) for m in members],
                         dtype=np.int64)
        seen = journeys > 0
        order = np.argsort(masks[seen])
        self.masks = masks[seen][order]
        self.rates = (np.asarray(conversions, float)[seen] / journeys[seen])[order]
        at_zero = self.masks == 0
        self.r0 = float(self.rates[at_zero][0]) if at_zero.any() else 0.0

    def lookup(self, masks: np.ndarray) -> np.ndarray:
        """r of each global mask; NaN where the set was never observed."""
        pos = np.clip(np.searchsorted(self.masks, masks), 0, max(len(self.masks) - 1, 0))
        found = (len(self.masks) > 0) & (self.masks[pos] == masks) if len(self.masks) \
            else np.zeros(masks.shape, bool)
        return np.where(found, self.rates[pos] if len(self.masks) else 0.0, np.nan)

    def closed(self, masks: np.ndarray) -> np.ndarray:
        """r with unseen sets given the highest rate of their observed subsets (chunked)."""
        masks = np.asarray(masks, dtype=np.int64)
        r = self.lookup(masks)
        todo = np.flatnonzero(np.isnan(r))
        for start in range(0, len(todo), 512):
            q = masks[todo[start:start + 512]]
            sub = (self.masks[None, :] & ~q[:, None]) == 0
            best = np.where(sub, self.rates[None, :], -np.inf).max(axis=1, initial=-np.inf)
            r[todo[start:start + 512]] = np.where(np.isfinite(best), best, self.r0)
        return r

    def values(self, members: np.ndarray) -> np.ndarray:
        """v(T) − r0 for all 2^k subsets T of each row of ``members`` (m × k, k ≤ 15)."""
        m, k = members.shape
        local = np.arange(1 << k, dtype=np.int64)
        picks = (local[:, None] >> np.arange(k)) & 1
        glob = picks @ np.left_shift(np.int64(1), members.T.astype(np.int64))
        r = self.lookup(glob.T.ravel()).reshape(m, 1 << k)
        r[:, 0] = self.r0
        seen = ~np.isnan(r)
        best = r.copy()
        for j in range(k):  # max over subsets, one bit at a time (NaN = unseen, skipped)
            has = local[(local >> j) & 1 == 1]
            best[:, has] = np.fmax(best[:, has], best[:, has ^ (1 << j)])
        return np.where(seen, r, best) - self.r0


def rate_credit(members: list[np.ndarray], conversions: np.ndarray, nulls: np.ndarray,
                n_labels: int, *, rng: np.random.Generator,
                n_permutations: int = N_PERMUTATIONS) -> tuple[np.ndarray, dict]:
    """Expected incremental conversions per label under the ``rate`` game (+ notes)."""
    if n_labels > MASK_MAX:
        raise ConfigError(f"the rate game supports up to {MASK_MAX} labels, got {n_labels}; "
                          "use value='conversions' or the channel level")
    game = RateGame(members, conversions, nulls)
    journeys = np.asarray(conversions, float) + np.asarray(nulls, float)
    sizes = np.array([len(x) for x in members])
    credit = np.zeros(n_labels)
    var = np.zeros(n_labels)
    n_sampled = 0
    for k in np.unique(sizes[(sizes > 0) & (journeys > 0)]):
        rows = np.flatnonzero((sizes == k) & (journeys > 0))
        mem = np.stack([members[i] for i in rows])
        if k <= EXACT_MAX:
            for start in range(0, len(rows), max(1, 2**20 >> int(k))):
                part = slice(start, start + max(1, 2**20 >> int(k)))
                phi = exact_from_values(game.values(mem[part]))
                np.add.at(credit, mem[part].ravel(), (phi * journeys[rows[part], None]).ravel())
            continue
        for i, row in enumerate(rows):
            bits = np.left_shift(np.int64(1), mem[i].astype(np.int64))

            def value(local: np.ndarray, bits: np.ndarray = bits) -> np.ndarray:
                picks = (local[:, None] >> np.arange(len(bits))) & 1
                return game.closed(picks @ bits) - game.r0

            phi, se = sampled(value, int(k), n_permutations, rng)
            credit[mem[i]] += phi * journeys[row]
            var[mem[i]] += (se * journeys[row]) ** 2
            n_sampled += 1
    notes = {"exact_max_players": EXACT_MAX, "sampled_sets": n_sampled}
    if n_sampled:
        notes |= {"permutations": n_permutations, "max_standard_error": float(np.sqrt(var.max()))}
    return credit, notes


def shapley_model(source: PathSource, *, value: str | None = None, bootstrap: int = 0,
                  seed: int = 0, totals: tuple[float, float, float, float],
                  n_permutations: int = N_PERMUTATIONS) -> tuple[pd.DataFrame, dict]:
    """Credit rows (label, conversions, revenue, samples) and notes for the Shapley model."""
    value = check_value(value)
    counted = label_counts(source)
    if counted is not None:  # a workspace's journeys: from their events, no windows
        labels, table = counted.labels, coalitions_of(counted)
    else:
        t = source.touches
        labels = sorted(source.execute(t.select("label").distinct())["label"].astype(str))
        table = source.execute(coalitions_expr(source, len(labels)))
    return shapley_credits(labels, table, value=value, bootstrap=bootstrap, seed=seed,
                           totals=totals, n_permutations=n_permutations)


def check_value(value: str | None) -> str:
    value = value or "conversions"
    if value not in VALUES:
        raise ConfigError(f"Shapley value must be one of {VALUES}, got {value!r}")
    return value


def shapley_credits(labels: list[str], table: pd.DataFrame, *, value: str, bootstrap: int,
                    seed: int, totals: tuple[float, float, float, float],
                    n_permutations: int = N_PERMUTATIONS) -> tuple[pd.DataFrame, dict]:
    """:func:`shapley_model` on its coalition rows (:func:`coalitions_expr`'s columns, in
    key order) over ``labels`` (sorted)."""
    none_conv, none_rev = totals[2], totals[3]
    members = _members(table, labels)
    conv = table["conversions"].to_numpy(float)
    nulls = table["nulls"].to_numpy(float)
    rev = table["revenue"].to_numpy(float)
    touched = np.array([len(m) > 0 for m in members])
    rng = np.random.default_rng(seed)

    def credit(c: np.ndarray, n: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                      dict]:
        if value == "conversions":
            return (conversions_credit(members, c, len(labels)),
                    conversions_credit(members, r, len(labels)), {})
        cr, note = rate_credit(members, c, n, len(labels), rng=rng,
                               n_permutations=n_permutations)
        aov = r[touched].sum() / c[touched].sum() if c[touched].sum() > 0 else 0.0
        return cr, cr * aov, note

    conv_credit, rev_credit, note = credit(conv, nulls, rev)
    rows = {"label": labels, "conversions": conv_credit, "revenue": rev_credit}
    df = pd.DataFrame(rows)
    extra = []
    if value == "rate":
        extra.append((BASELINE, conv[touched].sum() - conv_credit.sum(),
                      rev[touched].sum() - rev_credit.sum()))
    if none_conv or none_rev:
        extra.append((NONE, none_conv, none_rev))
    if extra:
        df = pd.concat([df, pd.DataFrame(extra, columns=list(rows))], ignore_index=True)
    notes = {"value": value, "characteristic_function": DESCRIPTIONS[value],
             "players": len(labels),
             "method": "exact (closed form)" if value == "conversions" else
             f"exact up to {EXACT_MAX} players per set, permutation sampling beyond"} | note
    if bootstrap:
        from touchlens.attribution.bootstrap import replicates, scaled_revenue
        from touchlens.attribution.markov import attach_samples

        samples = []
        for conv_b, nulls_b in replicates(conv, nulls, bootstrap, seed + 1):
            c, _, _ = credit(conv_b, nulls_b, scaled_revenue(rev, conv, conv_b))
            samples.append(pd.Series(c, index=labels))
        df = attach_samples(df, samples, {NONE: None, BASELINE: None})
        notes["bootstrap"] = bootstrap
    return df, notes
