"""Next-best touchpoint: for a customer's partial journey, the touchpoints whose next contact
most raises the probability that the journey converts.

Model (a counterfactual contact model, chosen over a higher-order Markov chain because the
chain ranks by what converters *did* next — mostly the checkout path — not by what would raise
conversion; the time-based evaluation below measures both against a baseline):

- **Candidates**: touchpoints the brand can send or show — at least half of their events are
  contacts (impression, send, delivered, open, click, engagement, mention, call, chat). Pages
  people navigate themselves (product page, cart, checkout) are outcomes of intent, not levers,
  and are left out of both the candidates and the features. Override with ``candidates=``.
- **Fit**: logistic regression of ``converted`` on log(1 + contacts with each candidate) per
  journey, L2-penalised (``l2``, not on the intercept), by maximum likelihood (scipy).
- **Uplift** of touchpoint k for a partial journey with contact counts c:
  P(convert | c + 1 contact with k) − P(convert | c). Recommendations rank candidates by it.
  Diminishing returns come from the log(1 + n) features.

Evaluation (:func:`evaluate`): journeys that start before the split time train the model;
each later journey with a candidate touch is cut before its last candidate touch (the "next"
touch). ``hit_rate`` = share of *converting* held-out journeys whose next touch is in the
top-k list; ``conversion_when_followed`` = conversion rate of held-out journeys whose next
touch was in the list; both against the most-popular baseline (the k candidates in most
training journeys).
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, log_expit

from touchlens.errors import ConfigError
from touchlens.loyalty import _fit

CONTACT_EVENT_TYPES = ("impression", "send", "delivered", "open", "click", "engagement",
                       "mention", "call", "chat")


def candidate_touchpoints(events: ir.Table, *, min_contact_share: float = 0.5) -> ir.Table:
    """touchpoint, n_events, contact_share for touchpoints that are mostly contacts."""
    ev = events.filter(events.touchpoint.notnull())
    g = ev.group_by("touchpoint").agg(
        n_events=ev.count(),
        _contacts=ev.event_type.isin(CONTACT_EVENT_TYPES).cast("int64").sum())
    g = g.mutate(contact_share=g._contacts.cast("float64") / g.n_events)
    return g.filter(g.contact_share >= min_contact_share).select(
        "touchpoint", "n_events", "contact_share").order_by("touchpoint")


def journey_touches(tagged: ir.Table, candidates: list[str]) -> ir.Table:
    """One row per journey × candidate touchpoint: journey_id, customer_id, started_at,
    converted, touchpoint, n (contacts), n_prefix (contacts before the journey's last candidate
    touch), is_next (this touchpoint is that last touch). Journeys without a candidate touch
    have one row with touchpoint NULL."""
    t = tagged
    journeys = t.group_by(["journey_id", "customer_id"]).agg(
        started_at=t.occurred_at.min(), converted=t.is_conversion.any())
    c = t.filter(~t.is_conversion & t.touchpoint.isin(candidates))
    w = ibis.window(group_by=c.journey_id,
                    order_by=[ibis.desc(c.occurred_at), ibis.desc(c.event_id)])
    c = c.mutate(_last=ibis.row_number().over(w) == 0)
    per = c.group_by(["journey_id", "touchpoint"]).agg(
        n=c.count(), n_prefix=(~c._last).cast("int64").sum(), is_next=c._last.any())
    j = journeys.left_join(per, "journey_id")
    return j.select("journey_id", "customer_id", "started_at", "converted", "touchpoint",
                    n=j.n.fill_null(0), n_prefix=j.n_prefix.fill_null(0),
                    is_next=j.is_next.fill_null(False))


def wide_counts(long: pd.DataFrame, candidates: list[str], column: str = "n"
                ) -> pd.DataFrame:
    """journeys × candidates matrix of ``column`` (0 where absent), indexed by journey_id."""
    ids = pd.Index(long["journey_id"].unique(), name="journey_id")
    rows = long[long["touchpoint"].notna()]
    table = rows.pivot_table(index="journey_id", columns="touchpoint", values=column,
                             aggfunc="sum", fill_value=0)
    return table.reindex(index=ids, columns=candidates, fill_value=0).astype(float)


class NextBestTouchpoint:
    """Logistic contact model; ``fit(counts, converted)`` → self; ``uplift``, ``recommend``.

    Fitted attributes: ``candidates_``, ``intercept_``, ``coef_`` (per candidate, on
    log(1 + contacts)), ``reach_`` (training journeys with a contact), ``recommendable_``
    (candidates with reach ≥ ``min_journeys``: rarer ones have too unsure a coefficient to be
    recommended), ``n_journeys_``.
    """

    def __init__(self, *, l2: float = 1.0, min_journeys: int = 50) -> None:
        self.l2 = l2
        self.min_journeys = min_journeys

    def fit(self, counts: pd.DataFrame, converted: Any) -> NextBestTouchpoint:
        if self.l2 < 0:
            raise ConfigError(f"l2 must be non-negative, not {self.l2}")
        y = np.asarray(converted, dtype=float)
        if len(y) != len(counts) or len(y) == 0:
            raise ConfigError("next-best model needs one conversion flag per journey")
        if y.min() == y.max():
            raise ConfigError("next-best model needs converting and non-converting journeys")
        z = np.log1p(counts.to_numpy(dtype=float))
        k = z.shape[1]

        def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
            eta = w[0] + z @ w[1:]
            ll = np.sum(y * log_expit(eta) + (1 - y) * log_expit(-eta))
            r = y - expit(eta)
            grad = np.concatenate([[r.sum()], z.T @ r])
            pen = self.l2 * np.sum(w[1:] ** 2)
            grad[1:] -= 2 * self.l2 * w[1:]
            return -(ll - pen) / len(y), -grad / len(y)

        start = np.zeros(k + 1)
        start[0] = np.log(y.mean() / (1 - y.mean()))
        with _fit.single_threaded_blas():
            res = minimize(objective, start, jac=True, method="L-BFGS-B",
                           options={"maxiter": 1000, "gtol": 1e-9})
        self.candidates_ = list(counts.columns)
        self.intercept_ = float(res.x[0])
        self.coef_ = pd.Series(res.x[1:], index=self.candidates_, name="coef")
        self.n_journeys_ = len(y)
        self.reach_ = (counts > 0).sum().astype(int)
        self.recommendable_ = [c for c in self.candidates_
                               if self.reach_[c] >= self.min_journeys]
        if not self.recommendable_:
            raise ConfigError(f"no candidate touchpoint reaches {self.min_journeys} journeys")
        return self

    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise ConfigError("NextBestTouchpoint is not fitted: call fit() first")

    def probability(self, counts: pd.DataFrame) -> np.ndarray:
        """P(convert) for journeys with these contact counts."""
        self._check()
        z = np.log1p(counts.reindex(columns=self.candidates_, fill_value=0).to_numpy(float))
        return expit(self.intercept_ + z @ self.coef_.to_numpy())

    def uplift(self, counts: pd.DataFrame) -> pd.DataFrame:
        """journeys × candidates: P(c + one contact with k) − P(c)."""
        self._check()
        c = counts.reindex(columns=self.candidates_, fill_value=0).to_numpy(float)
        w = self.coef_.to_numpy()
        eta = self.intercept_ + np.log1p(c) @ w
        # adding one contact with k changes only feature k: log(2 + c_k) − log(1 + c_k)
        delta = (np.log(2 + c) - np.log1p(c)) * w[None, :]
        after = expit(eta[:, None] + delta)
        return pd.DataFrame(after - expit(eta)[:, None], index=counts.index,
                            columns=self.candidates_)

    def ranking(self, counts: pd.DataFrame, top: int) -> np.ndarray:
        """Column positions (in ``candidates_``) of the ``top`` recommendable candidates with
        the largest uplift, per journey."""
        up = self.uplift(counts).to_numpy()
        allowed = np.isin(self.candidates_, self.recommendable_)
        up = np.where(allowed[None, :], up, -np.inf)
        return np.argsort(-up, axis=1, kind="stable")[:, :min(top, int(allowed.sum()))]

    def recommend(self, counts: pd.DataFrame, *, top: int = 3) -> pd.DataFrame:
        """Long frame: the index of ``counts``, rank (1 = best), touchpoint, uplift,
        p_convert (now), p_convert_after."""
        up = self.uplift(counts)
        p_now = self.probability(counts)
        order = self.ranking(counts, top)
        rows = []
        cands = np.array(self.candidates_)
        for i, key in enumerate(up.index):
            for rank, j in enumerate(order[i], start=1):
                u = float(up.iat[i, j])
                rows.append({up.index.name or "key": key, "rank": rank,
                             "touchpoint": str(cands[j]), "uplift": u,
                             "p_convert": float(p_now[i]), "p_convert_after": float(p_now[i]) + u})
        return pd.DataFrame(rows)


def split_time(long: pd.DataFrame, holdout_share: float) -> pd.Timestamp:
    """The journey start time leaving ``holdout_share`` of the journeys after it."""
    if not 0 < holdout_share < 1:
        raise ConfigError(f"holdout_share must be between 0 and 1, not {holdout_share}")
    starts = long.drop_duplicates("journey_id")["started_at"]
    return starts.quantile(1 - holdout_share)


def evaluate(long: pd.DataFrame, candidates: list[str], *, holdout_share: float = 0.3,
             top: int = 3, l2: float = 1.0, min_journeys: int = 50) -> pd.DataFrame:
    """Time-based holdout: one row per method (model, most_popular) with k, n_holdout,
    n_converting, hit_rate, conversion_when_followed, n_followed, hit_rate_lift and
    conversion_lift (model ÷ baseline; 1 for the baseline)."""
    split = split_time(long, holdout_share)
    journeys = long.drop_duplicates("journey_id").set_index("journey_id")
    train_ids = journeys.index[journeys["started_at"] < split]
    test_ids = journeys.index[journeys["started_at"] >= split]
    counts = wide_counts(long, candidates, "n")
    model = NextBestTouchpoint(l2=l2, min_journeys=min_journeys).fit(
        counts.loc[train_ids], journeys.loc[train_ids, "converted"])
    nxt = long[long["is_next"]].set_index("journey_id")["touchpoint"]
    test_ids = test_ids[test_ids.isin(nxt.index)]
    if len(test_ids) == 0:
        raise ConfigError("no held-out journey has a candidate touch to predict")
    prefix = wide_counts(long, candidates, "n_prefix").loc[test_ids]
    top_model = model.ranking(prefix, top)
    popularity = model.reach_.sort_values(ascending=False, kind="stable")
    top_popular = [model.candidates_.index(t) for t in popularity.index[:top]]
    actual = np.array([model.candidates_.index(t) for t in nxt.loc[test_ids]])
    converted = journeys.loc[test_ids, "converted"].to_numpy(bool)
    rows = []
    for method, hits in (("model", (top_model == actual[:, None]).any(axis=1)),
                         ("most_popular", np.isin(actual, top_popular))):
        rows.append({"method": method, "k": top, "n_holdout": len(test_ids),
                     "n_converting": int(converted.sum()),
                     "hit_rate": float(hits[converted].mean()) if converted.any() else np.nan,
                     "n_followed": int(hits.sum()),
                     "conversion_when_followed": float(converted[hits].mean())
                     if hits.any() else np.nan})
    out = pd.DataFrame(rows)
    base = out.iloc[1]
    out["hit_rate_lift"] = out["hit_rate"] / base["hit_rate"]
    out["conversion_lift"] = out["conversion_when_followed"] / base["conversion_when_followed"]
    out.attrs["split_at"] = split
    out.attrs["model"] = model
    out.attrs["prefix"] = prefix
    out.attrs["top_popular"] = [model.candidates_[i] for i in top_popular]
    return out
