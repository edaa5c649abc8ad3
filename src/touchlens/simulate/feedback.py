"""Survey and review responses: sentiment first, then scores and a comment that agree with it.

Per response: a topic (by touchpoint, or forced by what happened: a late parcel → delivery,
a return → returns, app orders sometimes → app), a sentiment (late parcels are mostly
negative, app buyers often complain about crashes), then scores drawn from the sentiment's
range — NPS 0–10 (negative 0–6, neutral 6–8, positive 8–10), CSAT 1–5 (1–3 / 3–4 / 4–5),
CES 1–7 (1–3 / 4–5 / 5–7) — and, with probability ``p_text``, a comment in the person's
language (Polish ≈ 60%, English ≈ 40%).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from touchlens.simulate.aftercare import FeedbackRequests
from touchlens.simulate.people import PeopleIds
from touchlens.simulate.spec import WorldParams, channel_of
from touchlens.simulate.texts import TOPICS, compose
from touchlens.store import schema as S

# touchpoint → (scores asked, topic weights, P(negative, neutral, positive))
_SURVEYS: dict[str, tuple[tuple[str, ...], dict[str, float], tuple[float, float, float]]] = {
    "post_purchase_survey": (("nps", "csat", "ces"),
                             {"product_quality": 0.25, "delivery": 0.2, "price": 0.15,
                              "website": 0.1, "app": 0.1, "payment": 0.1, "returns": 0.1},
                             (0.15, 0.25, 0.60)),
    "delivery_courier": (("csat",), {"delivery": 0.85, "product_quality": 0.05, "price": 0.1},
                         (0.12, 0.18, 0.70)),
    "store_cashier": (("nps", "csat"),
                      {"staff": 0.45, "availability": 0.2, "price": 0.15, "payment": 0.1,
                       "product_quality": 0.1}, (0.15, 0.20, 0.65)),
    "support_chat": (("csat", "ces"),
                     {"communication": 0.5, "returns": 0.2, "payment": 0.15, "delivery": 0.15},
                     (0.25, 0.20, 0.55)),
    "call_center": (("csat", "ces"), {"communication": 0.55, "returns": 0.25, "delivery": 0.2},
                    (0.30, 0.20, 0.50)),
    "customer_review": (("csat",), {"product_quality": 0.6, "price": 0.2, "delivery": 0.2},
                        (0.12, 0.13, 0.75)),
}
_LATE = (0.80, 0.15, 0.05)
_APP_ORDER = (0.45, 0.20, 0.35)  # app buyers commenting on the app: crashes are common
# score → (values, weights) per sentiment 0 neg / 1 neu / 2 pos
_SCALES: dict[str, tuple[tuple[tuple[int, ...], tuple[float, ...]], ...]] = {
    "nps": (((0, 1, 2, 3, 4, 5, 6), (3, 3, 4, 5, 5, 4, 3)), ((6, 7, 8), (2, 4, 3)),
            ((8, 9, 10), (2, 4, 5))),
    "csat": (((1, 2, 3), (5, 4, 1)), ((3, 4), (6, 3)), ((4, 5), (4, 6))),
    "ces": (((1, 2, 3), (4, 4, 2)), ((4, 5), (5, 4)), ((5, 6, 7), (3, 4, 4))),
}


def _draw(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Row-wise categorical draw from an (n × k) weight matrix."""
    cdf = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    return np.minimum((rng.random(len(weights))[:, None] > cdf).sum(axis=1), weights.shape[1] - 1)


def _scores(rng: np.random.Generator, scale: str, sentiment: np.ndarray) -> np.ndarray:
    out = np.zeros(len(sentiment), np.int32)
    for s, (values, weights) in enumerate(_SCALES[scale]):
        sel = sentiment == s
        w = np.asarray(weights, float)
        out[sel] = np.asarray(values)[rng.choice(len(values), int(sel.sum()), p=w / w.sum())]
    return out


def feedback_table(rng: np.random.Generator, req: FeedbackRequests, polish: np.ndarray,
                   ids: PeopleIds, tag: str, start_us: int, p: WorldParams) -> pa.Table:
    """Render the responses in the ``feedback`` input schema (sorted by time)."""
    tp = req.column("touchpoint")
    if len(tp) == 0:
        return S.FEEDBACK.empty_table()
    t, person = req.column("t"), req.column("person").astype(np.int64)
    order = np.lexsort((person, t))
    tp, t, person = tp[order], t[order], person[order]
    key, late = req.column("key")[order].astype(np.int64), req.column("late")[order]
    returned, app = req.column("returned")[order], req.column("app")[order]
    delay = req.column("delay")[order]
    n = len(tp)

    topic_w = np.zeros((n, len(TOPICS)))
    sent_w = np.zeros((n, 3))
    asked = {s: np.zeros(n, bool) for s in _SCALES}
    for name, (scales, topics, sent) in _SURVEYS.items():
        sel = tp == name
        for topic, w in topics.items():
            topic_w[sel, TOPICS.index(topic)] = w
        sent_w[sel] = sent
        for s in scales:
            asked[s] |= sel
    u = rng.random((3, n))
    forced = np.full(n, -1)
    forced[app & (u[0] < 0.3)] = TOPICS.index("app")
    forced[returned & (tp != "delivery_courier") & (u[1] < 0.5)] = TOPICS.index("returns")
    forced[late & ((tp == "delivery_courier") | (u[2] < 0.7))] = TOPICS.index("delivery")
    topic = np.where(forced >= 0, forced, _draw(rng, topic_w))
    sent_w[app & (topic == TOPICS.index("app"))] = _APP_ORDER
    sent_w[late & (topic == TOPICS.index("delivery"))] = _LATE
    sentiment = _draw(rng, sent_w)

    has_text = rng.random(n) < np.where(tp == "customer_review", 0.95, p.p_text)
    pl = polish[person]
    texts = np.full(n, None, object)
    idx = np.flatnonzero(has_text)
    texts[idx] = compose(rng, topic[idx], pl[idx], sentiment[idx], np.ceil(delay[idx]))

    def score(scale: str) -> pa.Array:
        return pa.array(_scores(rng, scale, sentiment), pa.int32(), mask=~asked[scale])

    n_people = len(polish)
    return pa.table({
        "response_id": [f"r{tag}-{i}" for i in range(n)],
        "occurred_at": pa.array(start_us + np.round(t * 86_400_000_000).astype(np.int64), S.TS),
        "customer_id": ids.keys.take(pa.array(key * n_people + person)),
        "touchpoint": pa.array(tp.tolist(), pa.string()),
        "channel": pa.array([channel_of(x) for x in tp.tolist()], pa.string()),
        "nps": score("nps"), "csat": score("csat"), "ces": score("ces"),
        "text": pa.array(texts.tolist(), pa.string()),
        "language": pa.array(np.where(has_text, np.where(pl, "pl", "en"), None).tolist(),
                              pa.string()),
    }, schema=S.FEEDBACK)
