"""Simulated people, their identifiers in each source system, and the ``identities`` table.

One person has up to four customer keys, all stitched together only through shared
identifiers (the way real exports look):

- ``C…`` e-shop account (canonical: it sorts first); CRM rows email → C, phone → C, app
  device → C, and loyalty card → C when the card is registered in the account;
- ``M…`` loyalty/POS member key (store purchases carry it); loyalty rows card → M, plus phone
  or email → M when the card is not registered (so the link needs phone/email normalisation);
- ``N…`` newsletter (ESP) subscriber key, for "chain" people only: ESP rows email → N and
  device → N; their email events carry N, and their phone cookie is seen with N only on email
  clicks, so the chain reads anonymous cookie → N → email → C;
- cookies ``a-…``: a desktop cookie and, for mobile-web users, a phone cookie; linked by
  logins (events carrying both ids) and, with probability ``p_cookie_mapped`` each, by a CDP
  row cookie → C (never for the chain people's phone cookie).
Raw emails and phones come in different spellings per system; the store hashes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from touchlens.simulate.spec import WorldParams
from touchlens.store import schema as S

_FIRST_PL = ("anna", "piotr", "katarzyna", "tomasz", "magdalena", "michal", "agnieszka",
             "pawel", "monika", "krzysztof", "ewa", "marcin", "joanna", "jakub", "zofia")
_LAST_PL = ("nowak", "kowalski", "wisniewska", "wojcik", "kowalczyk", "kaminski", "lewandowska",
            "zielinski", "szymanska", "wozniak", "dabrowski", "mazur", "krawczyk", "pietrzak")
_FIRST_EN = ("john", "emma", "oliver", "sophie", "james", "olivia", "harry", "amelia", "jack")
_LAST_EN = ("smith", "brown", "taylor", "wilson", "davies", "evans", "walker", "wright")

# customer-key kinds used by events (0 = none)
KEY_C, KEY_M, KEY_N = 1, 2, 3
# anonymous kinds / device kinds (0 = none)
ANON_DESKTOP, ANON_PHONE = 1, 2
DEV_APP, DEV_PHONE = 1, 2


@dataclass
class People:
    """Per-person attributes (arrays of length n); ``offset`` is the global index of person 0."""

    offset: int
    email: np.ndarray
    phone: np.ndarray
    app: np.ndarray
    member: np.ndarray
    mobile: np.ndarray
    chain: np.ndarray
    card_registered: np.ndarray
    new_subscriber: np.ndarray
    polish: np.ndarray
    start: np.ndarray  # first journey start, days since the world's start

    @property
    def n(self) -> int:
        return len(self.start)


def draw_people(rng: np.random.Generator, n: int, offset: int, days: float,
                p: WorldParams) -> People:
    """Draw n people; every attribute is independent of conversion propensity."""
    u = rng.random((9, n))
    email, app, mobile = u[0] < p.p_email, u[2] < p.p_app, u[4] < p.p_mobile_web
    return People(
        offset=offset, email=email, phone=u[1] < p.p_phone, app=app,
        member=u[3] < p.p_member, mobile=mobile,
        chain=email & mobile & ~app & (u[5] < p.p_chain),
        card_registered=u[6] < p.p_card_registered,
        new_subscriber=email & (u[7] < p.p_new_subscriber),
        polish=u[8] < p.p_polish,
        start=rng.uniform(0.0, max(days - 1.0, 0.5), n),
    )


@dataclass
class PeopleIds:
    """String identifiers per person, as pyarrow arrays (nulls where a person has none)."""

    keys: pa.Array  # length 4n: [null]*n + C + M + N, indexed by kind * n + person
    anons: pa.Array  # length 3n: [null]*n + desktop cookie + phone cookie
    devices: pa.Array  # length 3n: [null]*n + app device + phone device
    identities: pa.Table
    cookie_mapped: np.ndarray  # (3, n) booleans by anonymous kind (row 0 unused)


def _hex_ids(rng: np.random.Generator, prefix: str, kind: int, gidx: np.ndarray) -> list[str]:
    rand = rng.integers(0, 16**9, len(gidx))
    return [f"{prefix}{r:09x}{kind}{g:07x}" for r, g in zip(rand.tolist(), gidx.tolist(),
                                                            strict=True)]


def _emails(rng: np.random.Generator, people: People, gidx: np.ndarray) -> list[str]:
    f_pl, l_pl = rng.integers(0, len(_FIRST_PL), people.n), rng.integers(0, len(_LAST_PL),
                                                                          people.n)
    f_en, l_en = rng.integers(0, len(_FIRST_EN), people.n), rng.integers(0, len(_LAST_EN),
                                                                          people.n)
    out = []
    for i, g in enumerate(gidx.tolist()):
        if people.polish[i]:
            out.append(f"{_FIRST_PL[f_pl[i]]}.{_LAST_PL[l_pl[i]]}{g}@example.pl")
        else:
            out.append(f"{_FIRST_EN[f_en[i]]}.{_LAST_EN[l_en[i]]}{g}@example.com")
    return out


def _spellings(values: list[str], style: np.ndarray) -> list[str]:
    """Same email as another system would type it: capitalised and/or padded."""
    return [f" {v.capitalize()}" if s == 1 else v.upper() if s == 2 else v
            for v, s in zip(values, style.tolist(), strict=True)]


def _phones(gidx: np.ndarray, style: np.ndarray) -> list[str]:
    out = []
    for g, s in zip((500_000_000 + gidx).tolist(), style.tolist(), strict=True):
        d = str(g)
        out.append(f"+48 {d[:3]} {d[3:6]} {d[6:]}" if s == 0 else d if s == 1
                   else f"+48{d[:3]}-{d[3:6]}-{d[6:]}")
    return out


def make_ids(rng: np.random.Generator, people: People, p: WorldParams) -> PeopleIds:
    """Identifier strings for each person and the identities rows of every source system."""
    n = people.n
    gidx = people.offset + np.arange(n)
    c = [f"C{g:08d}" for g in gidx.tolist()]
    m = [f"M{g:08d}" for g in gidx.tolist()]
    nk = [f"N{g:08d}" for g in gidx.tolist()]
    card = [f"LC{g:010d}" for g in gidx.tolist()]
    desk = _hex_ids(rng, "a-", 1, gidx)
    phone_cookie = _hex_ids(rng, "a-", 2, gidx)
    dev_app = _hex_ids(rng, "dev-", 1, gidx)
    dev_phone = _hex_ids(rng, "dev-", 2, gidx)
    dev_phone = [a if is_app else d for a, d, is_app in zip(dev_app, dev_phone,
                                                            people.app.tolist(), strict=True)]
    emails = _emails(rng, people, gidx)
    alt_emails = _spellings(emails, rng.integers(0, 3, n))
    phones_crm = _phones(gidx, rng.integers(0, 3, n))
    phones_pos = _phones(gidx, rng.integers(0, 3, n))
    mapped = rng.random((2, n)) < p.p_cookie_mapped

    nulls = [None] * n
    mobile = people.mobile.tolist()
    keys = pa.array(nulls + c + m + nk, pa.string())
    anons = pa.array(nulls + desk + [p if mb else None for p, mb in zip(phone_cookie, mobile,
                                                                          strict=True)],
                     pa.string())
    devices = pa.array(nulls + [d if a else None for d, a in zip(dev_app, people.app.tolist(),
                                                                 strict=True)]
                       + [d if mb else None for d, mb in zip(dev_phone, mobile, strict=True)],
                       pa.string())

    rows: list[tuple[str, str, str]] = []
    for i in range(n):
        rows.append(("email", emails[i], c[i]))
        if mapped[0, i]:
            rows.append(("anonymous", desk[i], c[i]))
        if mapped[1, i] and people.mobile[i] and not people.chain[i]:
            rows.append(("anonymous", phone_cookie[i], c[i]))
        if people.phone[i]:
            rows.append(("phone", phones_crm[i], c[i]))
        if people.app[i]:
            rows.append(("device", dev_app[i], c[i]))
        if people.member[i]:
            rows.append(("loyalty_card", card[i], m[i]))
            if people.card_registered[i]:
                rows.append(("loyalty_card", card[i], c[i]))
            elif people.phone[i]:
                rows.append(("phone", phones_pos[i], m[i]))
            else:
                rows.append(("email", alt_emails[i], m[i]))
        if people.chain[i]:
            rows.append(("email", alt_emails[i], nk[i]))
            rows.append(("device", dev_phone[i], nk[i]))
    id_type, id_value, customer = (list(col) for col in zip(*rows, strict=True)) if rows else (
        [], [], [])
    identities = pa.table({"id_type": id_type, "id_value": id_value, "customer_id": customer},
                          schema=S.IDENTITIES)
    cookie_mapped = np.zeros((3, n), bool)
    cookie_mapped[ANON_DESKTOP] = mapped[0]
    cookie_mapped[ANON_PHONE] = mapped[1] & people.mobile & ~people.chain
    return PeopleIds(keys=keys, anons=anons, devices=devices, identities=identities,
                     cookie_mapped=cookie_mapped)
