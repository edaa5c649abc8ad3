"""Erase: the person is gone from every table and written file; everyone else stays.

The proof is a brute-force scan: every cell of every table (and every registered file) is
searched for every identifier of the person, in clear and hashed.
"""

from __future__ import annotations

import importlib
import json
import re
from datetime import UTC, datetime

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchlens import ConfigError, Workspace
from touchlens.api.app import ANALYTICS_MODULES
from touchlens.governance.erasure import is_erased
from touchlens.io.pii import pii_hash
from touchlens.journeys import rollups
from touchlens.store.erase import base_tables
from touchlens.store.schema import EVENTS, IDENTITIES, QUARANTINE

for _module in ANALYTICS_MODULES:  # each registers its rollups
    importlib.import_module(_module)

T0 = datetime(2026, 1, 1, tzinfo=UTC)
P_ID, P_ANON, P_EMAIL, P_PHONE = "cust-7f3a", "anon-p1", "Piotr.Nowak@example.com", "601 202 303"
P_CARD, P_DEVICE = "LC-88213", "dev-p-9"
OTHERS = ["cust-7f3a0", "cust-q2"]  # the second contains P's id as a prefix: must survive


def _event_rows() -> list[dict]:
    rows = [(P_ID, P_ANON), (None, P_ANON), (P_ID, None), ("cust-q2", "anon-q1"),
            (None, "anon-q1"), ("cust-7f3a0", None), (None, "anon-lonely")]
    return [{"event_id": f"e{i}", "occurred_at": T0, "customer_id": c, "anonymous_id": a,
             "channel": "web", "touchpoint": "homepage", "event_type": "visit",
             "order_id": f"o{i}"} for i, (c, a) in enumerate(rows)]


def _identifiers(salt: str) -> dict[str, str]:
    """Every form under which P may appear (name → text searched for)."""
    return {"customer": P_ID, "anon": P_ANON, "card": P_CARD, "device": P_DEVICE,
            "email_hash": pii_hash(P_EMAIL, salt, "email"),
            "phone_hash": pii_hash(P_PHONE, salt, "phone"),
            "email": P_EMAIL.lower(), "phone": "601202303", "phone_spaced": P_PHONE}


def _token(text: str) -> re.Pattern:
    return re.compile(r"(?<![\w-])" + re.escape(text) + r"(?![\w-])", re.IGNORECASE)


def _hits_in_tables(ws: Workspace, forms: dict[str, str]) -> dict[str, list[str]]:
    """Brute force: every table, every cell as text, every identifier form."""
    found: dict[str, list[str]] = {}
    patterns = {k: _token(v) for k, v in forms.items()}
    for name in base_tables(ws.store):
        frame = ws.store.execute(ws.store.table(name))
        text = frame.astype(str).to_csv(index=False)
        hits = [k for k, pat in patterns.items() if pat.search(text)]
        if hits:
            found[name] = hits
    return found


@pytest.fixture
def world(tmp_path):
    """A workspace holding P everywhere, and two other customers."""
    ws = Workspace.open(tmp_path / "w.duckdb")
    salt = ws.store.get_meta("pii_salt")
    ws.ingest_arrow(pa.Table.from_pylist(_event_rows(), schema=EVENTS), "events")
    ws.ingest_arrow(pd.DataFrame({
        "id_type": ["email", "phone", "loyalty_card", "device", "email"],
        "id_value": [P_EMAIL, "+48" + P_PHONE, P_CARD, P_DEVICE, "q@example.com"],
        "customer_id": [P_ID, P_ID, P_ID, P_ID, "cust-q2"]}), "identities")
    ws.ingest_arrow(pd.DataFrame({
        "response_id": ["r1", "r2", "r3"], "occurred_at": [T0] * 3,
        "customer_id": [P_ID, "cust-q2", "cust-7f3a0"], "nps": [3, 9, 10],
        "text": ["piszcie: piotr.nowak@example.com", "super", "ok"]}), "feedback")
    ws.ingest_arrow(pd.DataFrame({
        "email": [P_EMAIL, "q@example.com"], "purpose": ["marketing"] * 2,
        "status": ["granted"] * 2, "occurred_at": ["2026-01-01"] * 2}), "consent")
    bad = tmp_path / "bad.csv"  # quarantined: a bad timestamp, a short row with P's email
    bad.write_text("event_id,occurred_at,customer_id,channel,event_type\n"
                   f"b1,yesterday,{P_ID},web,visit\nb2,2026-01-01,{P_EMAIL}\n"
                   "b3,yesterday,cust-q2,web,visit\n", encoding="utf-8")
    ws.ingest(bad, "events")
    legacy = {"batch_id": ["old"], "kind": ["events"], "file": ["old.csv"], "row_number": [1],
              "field": ["_row"], "reason": ["from before raw rows were hashed"],
              "raw": [json.dumps(["x", "call me on +48 601-202-303"])],
              "quarantined_at": [T0]}
    ws.store.append("quarantine", pa.table(legacy, schema=QUARANTINE))
    ws.refresh()
    for rollup in rollups.REGISTRY.values():  # the journeys and every stored rollup
        ws.rollup(rollup)
    assert any(rollups.is_current(ws.store, r) for r in rollups.REGISTRY.values())
    # derived tables as colleagues might write them
    ws.store.replace("segments", pa.table({"customer_id": [P_ID, "cust-q2", "cust-7f3a0"],
                                           "segment": ["champions", "at_risk", "new"]}))
    ws.store.replace("voc_results", pa.table({"response_id": ["r1", "r2"],
                                              "label": ["negative", "positive"]}))
    ws.store.replace("alert_evidence", pa.table({
        "alert_id": ["a1", "a2"],
        "evidence": [json.dumps({"customers": [P_ID]}), json.dumps({"customers": ["cust-q2"]})]}))
    ws.store.replace("_scratch_nodes", pa.table({"node": [f"0customer|{P_ID}", "1x|y"]}))
    # files touchlens wrote
    files = {
        "csv": tmp_path / "export.csv", "jsonl": tmp_path / "export.jsonl",
        "parquet": tmp_path / "export.parquet", "json": tmp_path / "export.json",
        "html": tmp_path / "report.html", "missing": tmp_path / "gone.csv",
    }
    seg = pd.DataFrame({"customer_id": [P_ID, "cust-q2", "cust-7f3a0"], "score": [1, 2, 3]})
    seg.to_csv(files["csv"], index=False)
    files["jsonl"].write_text("\n".join(json.dumps(r) for r in seg.to_dict("records")) + "\n")
    pq.write_table(pa.Table.from_pandas(seg, preserve_index=False), files["parquet"])
    files["json"].write_text(json.dumps(seg.to_dict("records")))
    files["html"].write_text(f"<table><tr><td>{P_ID}</td></tr></table>")
    for kind, path in files.items():
        ws.register_written_file(path, "report" if kind == "html" else "export")
    yield ws, salt, files
    ws.close()


def _other_counts(ws: Workspace) -> dict[str, int]:
    ev = ws.store.execute(ws.store.table("events"))
    return {"events": int((ev.customer_id.isin(OTHERS) | (ev.anonymous_id == "anon-q1")
                           | (ev.anonymous_id == "anon-lonely")).sum()),
            "feedback": int(ws.store.execute(ws.store.table("feedback")).customer_id
                            .isin(OTHERS).sum()),
            "segments": 2, "identities": 1}


@pytest.mark.parametrize("by", ["customer", "email", "phone"])
def test_erase_leaves_no_trace_and_keeps_everyone_else(world, by):
    ws, salt, files = world
    forms = _identifiers(salt)
    before = _hits_in_tables(ws, forms)
    assert before and any(name.startswith(rollups.PREFIX) for name in before)  # everywhere
    kwargs = {"customer": P_ID, "email": P_EMAIL.upper(), "phone": "+48 601-202-303"}
    receipt = ws.erase(**{by: kwargs[by]})

    assert _hits_in_tables(ws, forms) == {}
    assert receipt.remaining == {}
    assert receipt.n_customers == 1 and receipt.n_identifiers >= 6
    # everyone else is intact
    ev = ws.store.execute(ws.store.table("events"))
    assert sorted(ev.event_id) == ["e3", "e4", "e5", "e6"]
    assert sorted(ws.store.execute(ws.store.table("feedback")).response_id) == ["r2", "r3"]
    assert sorted(ws.store.execute(ws.store.table("segments")).customer_id) == OTHERS
    assert list(ws.store.execute(ws.store.table("voc_results")).response_id) == ["r2"]
    assert list(ws.store.execute(ws.store.table("alert_evidence")).alert_id) == ["a2"]
    assert ws.store.count("identities") == 1 and ws.store.count("consent") == 1
    assert ws.store.count("quarantine") == 1  # cust-q2's bad row
    assert sorted(ws.journeys().customer_id) == ["anonymous:anon-lonely", *OTHERS]
    # files: rewritten without P, others kept; what cannot be rewritten is listed
    for kind in ("csv", "jsonl", "json"):
        text = files[kind].read_text()
        assert not _token(P_ID).search(text) and "cust-q2" in text and "cust-7f3a0" in text
        assert receipt.files[str(files[kind])] == "rewritten: 1 row(s) removed"
    assert sorted(pq.read_table(files["parquet"]).column("customer_id").to_pylist()) == OTHERS
    assert receipt.files[str(files["html"])].startswith("unreachable")
    assert receipt.files[str(files["missing"])] == "missing"
    assert list(receipt.files_needing_action) == [str(files["html"])]


def test_receipt_and_audit_hold_no_identifier_in_clear(world):
    ws, salt, _ = world
    receipt = ws.erase(customer=P_ID)
    stored = ws.erasure_receipts()
    assert list(stored.receipt_id) == [receipt.receipt_id]
    assert json.loads(stored.rows_deleted.iloc[0])["events"] == 3
    everything = (stored.astype(str).to_csv() + ws.audit_log().astype(str).to_csv())
    for form in _identifiers(salt).values():
        assert not _token(form).search(everything)
    entry = ws.audit_log(action="erase").iloc[0]
    assert entry.target == receipt.receipt_id and entry.actor == "python"
    assert json.loads(entry.details)["subject_hash"] == receipt.subject_hash
    assert is_erased(ws.store, customer=P_ID) and not is_erased(ws.store, customer="cust-q2")


def test_erase_is_idempotent_and_dry_run_changes_nothing(world):
    ws, _, files = world
    before = {t: ws.store.count(t) for t in ("events", "feedback", "quarantine", "segments")}
    csv_before = files["csv"].read_text()
    dry = ws.erase(customer=P_ID, dry_run=True)
    assert dry.rows_deleted["events"] == 3 and dry.dry_run
    assert {t: ws.store.count(t) for t in before} == before
    assert files["csv"].read_text() == csv_before
    assert ws.erasure_receipts().empty
    ws.erase(customer=P_ID)
    again = ws.erase(customer=P_ID)
    assert again.total_rows == 0 and again.remaining == {}
    assert len(ws.erasure_receipts()) == 2


def test_customer_id_that_is_an_email_is_found_by_its_hash(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest_arrow(pd.DataFrame({"event_id": ["e1", "e2"], "occurred_at": [T0, T0],
                                      "customer_id": ["Ola@Example.com", "c2"],
                                      "channel": "web", "event_type": "visit"}), "events")
        receipt = ws.erase(email="ola@example.com")
        assert receipt.rows_deleted["events"] == 1
        assert list(ws.store.execute(ws.store.table("events")).customer_id) == ["c2"]


def test_exactly_one_identifier_is_required(world):
    ws, _, _ = world
    with pytest.raises(ConfigError, match="exactly one"):
        ws.erase(customer=P_ID, email=P_EMAIL)
    with pytest.raises(ConfigError, match="exactly one"):
        ws.erase()


# -- property: erase removes exactly the stitched component (union-find oracle) --------------

_cust = st.sampled_from(["c1", "c2", "c3", "c4"])
_anon = st.sampled_from(["a1", "a2", "a3", "a4"])
_graph = st.tuples(
    st.lists(st.tuples(st.one_of(st.none(), _cust), _anon), min_size=1, max_size=10),
    st.lists(st.tuples(st.sampled_from(["email", "device"]), st.sampled_from(["x", "y", "z"]),
                       _cust), max_size=5),
    _cust,
)


def _component(events, links, start: str) -> set[tuple[str, str]]:
    edges: dict[tuple[str, str], set[tuple[str, str]]] = {}

    def link(a, b):
        edges.setdefault(a, set()).add(b)
        edges.setdefault(b, set()).add(a)

    for c, a in events:
        if c is not None:
            link(("customer", c), ("anonymous", a))
    for t, v, c in links:
        link((t, v), ("customer", c))
    seen, todo = set(), [("customer", start)]
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(edges.get(node, ()))
    return seen


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_graph)
def test_erase_removes_exactly_the_component(graph):
    events, links, start = graph
    comp = _component(events, links, start)
    with Workspace.open(":memory:") as ws:
        rows = [{"event_id": f"e{i}", "occurred_at": T0, "customer_id": c, "anonymous_id": a,
                 "channel": "web", "touchpoint": "homepage", "event_type": "visit"}
                for i, (c, a) in enumerate(events)]
        ws.ingest_arrow(pa.Table.from_pylist(rows, schema=EVENTS), "events")
        if links:
            ws.ingest_arrow(pa.Table.from_pylist(
                [{"id_type": t, "id_value": v, "customer_id": c} for t, v, c in links],
                schema=IDENTITIES), "identities")
        ws.refresh()
        ws.erase(customer=start)
        left = ws.store.execute(ws.store.table("events"))
        expected = [f"e{i}" for i, (c, a) in enumerate(events)
                    if ("customer", c) not in comp and ("anonymous", a) not in comp]
        assert sorted(left.event_id) == sorted(expected)
        ids = ws.store.execute(ws.store.table("identities"))
        assert all(("customer", c) not in comp for c in ids.customer_id)


def test_erase_on_each_backend(make_workspace):
    ws = make_workspace()
    ws.ingest_arrow(pa.Table.from_pylist(_event_rows(), schema=EVENTS), "events")
    ws.store.replace("segments", pa.table({"customer_id": [P_ID, "cust-q2"], "s": [1, 2]}))
    receipt = ws.erase(customer=P_ID)
    assert receipt.rows_deleted["events"] == 3 and receipt.remaining == {}
    assert list(ws.store.execute(ws.store.table("segments")).customer_id) == ["cust-q2"]


def test_a_person_with_hundreds_of_identifiers(tmp_path):
    rows = [{"event_id": f"e{i}", "occurred_at": T0, "customer_id": "heavy",
             "anonymous_id": f"cookie-{i}", "channel": "web", "touchpoint": "homepage",
             "event_type": "visit"} for i in range(450)]
    rows.append({**rows[0], "event_id": "other", "customer_id": "light", "anonymous_id": "x"})
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest_arrow(pa.Table.from_pylist(rows, schema=EVENTS), "events")
        ws.store.replace("evidence", pa.table({"json": [json.dumps(["cookie-449"]),
                                                        json.dumps(["x"])]}))
        receipt = ws.erase(customer="heavy")
        assert receipt.n_identifiers == 451 and receipt.remaining == {}
        assert receipt.rows_deleted["evidence"] == 1
        assert list(ws.store.execute(ws.store.table("events")).event_id) == ["other"]


def test_events_on_an_unlinked_cookie_that_carry_the_persons_device(tmp_path):
    """The person's device (an identifier of theirs) on a cookie never linked to them:
    those events are theirs and go; another device's stay."""
    ws = Workspace.open(tmp_path / "d.duckdb")
    ws.ingest_arrow(pd.DataFrame({"id_type": ["device"], "id_value": [P_DEVICE],
                                  "customer_id": [P_ID]}), "identities")
    rows = [{"event_id": "d1", "occurred_at": T0, "customer_id": P_ID, "anonymous_id": None,
             "channel": "web", "touchpoint": "homepage", "event_type": "visit",
             "device": None},
            {"event_id": "d2", "occurred_at": T0, "customer_id": None,
             "anonymous_id": "anon-unlinked", "channel": "web", "touchpoint": "homepage",
             "event_type": "visit", "device": P_DEVICE},
            {"event_id": "d3", "occurred_at": T0, "customer_id": None,
             "anonymous_id": "anon-other", "channel": "web", "touchpoint": "homepage",
             "event_type": "visit", "device": "dev-someone-else"}]
    ws.ingest_arrow(pa.Table.from_pylist(rows), "events")
    ws.journey_events()  # the journey cache holds the device too
    receipt = ws.erase(customer=P_ID)
    assert receipt.remaining == {}
    assert sorted(ws.store.execute(ws.store.table("events")).event_id) == ["d3"]
    ws.close()


def test_every_simulated_customer_is_erased_without_remainder(tmp_path):
    """Each customer of a simulated retailer (cookies, devices, emails, journeys), erased
    from a fresh copy: the verification scan finds nothing of them anywhere."""
    import shutil

    from touchlens.simulate import simulate_retailer

    world = simulate_retailer(60, seed=3, days=30)
    base = tmp_path / "base.duckdb"
    with Workspace.open(base) as ws:
        for kind in ("events", "identities", "feedback", "consent"):
            ws.ingest_arrow(getattr(world, kind), kind)
        ws.journey_events()
        customers = sorted(ws.store.execute(ws.store.table("events")).customer_id.dropna()
                           .unique())
    assert len(customers) >= 40
    left = {}
    for customer in customers:
        copy = tmp_path / "copy.duckdb"
        shutil.copy(base, copy)
        with Workspace.open(copy) as ws:
            remaining = ws.erase(customer=customer).remaining
        copy.unlink()
        if remaining:
            left[customer] = remaining
    assert left == {}
