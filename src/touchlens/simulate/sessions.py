"""Shopping sessions on the web, in the app and in stores: browsing and the purchase itself.

These touches follow from the decision to buy (or from idle browsing) and have no causal
effect in the ground truth. Web sessions start anonymous (landing on ``homepage`` or as a
``direct_visit``); once the person logs in, later events carry both the cookie and the
account id — the login link the identity stitcher needs. Purchase sessions always log in;
browse sessions with probability ``p_login_browse`` ("chain" people never log in on their
phone). App events carry the account and the app device; store events the loyalty key M.
Each converting journey ends with a purchase session whose ``purchase`` event is at the
journey's end; an ``abandoned_cart_email`` contact is preceded by a session with a cart.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from touchlens.simulate.behaviour import Contacts, Journeys
from touchlens.simulate.events import EventLog
from touchlens.simulate.people import (
    ANON_DESKTOP,
    ANON_PHONE,
    DEV_APP,
    DEV_PHONE,
    KEY_C,
    KEY_M,
    People,
)
from touchlens.simulate.spec import WorldParams

_MIN = 1.0 / 1440
_PAYMENTS = ("blik", "card", "transfer", "pay_later", "cash_on_delivery")
ABANDONED_FAILURE_RATE = 0.5  # abandoned checkouts that show a payment failure
RETRIED_FAILURE_RATE = 0.06  # completed checkouts where a first payment attempt failed


@dataclass
class Orders:
    """One entry per purchase: order number, person, time (days), mode (0 web/1 app/2 store)."""

    number: np.ndarray
    person: np.ndarray
    t: np.ndarray
    mode: np.ndarray
    revenue: np.ndarray


@dataclass
class _Sessions:
    person: np.ndarray
    t0: np.ndarray
    phone: np.ndarray
    logged: np.ndarray
    pages: np.ndarray
    cart: np.ndarray
    checkout: np.ndarray
    order: np.ndarray  # −1 for browse sessions
    revenue: np.ndarray

    def take(self, mask: np.ndarray) -> _Sessions:
        return _Sessions(**{k: v[mask] for k, v in vars(self).items()})


def _browse_times(rng: np.random.Generator, journeys: Journeys, rate: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    n = rng.poisson(rate)
    row = np.repeat(np.arange(len(journeys)), n)
    lo, hi = journeys.start[row], np.maximum(journeys.end[row] - 1 / 24, journeys.start[row])
    return journeys.person[row], lo + rng.random(len(row)) * (hi - lo)


def _concat(parts: list[_Sessions]) -> _Sessions:
    return _Sessions(**{k: np.concatenate([getattr(s, k) for s in parts])
                        for k in vars(parts[0])})


def _browse(rng: np.random.Generator, person: np.ndarray, t0: np.ndarray, phone: np.ndarray,
            logged: np.ndarray, p: WorldParams, force_cart: bool = False) -> _Sessions:
    n = len(person)
    cart = np.ones(n, bool) if force_cart else rng.random(n) < p.p_cart_browse
    checkout = ~np.bool_(force_cart) & cart & (rng.random(n) < p.p_checkout_given_cart)
    return _Sessions(person, t0, phone, logged, rng.integers(1, 5, n), cart, checkout,
                     np.full(n, -1), np.full(n, np.nan))


def _render_web(log: EventLog, rng: np.random.Generator, s: _Sessions) -> None:
    anon = np.where(s.phone, ANON_PHONE, ANON_DESKTOP).astype(np.int8)
    dev = np.where(s.phone, DEV_PHONE, 0).astype(np.int8)
    key = np.where(s.logged, KEY_C, 0).astype(np.int8)
    direct = rng.random(len(s.person)) < 0.35
    for tp, sel in (("direct_visit", direct), ("homepage", ~direct)):
        log.add(s.person[sel], s.t0[sel], tp, "visit", anon=anon[sel], device=dev[sel])
    row = np.repeat(np.arange(len(s.person)), s.pages)
    step = np.arange(len(row)) - np.repeat(np.cumsum(s.pages) - s.pages, s.pages) + 1
    log.add(s.person[row], s.t0[row] + step * _MIN, "product_page", "page_view",
            key=key[row], anon=anon[row], device=dev[row])
    _tail(log, rng, s, "cart", "checkout", "checkout", key, anon, dev)


def _render_app(log: EventLog, rng: np.random.Generator, s: _Sessions) -> None:
    n = len(s.person)
    crash = rng.random(n) < 0.03
    attrs = np.where(crash, '{"error": "app_crash"}', None).astype(object)
    log.add(s.person, s.t0, "app_home", "app_open", key=KEY_C, device=DEV_APP, attrs=attrs)
    row = np.repeat(np.arange(n), s.pages)
    step = np.arange(len(row)) - np.repeat(np.cumsum(s.pages) - s.pages, s.pages) + 1
    log.add(s.person[row], s.t0[row] + step * _MIN, "app_home", "page_view", key=KEY_C,
            device=DEV_APP)
    tryon = rng.random(n) < 0.2
    log.add(s.person[tryon], s.t0[tryon] + 0.5 * _MIN, "virtual_tryon", "engagement",
            key=KEY_C, device=DEV_APP)
    key = np.full(n, KEY_C, np.int8)
    dev = np.full(n, DEV_APP, np.int8)
    _tail(log, rng, s, "app_checkout", "app_checkout", "app_checkout", key, np.zeros(n, np.int8),
          dev)


def _tail(log: EventLog, rng: np.random.Generator, s: _Sessions, cart_tp: str, checkout_tp: str,
          purchase_tp: str, key: np.ndarray, anon: np.ndarray, dev: np.ndarray) -> None:
    """add_to_cart → checkout → purchase, one minute apart after the last page."""
    bought = s.order >= 0
    at = s.t0 + s.pages * _MIN
    c = s.cart | bought
    log.add(s.person[c], at[c] + _MIN, cart_tp, "add_to_cart", key=key[c], anon=anon[c],
            device=dev[c])
    co = s.checkout | bought
    # a failed payment loses most sales (half the abandoned checkouts failed) but not all:
    # some buyers retry and pay (6 % of the completed checkouts saw a failure first)
    u = rng.random(len(s.person))
    failed = co & np.where(bought, u < RETRIED_FAILURE_RATE, u < ABANDONED_FAILURE_RATE)
    attrs = np.where(failed, '{"error": "payment_failed"}', None).astype(object)
    log.add(s.person[co], at[co] + 2 * _MIN, checkout_tp, "checkout", key=key[co],
            anon=anon[co], device=dev[co], attrs=attrs[co])
    pay = rng.integers(0, len(_PAYMENTS), int(bought.sum()))
    items = rng.integers(1, 6, int(bought.sum()))
    meta = np.array([f'{{"items": {i}, "payment": "{_PAYMENTS[k]}"}}'
                     for i, k in zip(items.tolist(), pay.tolist(), strict=True)], dtype=object)
    log.add(s.person[bought], at[bought] + 3 * _MIN, purchase_tp, "purchase", key=key[bought],
            anon=anon[bought], device=dev[bought], order=s.order[bought],
            revenue=s.revenue[bought], attrs=meta)


def _render_store(log: EventLog, rng: np.random.Generator, person: np.ndarray, t: np.ndarray,
                  t_buy: np.ndarray, order: np.ndarray, revenue: np.ndarray) -> None:
    """Store visits at ``t``; where order ≥ 0 a till purchase follows at ``t_buy``."""
    store_id = rng.integers(1, 13, len(person))
    attrs = np.array([f'{{"store_id": "S{k:02d}"}}' for k in store_id.tolist()], dtype=object)
    log.add(person, t, "store_visit", "store_visit", key=KEY_M, attrs=attrs)
    b = order >= 0
    log.add(person[b], t_buy[b], "store_cashier", "purchase", key=KEY_M, order=order[b],
            revenue=revenue[b], attrs=attrs[b])


def render_sessions(log: EventLog, rng: np.random.Generator, people: People, journeys: Journeys,
                    contacts: Contacts, cart_email_k: int, p: WorldParams) -> Orders:
    """Emit browse and purchase sessions; returns the orders (numbered from 0 per chunk)."""
    jp = journeys.person
    conv = np.flatnonzero(journeys.converted)
    orders = Orders(np.arange(len(conv)), jp[conv], journeys.end[conv], journeys.mode[conv],
                    journeys.revenue[conv])

    # web: idle browsing, the cart before each cart reminder, and web purchases
    person, t0 = _browse_times(rng, journeys, np.full(len(journeys), p.browse_web))
    phone = people.mobile[person] & (rng.random(len(person)) < 0.4)
    logged = (rng.random(len(person)) < p.p_login_browse) & ~(phone & people.chain[person])
    parts = [_browse(rng, person, t0, phone, logged, p)]
    ace = contacts.k == cart_email_k
    a_person = contacts.person[ace]
    a_t0 = np.maximum(contacts.t[ace] - rng.uniform(1, 6, len(a_person)) / 24,
                      journeys.start[contacts.journey[ace]])
    parts.append(_browse(rng, a_person, a_t0, np.zeros(len(a_person), bool),
                         rng.random(len(a_person)) < p.p_login_browse, p, force_cart=True))
    web = orders.mode == 0
    w_person, n_w = orders.person[web], int(web.sum())
    w_phone = people.mobile[w_person] & ~people.chain[w_person] & (rng.random(n_w) < 0.4)
    pages = rng.integers(1, 5, n_w)
    parts.append(_Sessions(w_person, orders.t[web] - (pages + 3) * _MIN, w_phone,
                           np.ones(n_w, bool), pages, np.ones(n_w, bool), np.ones(n_w, bool),
                           orders.number[web], orders.revenue[web]))
    _render_web(log, rng, _concat(parts))

    # app: browsing for app users, then app purchases
    person, t0 = _browse_times(rng, journeys, p.browse_app * people.app[jp])
    n_b = len(person)
    app = orders.mode == 1
    a_person, n_a = orders.person[app], int(app.sum())
    pages = rng.integers(1, 5, n_a)
    _render_app(log, rng, _concat([
        _browse(rng, person, t0, np.zeros(n_b, bool), np.ones(n_b, bool), p),
        _Sessions(a_person, orders.t[app] - (pages + 3) * _MIN, np.zeros(n_a, bool),
                  np.ones(n_a, bool), pages, np.ones(n_a, bool), np.ones(n_a, bool),
                  orders.number[app], orders.revenue[app])]))

    # stores: members browse, and buy at the till (the purchase is the journey's end)
    person, t0 = _browse_times(rng, journeys, p.browse_store * people.member[jp])
    st = orders.mode == 2
    n_s = int(st.sum())
    visit = orders.t[st] - rng.uniform(10, 40, n_s) * _MIN
    _render_store(log, rng, np.concatenate([person, orders.person[st]]),
                  np.concatenate([t0, visit]), np.concatenate([t0, orders.t[st]]),
                  np.concatenate([np.full(len(person), -1), orders.number[st]]),
                  np.concatenate([np.full(len(person), np.nan), orders.revenue[st]]))
    return orders
