"""Erase a person from every table: resolve all their identifiers, delete every matching row.

Identifiers are given in their *stored* form (customer ids as stored, emails/phones as salted
hashes; :mod:`touchlens.governance.erasure` does the hashing). :func:`resolve` follows the
identity graph (``identities`` links, events that carry both a customer_id and an
anonymous_id, the stitched ``identity_map``) to a fixed point, so the person is found under
every identifier touchlens ever linked to them.

Which rows go (:func:`plan`):

- ``events``: customer_id, anonymous_id or device is one of them; ``feedback``, ``consent``:
  customer_id is; ``identities``, ``identity_map``: the (id_type, id_value) node or the
  customer_id is; ``quarantine``: the raw row holds one of them as a JSON value.
- every *other* table (alerts, experiments, derived tables: found at run time, so tables
  added later are covered): a row goes when an identifier column (:data:`ID_COLUMNS`) equals
  one of them, when an ``event_id``, ``order_id`` or ``response_id`` column holds a key of the
  person's own events/feedback (a stored VoC result per response), or when any other text
  column holds an identifier as a JSON value (e.g. alert evidence). Tables whose name starts
  with ``_`` are scratch (rebuilt on demand): there any text holding an identifier as a
  whole token goes.
- ``audit_log``, ``erasure_receipts``, ``ingest_log``, ``meta``, ``costs``, ``touchpoints``,
  ``api_keys``, ``written_files`` hold no personal identifiers by construction and are left
  alone (the audit log is append-only).

On DuckDB the deletes run as SQL ``DELETE`` inside the caller's transaction; on Spark each
affected table is rewritten without the rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import ibis.expr.types as ir

from touchlens.errors import StoreError
from touchlens.store.backends import Store, _quote

ID_COLUMNS = ("customer_id", "anonymous_id", "id_value", "user_id", "person_id", "email",
              "phone", "email_hash", "phone_hash", "device")
UNTOUCHED = ("audit_log", "erasure_receipts", "ingest_log", "meta", "costs", "touchpoints",
             "api_keys", "written_files")
SPECIFIC = ("events", "feedback", "consent", "identities", "identity_map", "quarantine")
MAX_ROUNDS = 50
CHUNK = 200  # identifiers per regex
_RE_SPECIAL = set("\\.^$|?*+()[]{}")
_KEYED = "|".join(ID_COLUMNS)


@dataclass(frozen=True)
class Identifiers:
    """Everything that identifies one person in a workspace (stored forms)."""

    nodes: frozenset[tuple[str, str]]  # (id_type, id_value): ("customer", "c1"), ("email", "h:…")
    labels: frozenset[str] = frozenset()  # stitched customer_ids in identity_map
    customers: frozenset[str] = frozenset()  # customer ids seen in the data (not just asked)

    @property
    def values(self) -> frozenset[str]:
        return frozenset(v for _, v in self.nodes) | self.labels

    def by_type(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for id_type, value in self.nodes:
            out.setdefault(id_type, set()).add(value)
        return out

    @property
    def n_customers(self) -> int:
        """Distinct customer ids among them (more than one: stitching merged people)."""
        return len(self.customers)


def _strings(frame, *cols: str) -> set[str]:
    out: set[str] = set()
    for c in cols:
        out |= {str(v) for v in frame[c].dropna().tolist()}
    return out


def resolve(store: Store, start: Iterable[tuple[str, str]]) -> Identifiers:
    """All identifiers connected to ``start`` nodes, to a fixed point (see module docstring)."""
    nodes = set(start)
    labels: set[str] = set()
    seen: set[str] = set()  # customer ids confirmed by a link, an event or the map
    ident, ev, imap = (store.table(n) for n in ("identities", "events", "identity_map"))
    for _ in range(MAX_ROUNDS):
        before = (len(nodes), len(labels))
        values = sorted({v for _, v in nodes} | labels)
        customers = sorted({v for t, v in nodes if t == "customer"} | labels)
        anons = sorted(v for t, v in nodes if t == "anonymous")
        links = store.execute(ident.filter(ident.customer_id.isin(customers)
                                           | ident.id_value.isin(values)))
        for r in links.itertuples(index=False):
            if r.customer_id in customers or (r.id_type, r.id_value) in nodes:
                nodes |= {(r.id_type, r.id_value), ("customer", r.customer_id)}
                seen.add(r.customer_id)
        both = ev.filter(ev.customer_id.notnull() & ev.anonymous_id.notnull()
                         & (ev.customer_id.isin(customers) | ev.anonymous_id.isin(anons)))
        pairs = store.execute(both.select("customer_id", "anonymous_id").distinct())
        nodes |= {("customer", c) for c in pairs.customer_id}
        seen |= set(pairs.customer_id)
        own = store.execute(ev.filter(ev.customer_id.isin(customers)).select("customer_id")
                            .distinct())
        seen |= set(own.customer_id)
        nodes |= {("anonymous", a) for a in pairs.anonymous_id}
        mapped = store.execute(imap.filter(imap.id_value.isin(values)))
        labels |= {r.customer_id for r in mapped.itertuples(index=False)
                   if (r.id_type, r.id_value) in nodes}
        members = store.execute(imap.filter(imap.customer_id.isin(sorted(labels))))
        nodes |= set(zip(members.id_type, members.id_value, strict=True))
        seen |= set(members.id_value[members.id_type == "customer"])
        if (len(nodes), len(labels)) == before:
            break
    return Identifiers(frozenset(nodes), frozenset(labels), frozenset(seen))


# -- rules ---------------------------------------------------------------------------------


def _escape(value: str) -> str:
    return "".join("\\" + ch if ch in _RE_SPECIAL else ch for ch in value)


def json_value_pattern(values: Iterable[str]) -> str:
    """A regex (RE2 and Java compatible) matching any of ``values`` as a JSON string value or
    array item (``"c1"``), or unquoted after an identifier key (``"customer_id": 123``)."""
    alts = "|".join(sorted(_escape(v) for v in values))
    quoted = f'[\\[:,]\\s*"({alts})"\\s*[,\\]}}]'
    keyed = f'"({_KEYED})"\\s*:\\s*({alts})\\s*[,}}]'
    return f"{quoted}|{keyed}"


def token_pattern(values: Iterable[str]) -> str:
    """A regex matching any of ``values`` as a whole token: not inside a longer run of
    letters, digits, ``_`` or ``-`` (so "c1" does not match "c10" or "abc1")."""
    alts = "|".join(sorted(_escape(v) for v in values))
    return f"(^|[^A-Za-z0-9_-])({alts})([^A-Za-z0-9_-]|$)"


def _chunks(values: Iterable[str], size: int = CHUNK) -> list[list[str]]:
    ordered = sorted(set(values))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)] or [[]]


def json_value_patterns(values: Iterable[str]) -> list[str]:
    """:func:`json_value_pattern` over chunks of values (regex engines cap pattern size)."""
    return [json_value_pattern(chunk) for chunk in _chunks(values)]


def token_patterns(values: Iterable[str]) -> list[str]:
    """:func:`token_pattern` over chunks of values."""
    return [token_pattern(chunk) for chunk in _chunks(values)]


@dataclass
class Rule:
    """Which rows of one table belong to the person (any clause matching)."""

    table: str
    exact: dict[str, set[str]] = field(default_factory=dict)  # column -> values
    pairs: dict[str, set[str]] = field(default_factory=dict)  # id_type -> id_values
    regex: dict[str, list[str]] = field(default_factory=dict)  # column -> patterns

    def empty(self) -> bool:
        return not (self.exact or self.pairs or self.regex)

    def predicate(self, t: ir.Table) -> ir.BooleanValue:
        terms: list[ir.BooleanValue] = [t[c].isin(sorted(v)) for c, v in self.exact.items()]
        terms += [(t.id_type == k) & t.id_value.isin(sorted(v)) for k, v in self.pairs.items()]
        terms += [t[c].re_search(p) for c, pats in self.regex.items() for p in pats]
        out = terms[0].fill_null(False)
        for term in terms[1:]:
            out = out | term.fill_null(False)
        return out

    def sql(self) -> tuple[str, list[str]]:
        """A DuckDB WHERE clause with its parameters."""
        clauses: list[str] = []
        params: list[str] = []
        for col, vals in self.exact.items():
            clauses.append(f"{_quote(col)} IN ({', '.join('?' for _ in vals)})")
            params += sorted(vals)
        for id_type, vals in self.pairs.items():
            clauses.append(f"(id_type = ? AND id_value IN ({', '.join('?' for _ in vals)}))")
            params += [id_type, *sorted(vals)]
        for col, patterns in self.regex.items():
            for pattern in patterns:
                clauses.append(f"regexp_matches({_quote(col)}, ?)")
                params.append(pattern)
        return " OR ".join(clauses), params


def base_tables(store: Store) -> list[str]:
    """Every stored table (not views, not temporary), sorted."""
    if store.engine == "duckdb":
        rows = store.con.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
            "AND table_schema = current_schema() AND table_catalog = current_database()"
        ).fetchall()
        return sorted(r[0] for r in rows)
    return sorted(t.name for t in store.session.catalog.listTables()
                  if not t.isTemporary and t.tableType != "VIEW")


def text_columns(store: Store) -> dict[str, list[str]]:
    """The string columns of every stored table: {table: [column, ...]}."""
    if store.engine == "duckdb":  # one catalog query instead of an Ibis schema per table
        rows = store.con.con.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
            "WHERE t.table_type = 'BASE TABLE' AND c.table_schema = current_schema() AND "
            "c.table_catalog = current_database() AND c.data_type = 'VARCHAR' "
            "ORDER BY c.table_name, c.ordinal_position").fetchall()
        out: dict[str, list[str]] = {name: [] for name in base_tables(store)}
        for table, column in rows:
            out.setdefault(table, []).append(column)
        return out
    return {name: [c for c, dtype in store.table(name).schema().items() if dtype.is_string()]
            for name in base_tables(store)}


def owned_keys(store: Store, ids: Identifiers) -> dict[str, set[str]]:
    """Keys of the person's own records: {"event_id": …, "order_id": …, "response_id": …}.

    Derived tables keyed by these (a VoC result per response, a per-order table) go too."""
    values = sorted(ids.values)
    ev, fb = store.table("events"), store.table("feedback")
    mine = ev.filter(ev.customer_id.isin(values) | ev.anonymous_id.isin(values))
    events = store.execute(mine.select("event_id", "order_id"))
    responses = store.execute(fb.filter(fb.customer_id.isin(values)).select("response_id"))
    keys = {"event_id": _strings(events, "event_id"), "order_id": _strings(events, "order_id"),
            "response_id": _strings(responses, "response_id")}
    return {k: v for k, v in keys.items() if v}


def plan(store: Store, ids: Identifiers, *, quarantine_raw: Iterable[str] = (),
         owned: dict[str, set[str]] | None = None) -> list[Rule]:
    """The deletion rule of every table holding the person (see module docstring).

    ``quarantine_raw``: exact raw texts of quarantined rows found to hold the person's
    contact data in clear (rows written before raw rows were hashed). ``owned``: keys of the
    person's records (:func:`owned_keys`); rows of other tables with these keys go too."""
    owned = owned if owned is not None else owned_keys(store, ids)
    values = set(ids.values)
    pattern, tokens = json_value_patterns(values), token_patterns(values)
    rules = [
        # a device identifier is the person's too: their events on a cookie never linked
        # to them still carry it
        Rule("events", exact={"customer_id": values, "anonymous_id": values,
                              "device": values}),
        Rule("feedback", exact={"customer_id": values}),
        Rule("consent", exact={"customer_id": values}),
        Rule("identities", exact={"customer_id": values}, pairs=ids.by_type()),
        Rule("identity_map", exact={"customer_id": values}, pairs=ids.by_type()),
        Rule("quarantine", regex={"raw": pattern},
             exact={"raw": set(quarantine_raw)} if quarantine_raw else {}),
    ]
    for name, columns in text_columns(store).items():
        if name in SPECIFIC or name in UNTOUCHED:
            continue
        rule = Rule(name)
        for col in columns:
            if name.startswith("_"):
                rule.regex[col] = tokens
            elif col in ID_COLUMNS or col.endswith("customer_id"):
                rule.exact[col] = values
            elif col in owned:
                rule.exact[col] = owned[col]
            else:
                rule.regex[col] = pattern
        if not rule.empty():
            rules.append(rule)
    return rules


def count(store: Store, rule: Rule) -> int:
    """Rows of ``rule.table`` that belong to the person."""
    if store.engine == "duckdb":
        where, params = rule.sql()
        try:
            row = store.con.con.execute(
                f"SELECT count(*) FROM {_quote(rule.table)} WHERE {where}", params).fetchone()
        except Exception as exc:
            raise StoreError(f"searching {rule.table} failed: {exc}") from exc
        return int(row[0]) if row else 0
    t = store.table(rule.table)
    return int(store.execute(t.filter(rule.predicate(t)).count().name("n").as_table()).iloc[0, 0])


def delete(store: Store, rule: Rule) -> int:
    """Delete the person's rows from one table; returns how many went."""
    if store.engine == "duckdb":
        where, params = rule.sql()
        try:
            row = store.con.con.execute(f"DELETE FROM {_quote(rule.table)} WHERE {where}",
                                        params).fetchone()
        except Exception as exc:
            raise StoreError(f"erasing from {rule.table} failed: {exc}") from exc
        return int(row[0]) if row else 0
    n = count(store, rule)
    if n:
        t = store.table(rule.table)
        store.replace(rule.table, t.filter(~rule.predicate(t)))
    return n


def erase_rows(store: Store, ids: Identifiers, *, quarantine_raw: Iterable[str] = (),
               dry_run: bool = False) -> dict[str, int]:
    """Delete (or with ``dry_run`` count) the person's rows in every table: {table: rows}."""
    counts: dict[str, int] = {}
    rules = plan(store, ids, quarantine_raw=quarantine_raw)  # owned keys read before deleting
    for rule in rules:
        counts[rule.table] = count(store, rule) if dry_run else delete(store, rule)
    return counts


def scan(store: Store, ids: Identifiers) -> dict[str, int]:
    """Rows of every table (none excepted) still holding an identifier: equal to a cell, or
    as a whole token inside any text (JSON, node keys, free text). {table: rows}, tables
    without hits left out."""
    tokens = token_patterns(ids.values)
    hits: dict[str, int] = {}
    for name, cols in text_columns(store).items():
        if not cols:
            continue
        n = count(store, Rule(name, regex={c: tokens for c in cols}))
        if n:
            hits[name] = n
    return hits
