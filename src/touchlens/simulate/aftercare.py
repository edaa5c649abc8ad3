"""After the purchase: delivery, packaging, surveys, review requests, support, returns.

These touches belong to the next journey of the buyer and have no causal effect. They also
decide who answers a survey and what about: a late parcel (delay > 3 days, probability
``p_late``) raises the chance of a support chat or call and turns the delivery rating and
often the survey negative; a return leads to a chat about returns. Events or responses that
would fall after the world's horizon are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from touchlens.simulate.behaviour import email_key
from touchlens.simulate.events import EventLog
from touchlens.simulate.people import KEY_C, KEY_M, People
from touchlens.simulate.sessions import Orders
from touchlens.simulate.spec import WorldParams


@dataclass
class FeedbackRequests:
    """Survey/review responses to generate: one entry per response."""

    parts: list[dict[str, np.ndarray]] = field(default_factory=list)

    def add(self, touchpoint: str, person: np.ndarray, t: np.ndarray, key: int | np.ndarray,
            late: np.ndarray, returned: np.ndarray, app: np.ndarray, delay: np.ndarray) -> None:
        n = len(person)
        self.parts.append({
            "touchpoint": np.full(n, touchpoint, object), "person": person, "t": t,
            "key": np.broadcast_to(np.asarray(key, np.int8), (n,)).copy(), "late": late,
            "returned": returned, "app": app, "delay": delay})

    def column(self, name: str) -> np.ndarray:
        if not self.parts:
            return np.array([], object if name == "touchpoint" else float)
        return np.concatenate([p[name] for p in self.parts])


def render_aftercare(log: EventLog, rng: np.random.Generator, people: People, orders: Orders,
                     days: float, p: WorldParams) -> FeedbackRequests:
    """Emit post-purchase events; returns the feedback responses they trigger."""
    n = len(orders.person)
    person, t0 = orders.person, orders.t
    shipped = orders.mode < 2
    late = shipped & (rng.random(n) < p.p_late)
    delay = np.where(late, rng.uniform(3.5, 8.0, n), rng.uniform(0.6, 3.0, n))
    delay = np.where(shipped, delay, 0.0)
    td = t0 + delay
    returned = shipped & (rng.random(n) < p.p_return)
    t_return = td + rng.uniform(2, 14, n)
    app = orders.mode == 1
    req = FeedbackRequests()

    def pick(prob: np.ndarray | float, t: np.ndarray, among: np.ndarray | None = None
             ) -> np.ndarray:
        hit = (rng.random(n) < prob) & (t < days)
        return hit if among is None else hit & among

    def request(tp: str, sel: np.ndarray, t: np.ndarray, key: int | np.ndarray) -> None:
        key = key[sel] if isinstance(key, np.ndarray) else key
        req.add(tp, person[sel], t[sel], key, late[sel], returned[sel], app[sel], delay[sel])

    ok = shipped & (td < days)
    attrs = np.array([f'{{"delay_days": {d:.1f}, "late": {str(x).lower()}}}'
                      for d, x in zip(delay[ok].tolist(), late[ok].tolist(), strict=True)],
                     dtype=object)
    log.add(person[ok], td[ok], "delivery_courier", "delivered", key=KEY_C,
            order=orders.number[ok], attrs=attrs)
    t = td + rng.uniform(0.05, 0.5, n)
    sel = pick(0.15, t, shipped)
    log.add(person[sel], t[sel], "packaging", "engagement", key=KEY_C)
    t = td + rng.uniform(0.1, 2.0, n)
    sel = pick(0.04, t, shipped)
    log.add(person[sel], t[sel], "packaging", "mention", key=KEY_C)

    ekey = email_key(people, person)
    t = td + rng.uniform(1.0, 3.0, n)
    sel = pick(p.p_survey, t, people.email[person])
    log.add(person[sel], t[sel], "post_purchase_survey", "survey", key=ekey[sel])
    request("post_purchase_survey", sel, t, ekey)
    t = td + rng.uniform(0.05, 1.0, n)
    request("delivery_courier", pick(p.p_delivery_rating, t, shipped), t, KEY_C)
    t = t0 + rng.uniform(0.05, 2.0, n)
    request("store_cashier", pick(p.p_store_rating, t, ~shipped), t, KEY_M)

    # review request email → open → click → review written
    t = td + 7.0 + rng.random(n)
    sent = pick(p.p_review_request, t, people.email[person])
    log.add(person[sent], t[sent], "review_request_email", "delivered", key=ekey[sent])
    t_open = t + rng.uniform(0.01, 0.3, n)
    opened = sent & (rng.random(n) < 0.4) & (t_open < days)
    log.add(person[opened], t_open[opened], "review_request_email", "open", key=ekey[opened])
    t_click = t_open + rng.uniform(0.001, 0.01, n)
    clicked = opened & (rng.random(n) < 0.35) & (t_click < days)
    log.add(person[clicked], t_click[clicked], "review_request_email", "click",
            key=ekey[clicked])
    wrote = clicked & (rng.random(n) < 0.6) & (t_click + 0.01 < days)
    t_rev = t_click + 0.01
    log.add(person[wrote], t_rev[wrote], "customer_review", "review", key=KEY_C)
    request("customer_review", wrote, t_rev, KEY_C)

    # support: late parcels are chased while waiting, other orders after delivery
    t = np.where(late, t0 + rng.uniform(3.0, 3.5, n), td + rng.uniform(0.5, 10, n))
    sel = pick(np.where(late, p.p_chat_late, p.p_chat), t, shipped)
    log.add(person[sel], t[sel], "support_chat", "chat", key=KEY_C)
    request("support_chat", sel & (rng.random(n) < 0.5), t, KEY_C)
    sel = pick(np.where(late, p.p_call_late, p.p_call), t + 0.1)
    log.add(person[sel], t[sel] + 0.1, "call_center", "support_contact", key=KEY_C)
    request("call_center", sel & (rng.random(n) < 0.4), t + 0.1, KEY_C)

    sel = returned & (t_return < days)
    log.add(person[sel], t_return[sel], "return_portal", "return", key=KEY_C,
            order=orders.number[sel])
    t = t_return + rng.uniform(3, 12, n)
    sel = pick(0.25, t, returned)
    log.add(person[sel], t[sel], "support_chat", "chat", key=KEY_C)
    request("support_chat", sel & (rng.random(n) < 0.5), t, KEY_C)

    t = td + rng.uniform(0.5, 5.0, n)
    sel = pick(0.02, t, ~late)
    log.add(person[sel], t[sel], "social_mention", "mention", key=KEY_C)
    return req
