"""Render marketing contacts into events, one rendering pattern per kind of touchpoint.

A contact is one exposure counted by the ground truth; it yields its first event at the
contact time (impression, delivered email, page view…) and possibly follow-ups (click, open)
a little later but before the journey ends. Costs: ``ad_cpc`` clicks carry the price per
click, ``ad_cpm`` impressions carry price / 1000, ``print`` and ``popup`` contacts carry the
price per piece / visitor (PLN). Daily ``costs`` rows are the sums of these event costs.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from touchlens.simulate.behaviour import Contacts, anon_ids, email_key
from touchlens.simulate.events import EventLog
from touchlens.simulate.people import ANON_DESKTOP, ANON_PHONE, DEV_APP, KEY_C, KEY_M, People
from touchlens.simulate.spec import Exposure

_SEC = 1.0 / 86_400


class _Block:
    """Contacts of one exposure, with helpers to emit their events."""

    def __init__(self, log: EventLog, rng: np.random.Generator, people: People,
                 exposure: Exposure, c: Contacts, mask: np.ndarray) -> None:
        self.log, self.rng, self.people, self.e = log, rng, people, exposure
        self.person, self.t, self.limit = c.person[mask], c.t[mask], c.limit[mask]
        self.campaign = log.campaigns(rng, exposure.campaigns, len(self.person))

    def later(self, sel: np.ndarray, lo_s: float, hi_s: float) -> np.ndarray:
        """Follow-up times lo..hi seconds after the contact, capped at the journey's end."""
        delay = self.rng.uniform(lo_s, hi_s, int(sel.sum())) * _SEC
        return np.minimum(self.t[sel] + delay, self.limit[sel])

    def emit(self, sel: np.ndarray | None, t: np.ndarray | None, event_type: str,
             **kw: object) -> None:
        sel = np.ones(len(self.person), bool) if sel is None else sel
        t = self.t[sel] if t is None else t
        kw = {k: (v[sel] if isinstance(v, np.ndarray) and len(v) == len(sel) else v)
              for k, v in kw.items()}
        self.log.add(self.person[sel], t, self.e.touchpoint, event_type,
                     campaign=self.campaign[sel], **kw)

    def chance(self, rate: float, among: np.ndarray | None = None) -> np.ndarray:
        hit = self.rng.random(len(self.person)) < rate
        return hit if among is None else hit & among


def _anonymous(b: _Block, first: str, follow: str | None, cpc: float = 0.0,
               cpm: float = 0.0) -> None:
    anon, dev = anon_ids(b.rng, b.people, b.person)
    b.emit(None, None, first, anon=anon, device=dev, cost=cpm / 1000 if cpm else None)
    if follow is not None:
        hit = b.chance(b.e.rate1)
        b.emit(hit, b.later(hit, 3, 90), follow, anon=anon, device=dev,
               cost=cpc if cpc else None)


def _ad_cpc(b: _Block) -> None:
    _anonymous(b, "impression", "click", cpc=b.e.price)


def _ad_cpm(b: _Block) -> None:
    _anonymous(b, "impression", "click", cpm=b.e.price)


def _social(b: _Block) -> None:
    _anonymous(b, "impression", "engagement")


def _ai(b: _Block) -> None:
    _anonymous(b, "mention", "click")


def _click(b: _Block) -> None:
    _anonymous(b, "click", None)


def _read(b: _Block) -> None:
    _anonymous(b, "page_view", None)


def _live(b: _Block) -> None:
    _anonymous(b, "engagement", None)


def _chatbot(b: _Block) -> None:
    _anonymous(b, "chat", None)


def _print(b: _Block) -> None:
    b.emit(None, None, "delivered", key=KEY_M, cost=b.e.price)


def _popup(b: _Block) -> None:
    b.emit(None, None, "engagement", key=KEY_M, cost=b.e.price)


def _loyalty(b: _Block) -> None:
    b.emit(None, None, "engagement", key=KEY_M)


def _video(b: _Block) -> None:
    b.emit(None, None, "call", key=KEY_C)


def _email(b: _Block) -> None:
    key = email_key(b.people, b.person)
    b.emit(None, None, "delivered", key=key)
    opened = b.chance(b.e.rate1)
    b.emit(opened, b.later(opened, 300, 36_000), "open", key=key)
    clicked = b.chance(b.e.rate2, opened)
    # the click lands on the shop: chain people read mail on their phone
    phone = b.people.chain[b.person] | (b.people.mobile[b.person] & b.chance(0.5))
    anon = np.where(phone, ANON_PHONE, ANON_DESKTOP).astype(np.int8)
    b.emit(clicked, b.later(clicked, 36_000, 40_000), "click", key=key, anon=anon)


def _sms(b: _Block) -> None:
    b.emit(None, None, "delivered", key=KEY_C)
    hit = b.chance(b.e.rate1)
    anon = np.where(b.people.mobile[b.person], ANON_PHONE, ANON_DESKTOP).astype(np.int8)
    b.emit(hit, b.later(hit, 30, 3_600), "click", key=KEY_C, anon=anon)


def _push(b: _Block) -> None:
    b.emit(None, None, "delivered", key=KEY_C, device=DEV_APP)
    hit = b.chance(b.e.rate1)
    b.emit(hit, b.later(hit, 5, 1_800), "open", key=KEY_C, device=DEV_APP)


PATTERNS: dict[str, Callable[[_Block], None]] = {
    "ad_cpc": _ad_cpc, "ad_cpm": _ad_cpm, "social": _social, "ai": _ai, "click": _click,
    "read": _read, "live": _live, "chatbot": _chatbot, "print": _print, "popup": _popup,
    "loyalty": _loyalty, "video": _video, "email": _email, "sms": _sms, "push": _push,
}


def render_contacts(log: EventLog, rng: np.random.Generator, people: People,
                    exposures: tuple[Exposure, ...], contacts: Contacts) -> None:
    """Emit the events of every marketing contact."""
    for k, e in enumerate(exposures):
        mask = contacts.k == k
        if mask.any():
            PATTERNS[e.pattern](_Block(log, rng, people, e, contacts, mask))
