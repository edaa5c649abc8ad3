"""Counterfactual (data-driven) attribution: a fitted conversion model, split by Shapley.

1. Fit P(conversion | journey features) (:mod:`.features`) by L2-regularised logistic
   regression (scikit-learn's objective, solved by Newton's method on grouped rows:
   :mod:`.logit`), the same with pairwise interactions, or gradient boosting (scikit-learn),
   weighted by the journeys behind each distinct pattern. ``model="auto"`` keeps the
   candidate (main effects C = 1; interactions C = 0.1 or 1) with the lowest
   cross-validated log-loss (K folds over journeys: each pattern's counts are split at random
   into folds; at most ``CV_MAX_JOURNEYS`` journeys, a random sample above that, the chosen
   model then refitted on all); gradient boosting is opt-in (``model="gbm"``: slower to fit
   and to query).
2. For every journey, the game v(T) = P̂(journey with only the touches of labels in T) is
   split by its exact Shapley value over the journey's labels (≤ ``EXACT_MAX`` labels;
   permutation sampling beyond). φ_j is the expected conversions the journey loses when
   label j's touches are removed, shared fairly where labels interact; Σ_j φ_j =
   P̂(full) − P̂(no touch).
3. A label's credit = Σ_journeys φ_j (expected incremental conversions, can be negative);
   ``"(baseline)"`` = conversions of touched journeys − Σ credits (what P̂ expects without
   any touch). Revenue = credit × mean revenue per conversion of touched journeys (order
   values are not modelled).

Only this model estimates incremental effects, and only as well as the model fits: the
cross-validated log-loss (and the no-feature log-loss for reference) is in the notes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit

from touchlens.attribution.features import (
    Design,
    Patterns,
    frequent_pairs,
    parse_patterns,
    pattern_frame,
    subset_rows,
)
from touchlens.attribution.logit import BinomialLogit, fit_binomial_logit
from touchlens.attribution.paths import NONE, PathSource
from touchlens.attribution.shapley import BASELINE, exact_from_values, sampled
from touchlens.errors import ConfigError

EXACT_MAX = 12
N_PERMUTATIONS = 256
FOLDS = 5
CV_MAX_JOURNEYS = 250_000  # model choice on at most this many journeys (a random sample)
C_GRID = (0.1, 1.0, 10.0)
MODELS = ("auto", "logistic", "logistic_interactions", "gbm")
MIN_PAIR_JOURNEYS = 50.0
RECENCY = False  # measured: recency to the journey's end leaks the outcome (docs)


@dataclass(frozen=True)
class Spec:
    """One candidate conversion model."""

    kind: str  # logistic | gbm
    interactions: bool = False
    c: float = 1.0

    @property
    def name(self) -> str:
        base = "logistic_interactions" if self.interactions else self.kind
        return f"{base}(C={self.c:g})" if self.kind == "logistic" else base


def candidates(model: str) -> list[Spec]:
    if model not in MODELS:
        raise ConfigError(f"counterfactual model must be one of {MODELS}, got {model!r}")
    specs = []
    if model == "auto":  # C matters little once there are thousands of journeys
        specs += [Spec("logistic", False, 1.0), Spec("logistic", True, 0.1),
                  Spec("logistic", True, 1.0)]
    if model == "logistic":
        specs += [Spec("logistic", False, c) for c in C_GRID]
    if model == "logistic_interactions":
        specs += [Spec("logistic", True, c) for c in C_GRID]
    if model == "gbm":
        specs.append(Spec("gbm"))
    return specs


class Fitted:
    """A fitted spec: ``predict(X)`` → P̂(conversion) per row."""

    def __init__(self, spec: Spec, estimator: Any) -> None:
        self.spec, self.estimator = spec, estimator

    def predict(self, x: Any) -> np.ndarray:
        if self.estimator is None:
            return np.zeros(x.shape[0])
        if self.spec.kind == "gbm":
            x = x.toarray()
        return self.estimator.predict_proba(x)[:, 1]

    def coefficients(self) -> tuple[np.ndarray, float] | None:
        """(β, intercept) of a logistic fit; None otherwise."""
        if not isinstance(self.estimator, BinomialLogit):
            return None
        return self.estimator.coef_[0], float(self.estimator.intercept_[0])


def fit(spec: Spec, x: Any, conversions: np.ndarray, nulls: np.ndarray, seed: int = 0,
        start: Fitted | None = None) -> Fitted:
    """Fit ``spec`` on pattern rows ``x`` weighted by their conversions and nulls.

    Logistic specs are fitted on the grouped rows by :mod:`.logit` (scikit-learn's
    objective, solved to a tight tolerance). ``start``: a logistic fit of the same spec to
    begin from (the folds of the cross-validation start at the fit on all their journeys:
    the optimum of this strictly convex problem does not depend on the start, it is only
    reached in fewer Newton steps).
    """
    import scipy.sparse as sp

    has_conv, has_null = (conversions > 0).any(), (nulls > 0).any()
    if not (has_conv and has_null):  # all converted or none did: P̂ is constant
        return Fitted(spec, None) if has_null else _constant(spec)
    if spec.kind == "logistic":
        init = start.coefficients() if start is not None else None
        return Fitted(spec, fit_binomial_logit(x, conversions, nulls, c=spec.c, start=init))
    from sklearn.ensemble import HistGradientBoostingClassifier

    y = np.r_[np.ones(x.shape[0]), np.zeros(x.shape[0])]
    w = np.r_[conversions, nulls]
    keep = w > 0
    xx = sp.vstack([x, x]).tocsr()[keep]
    est = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05,
                                         max_leaf_nodes=15, l2_regularization=1.0,
                                         early_stopping=False, random_state=seed)
    est.fit(xx.toarray(), y[keep], sample_weight=w[keep])
    return Fitted(spec, est)


def _constant(spec: Spec) -> Fitted:
    class One:
        def predict_proba(self, x: Any) -> np.ndarray:
            return np.c_[np.zeros(x.shape[0]), np.ones(x.shape[0])]

    return Fitted(spec, One())


def log_loss(p: np.ndarray, conversions: np.ndarray, nulls: np.ndarray) -> float:
    """Mean negative log-likelihood per journey (natural log)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    total = conversions.sum() + nulls.sum()
    if total <= 0:
        return float("nan")
    return float(-(conversions * np.log(p) + nulls * np.log1p(-p)).sum() / total)


def folds(counts: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Split each cell's count into k folds at random (k × cells); fractional counts evenly."""
    whole = np.allclose(counts, np.round(counts))
    if not whole:
        return np.tile(counts / k, (k, 1))
    return rng.multinomial(np.round(counts).astype(np.int64), np.full(k, 1.0 / k)).T.astype(
        float)


def cv_sample(conversions: np.ndarray, nulls: np.ndarray, most: int,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The counts as they are, or — above ``most`` journeys with whole counts — a simple
    random sample of about ``most`` journeys (each kept with probability most / total,
    counts thinned binomially). Choosing among three candidates needs no more, and the
    folds' cost then stops growing with the data; the chosen model is refitted on all."""
    total = conversions.sum() + nulls.sum()
    whole = np.allclose(conversions, np.round(conversions)) and np.allclose(nulls,
                                                                          np.round(nulls))
    if total <= most or not whole:
        return conversions, nulls
    keep = most / total
    return (rng.binomial(np.round(conversions).astype(np.int64), keep).astype(float),
            rng.binomial(np.round(nulls).astype(np.int64), keep).astype(float))


def cross_validate(specs: list[Spec], mats: dict[bool, Any], pt: Patterns,
                   seed: int = 0) -> tuple[dict[str, float], dict[str, Fitted], float]:
    """Cross-validated log-loss per spec (same folds for all) and ``"no features"``, and each
    spec fitted on the journeys of the cross-validation (all of them up to
    ``CV_MAX_JOURNEYS``, see :func:`cv_sample`; the folds start from that fit), and how
    many journeys that was. ``mats``: the full design matrix without (False) and with
    (True) the interaction columns."""
    rng = np.random.default_rng(seed)
    conv, nulls = cv_sample(pt.conversions, pt.nulls, CV_MAX_JOURNEYS, rng)
    fc, fn = folds(conv, FOLDS, rng), folds(nulls, FOLDS, rng)
    out: dict[str, float] = {}
    full: dict[str, Fitted] = {}
    for spec in specs:
        x = mats[spec.interactions]
        full[spec.name] = fit(spec, x, conv, nulls, seed)
        losses = []
        for f in range(FOLDS):
            trc, trn = conv - fc[f], nulls - fn[f]
            model = fit(spec, x, trc, trn, seed, start=full[spec.name])
            losses.append(log_loss(model.predict(x), fc[f], fn[f]))
        out[spec.name] = float(np.mean(losses))
    base = []
    for f in range(FOLDS):
        trc, trn = conv - fc[f], nulls - fn[f]
        rate = trc.sum() / (trc.sum() + trn.sum())
        base.append(log_loss(np.full(len(pt), rate), fc[f], fn[f]))
    out["no features"] = float(np.mean(base))
    return out, full, float(conv.sum() + nulls.sum())


def subset_values(coefficients: tuple[np.ndarray, float], pt: Patterns,
                  patterns: np.ndarray, k: int, entries: tuple[np.ndarray, ...]
                  ) -> np.ndarray:
    """P̂ of every subset of labels of each pattern (m × 2^k) for a logistic model.

    The linear predictor of subset T is b + Σ_{entries e, owner(e) ⊆ T} β_col(e) · value(e):
    put each entry's term at its owner's mask, then sum over subsets (the zeta transform,
    k passes over the m × 2^k table) — no design rows are built.
    """
    beta, intercept = coefficients
    p, c, v, o = entries
    m, size = len(patterns), 1 << k
    where = np.full(len(pt), -1, dtype=np.int64)
    where[patterns] = np.arange(m)
    sel = np.flatnonzero(where[p] >= 0)
    z = np.bincount(where[p[sel]] * size + o[sel], weights=beta[c[sel]] * v[sel],
                    minlength=m * size).reshape(m, size)
    for bit in range(k):
        half = z.reshape(m, -1, 2, 1 << bit)  # [..., 0, :] lacks the bit, [..., 1, :] has it
        half[:, :, 1, :] += half[:, :, 0, :]
    return expit(z + intercept)


def shapley_credit(model: Fitted, design: Design, pt: Patterns, weights: np.ndarray,
                   rng: np.random.Generator,
                   entries: tuple[np.ndarray, ...] | None = None) -> tuple[np.ndarray, dict]:
    """Σ_patterns weight · φ per label (exact ≤ EXACT_MAX labels, sampled beyond).

    ``entries``: ``design.entries(pt)`` when already at hand. Each batch of patterns reads
    only its own entries (sorted once by the patterns' label count, then pattern: a batch
    is a slice), not all of them (10M journeys: 9M entries read ~300 times took ~7 s)."""
    p, c, v, o = design.entries(pt) if entries is None else entries
    rank = pt.k[p] * len(pt) + p  # batches hold patterns of one k, in increasing order
    order = np.argsort(rank, kind="stable")
    rank, p, c, v, o = rank[order], p[order], c[order], v[order], o[order]

    def of(patterns: np.ndarray, k: int) -> tuple[np.ndarray, ...]:
        # the slice from the first to the last pattern of the batch (patterns of weight 0
        # in between are skipped by the callers, which keep the batch's patterns only)
        lo = np.searchsorted(rank, k * len(pt) + patterns[0], side="left")
        hi = np.searchsorted(rank, k * len(pt) + patterns[-1], side="right")
        return p[lo:hi], c[lo:hi], v[lo:hi], o[lo:hi]

    linear = model.coefficients()
    starts = np.cumsum(pt.k) - pt.k
    credit = np.zeros(len(pt.labels))
    var = np.zeros(len(pt.labels))
    n_sampled = 0
    for k in np.unique(pt.k[pt.k > 0]):
        idx = np.flatnonzero((pt.k == k) & (weights != 0))
        if not len(idx):
            continue
        labels = pt.item_label[starts[idx][:, None] + np.arange(k)[None, :]]
        if k <= EXACT_MAX:
            masks = np.arange(1 << int(k), dtype=np.int64)
            step = max(1, 100_000 >> int(k))
            for s in range(0, len(idx), step):
                part = idx[s:s + step]
                own = of(part, int(k))
                game = (subset_values(linear, pt, part, int(k), own) if linear is not None
                        else model.predict(subset_rows(design, pt, part, masks, own)))
                phi = exact_from_values(game.reshape(len(part), len(masks)))
                np.add.at(credit, labels[s:s + step].ravel(), (phi * weights[part, None]).ravel())
            continue
        for i, at in enumerate(idx):
            one = np.array([at])

            def value(local: np.ndarray, one: np.ndarray = one,
                      own: tuple[np.ndarray, ...] = of(one, int(k))) -> np.ndarray:
                return model.predict(subset_rows(design, pt, one, local, own))

            phi, se = sampled(value, int(k), N_PERMUTATIONS, rng)
            credit[labels[i]] += phi * weights[at]
            var[labels[i]] += (se * weights[at]) ** 2
            n_sampled += 1
    notes: dict[str, Any] = {"exact_max_labels": EXACT_MAX, "sampled_patterns": n_sampled}
    if n_sampled:
        notes |= {"permutations": N_PERMUTATIONS,
                  "max_standard_error": float(np.sqrt(var.max()))}
    return credit, notes


def counterfactual_model(source: PathSource, *, model: str = "auto", bootstrap: int = 0,
                         seed: int = 0, totals: tuple[float, float, float, float]
                         ) -> tuple[pd.DataFrame, dict]:
    """Credit rows (label, conversions, revenue, samples) and notes (fit quality)."""
    specs = candidates(model)
    none_conv, none_rev = totals[2], totals[3]
    recency = RECENCY and source.has_time
    pt = parse_patterns(pattern_frame(source, recency))
    n = len(pt.labels)
    designs = {False: Design(n, np.zeros((0, 2), np.int64), recency),
               True: Design(n, frequent_pairs(pt, MIN_PAIR_JOURNEYS), recency)}
    both = designs[True].entries(pt)  # built once, read three times
    entries = {True: both, False: designs[True].main_effects(both)}
    mats = {i: d.full_matrix(pt, entries[i]) for i, d in designs.items()}
    scores, fitted_all, cv_journeys = cross_validate(specs, mats, pt, seed)
    best = min(specs, key=lambda s: scores[s.name])
    design = designs[best.interactions]
    x = mats[best.interactions]
    rng = np.random.default_rng(seed)
    touched = pt.k > 0
    c_t, r_t = pt.conversions[touched].sum(), pt.revenue[touched].sum()
    aov = r_t / c_t if c_t > 0 else 0.0

    def credit(conv: np.ndarray, nulls: np.ndarray, fitted: Fitted | None = None
               ) -> tuple[np.ndarray, dict]:
        fitted = fitted or fit(best, x, conv, nulls, seed, start=fitted_all[best.name])
        return shapley_credit(fitted, design, pt, conv + nulls, rng,
                              entries[best.interactions])

    on_all = cv_journeys == pt.journeys.sum()  # else refit on all, from the sample's fit
    cr, note = credit(pt.conversions, pt.nulls, fitted_all[best.name] if on_all else None)
    df = pd.DataFrame({"label": pt.labels, "conversions": cr, "revenue": cr * aov})
    extra = [(BASELINE, c_t - cr.sum(), r_t - cr.sum() * aov)]
    if none_conv or none_rev:
        extra.append((NONE, none_conv, none_rev))
    df = pd.concat([df, pd.DataFrame(extra, columns=list(df.columns))], ignore_index=True)
    notes = {"model": best.name, "cv_log_loss": scores[best.name],
             "cv_log_loss_no_features": scores["no features"], "cv_folds": FOLDS,
             "cv_journeys": cv_journeys,
             "candidates": scores, "patterns": len(pt), "interaction_pairs":
             len(design.pairs), "recency": recency} | note
    if bootstrap:
        from touchlens.attribution.bootstrap import replicates
        from touchlens.attribution.markov import attach_samples

        samples = [pd.Series(credit(cb, nb)[0], index=pt.labels)
                   for cb, nb in replicates(pt.conversions, pt.nulls, bootstrap, seed + 2)]
        df = attach_samples(df, samples, {NONE: None, BASELINE: None})
        notes["bootstrap"] = bootstrap
    return df, notes
