"""Consent: the latest status per customer and purpose, and the filter personalising analyses use.

Records come from the ``consent`` kind (``touchlens ingest FILE --kind consent``): a customer_id,
email or phone (hashed), a purpose (analytics | personalization | marketing), a status
(granted | denied) and when. A record given by email/phone reaches the customer through the
identity map. **The latest record per (stitched customer, purpose) wins**; two records at the
same instant resolve to ``denied``.

Customers without any record for a purpose count as not consenting (opt-in, the default), or
as consenting unless they denied (``Settings.consent_default = "granted"``, opt-out regimes).
A workspace that holds **no consent record at all** does not track consent: the filter keeps
everyone (``tracked`` is False) and its note says so, so that a workspace fed only events keeps
working; ingest consent to turn the filter on.

Analyses that personalise (segments, next-best touchpoint, recommendations) must use
:class:`ConsentFilter` and report how many customers were excluded::

    f = ws.consent_filter("personalization")
    kept, n_excluded = f.apply(ws.events())      # Ibis table, int (distinct customers)
    ...
    notes.append(f.note(n_excluded))             # "12 customers excluded: no ... consent"
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.errors import ConfigError
from touchlens.store import Store
from touchlens.store import schema as S


def _check_purpose(purpose: str) -> str:
    if purpose not in S.CONSENT_PURPOSES:
        raise ConfigError(f"unknown consent purpose {purpose!r}; use one of "
                          f"{', '.join(S.CONSENT_PURPOSES)}")
    return purpose


def resolved_consent(consent: ir.Table, identity_map: ir.Table) -> ir.Table:
    """Consent records with the stitched ``customer_id`` (grain: one row per record and
    customer it resolves to). An email hash also matches a customer id that was an email."""
    m = identity_map
    as_email = m.filter((m.id_type == "customer") & m.id_value.startswith("h:")).mutate(
        id_type=ibis.literal("email"))
    keys = m.union(as_email).distinct()
    joined = consent.left_join(keys, [consent.id_type == keys.id_type,
                                      consent.customer_id == keys.id_value])
    return joined.select(
        customer_id=ibis.coalesce(keys.customer_id, consent.customer_id),
        purpose=consent.purpose, status=consent.status, occurred_at=consent.occurred_at,
        source=consent.source,
    ).distinct()


def consent_status(consent: ir.Table, identity_map: ir.Table) -> ir.Table:
    """Latest status per customer and purpose: customer_id, purpose, status, occurred_at."""
    r = resolved_consent(consent, identity_map)
    order = [r.occurred_at.desc(), ibis.ifelse(r.status == "denied", 0, 1)]
    w = ibis.window(group_by=[r.customer_id, r.purpose], order_by=order)
    ranked = r.mutate(_rank=ibis.row_number().over(w))
    latest = ranked.filter(ranked._rank == 0)
    return latest.select("customer_id", "purpose", "status", "occurred_at")


@dataclass
class ConsentFilter:
    """Keeps the customers who consented to ``purpose`` (see module docstring)."""

    store: Store
    purpose: str
    status: ir.Table  # consent_status() for all purposes
    default: str = "denied"  # status of customers without a record
    tracked: bool = True  # False: the workspace holds no consent record; nobody is excluded

    def __post_init__(self) -> None:
        _check_purpose(self.purpose)
        if self.default not in S.CONSENT_STATUSES:
            raise ConfigError(f"consent_default must be 'denied' or 'granted', not "
                              f"{self.default!r}")

    def _with(self, status: str) -> ir.Table:
        s = self.status
        ids = s.filter((s.purpose == self.purpose) & (s.status == status)).select("customer_id")
        return ids.view()  # the caller's table may share ancestors (identity_map): self-join

    def granted(self) -> ir.Table:
        """Customers whose latest record for the purpose is ``granted`` (customer_id)."""
        return self._with("granted")

    def denied(self) -> ir.Table:
        """Customers whose latest record for the purpose is ``denied`` (customer_id)."""
        return self._with("denied")

    def keep(self, table: ir.Table, column: str = "customer_id") -> ir.Table:
        """Rows of ``table`` whose ``column`` is a consenting customer."""
        if not self.tracked:
            return table
        table = table.view()  # a projection over a join cannot be extended by another join
        if self.default == "denied":
            ok = self.granted()
            return table.semi_join(ok, table[column] == ok.customer_id)
        no = self.denied()
        return table.filter(table[column].notnull()).anti_join(no, table[column] ==
                                                               no.customer_id)

    def excluded(self, table: ir.Table, column: str = "customer_id") -> ir.Table:
        """The other rows of ``table`` (customers without consent, or without an id)."""
        if not self.tracked:
            return table.limit(0)
        table = table.view()
        if self.default == "denied":
            ok = self.granted()
            return table.anti_join(ok, table[column] == ok.customer_id)
        no = self.denied()
        return table.filter(table[column].isnull()).union(
            table.semi_join(no, table[column] == no.customer_id))

    def n_excluded(self, table: ir.Table, column: str = "customer_id") -> int:
        """Distinct customers of ``table`` excluded (a row without an id counts as one)."""
        if not self.tracked:
            return 0
        out = self.excluded(table, column)
        expr = out[column].nunique() + out[column].isnull().any().cast("int64")
        return int(self.store.execute(expr.name("n").as_table()).iloc[0, 0])

    def apply(self, table: ir.Table, column: str = "customer_id") -> tuple[ir.Table, int]:
        """``(kept rows, number of customers excluded)``."""
        return self.keep(table, column), self.n_excluded(table, column)

    def filter_frame(self, frame: pd.DataFrame,
                     column: str = "customer_id") -> tuple[pd.DataFrame, int]:
        """The same on a pandas result: ``(kept rows, customers excluded)``."""
        if not self.tracked:
            return frame, 0
        ids = frame[column]
        if self.default == "denied":
            ok = set(self.store.execute(self.granted())["customer_id"])
            mask = ids.isin(ok)
        else:
            no = set(self.store.execute(self.denied())["customer_id"])
            mask = ids.notna() & ~ids.isin(no)
        dropped = ids[~mask]
        n = int(dropped.nunique()) + int(dropped.isna().any())
        return frame[mask.to_numpy()], n

    def note(self, n_excluded: int) -> str:
        """The sentence a report prints under a personalised result."""
        if not self.tracked:
            return "consent not tracked (no consent records in this workspace): nobody excluded"
        who = "customer" if n_excluded == 1 else "customers"
        return f"{n_excluded:,} {who} excluded: no {self.purpose} consent"


def consent_filter(store: Store, identity_map: ir.Table, purpose: str, *,
                   default: str = "denied") -> ConsentFilter:
    """A :class:`ConsentFilter` over the workspace's consent records."""
    table = store.table("consent")
    tracked = int(store.execute(table.count().name("n").as_table()).iloc[0, 0]) > 0
    status = consent_status(table, identity_map)
    return ConsentFilter(store, _check_purpose(purpose), status, default, tracked)
