"""Incremental refresh: after appended events the stored identity map and journeys equal a
full rebuild's, row for row; anything but appends falls back to the full rebuild."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from touchlens import Workspace
from touchlens.journeys import incremental
from touchlens.store.schema import CUSTOMER_TOUCHPOINTS_CACHE, JOURNEY_CACHE, JOURNEYS_CACHE
from touchlens.workspace import JOURNEY_CACHE_KEY

TABLES = {"identity_map": ["id_type", "id_value"], JOURNEY_CACHE: ["event_id"],
          JOURNEYS_CACHE: ["journey_id"], CUSTOMER_TOUCHPOINTS_CACHE: ["customer_id", "touchpoint"]}


@pytest.fixture(scope="module")
def world():
    from touchlens.simulate import simulate_retailer

    return simulate_retailer(500, seed=4, days=40)


def _stored(ws: Workspace) -> dict[str, pd.DataFrame]:
    ws.journey_events()
    out = {}
    for name, key in TABLES.items():
        df = ws.store.execute(ws.store.table(name))
        out[name] = df.sort_values(key, ignore_index=True)[sorted(df.columns)]
    return out


def _assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for name in TABLES:
        pd.testing.assert_frame_equal(a[name], b[name], check_dtype=False, obj=name)


def _open(path: Path) -> Workspace:
    """A workspace with a fixed PII salt: hashed emails compare across workspaces."""
    ws = Workspace.open(path)
    ws.store.set_meta("pii_salt", "salt-for-comparing")
    return ws


def _full(path: Path, identities: pa.Table, *events: pa.Table) -> dict[str, pd.DataFrame]:
    """The tables of one build from scratch over all of ``events``."""
    with _open(path) as ws:
        ws.ingest_arrow(identities, "identities")
        for part in events:
            ws.ingest_arrow(part, "events")
        return _stored(ws)


def _built_without(ws: Workspace, world, late: pa.Array) -> None:
    """The world's identities and every event but the ``late`` ones, journeys built."""
    ws.ingest_arrow(world.identities, "identities")
    ws.ingest_arrow(world.events.filter(pa.compute.invert(late)), "events")
    _stored(ws)


def _login(event_id: str, customer: str, cookie: str, day: int) -> dict:
    return {"event_id": event_id, "occurred_at": f"2026-01-{day:02d}T12:00:00Z",
            "customer_id": customer, "anonymous_id": cookie, "channel": "web",
            "touchpoint": "homepage", "event_type": "page_view"}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_appended_events_give_the_full_rebuilds_tables(tmp_path, world, taken, seed) -> None:
    events = world.events
    rng = np.random.default_rng(seed)
    late = rng.random(events.num_rows) < 0.03  # old and new timestamps alike, logins too
    base, delta = events.filter(pa.array(~late)), events.filter(pa.array(late))
    with _open(tmp_path / "inc.duckdb") as ws:
        ws.ingest_arrow(world.identities, "identities")
        ws.ingest_arrow(base, "events")
        _stored(ws)  # the full build
        ws.ingest_arrow(delta, "events")
        updated = _stored(ws)
    assert taken == [True]
    _assert_same(updated, _full(tmp_path / "full.duckdb", world.identities, events))


def test_later_updates_read_the_rows_past_the_mark(tmp_path, world, taken, monkeypatch
                                                  ) -> None:
    """After the first update the next ones take the events past the stored row mark (no
    comparison of every id); a mark that does not match what is stored (rows renumbered,
    deleted, or a wrong mark) only costs a full rebuild, never a missed event."""
    events = world.events
    parts = np.array_split(np.arange(events.num_rows), 100)  # appends of 1% each
    base = events.take(pa.array(np.concatenate(parts[:96])))
    with _open(tmp_path / "inc.duckdb") as ws:
        ws.ingest_arrow(world.identities, "identities")
        ws.ingest_arrow(base, "events")
        _stored(ws)
        assert ws.store.get_meta(incremental.MARK_KEY) == ""  # a full build: no mark
        compared: list[int] = []
        real = ws.store.appended_since

        def past(name: str, mark: int):
            compared.append(mark)
            return real(name, mark)

        built = [int(ws.store.get_meta(key).split(";")[0])
                 for key in (incremental.BUILD_MARK_KEY, incremental.STITCH_MARK_KEY)]
        monkeypatch.setattr(ws.store, "appended_since", past)
        for i in (96, 97):
            ws.ingest_arrow(events.take(pa.array(parts[i])), "events")
            _stored(ws)
            if i == 96:
                first = int(ws.store.get_meta(incremental.MARK_KEY))
        # the first update: the events past the full build's marks; the second: past its
        assert taken == [True, True] and compared == [*built, first]
        # a wrong mark (too low: cached rows look new) falls back to a full rebuild
        ws.store.set_meta(incremental.MARK_KEY, "0")
        ws.ingest_arrow(events.take(pa.array(parts[98])), "events")
        _stored(ws)
        assert taken[-1] is False
        ws.ingest_arrow(events.take(pa.array(parts[99])), "events")
        updated = _stored(ws)
    assert taken[-1] is True
    _assert_same(updated, _full(tmp_path / "full.duckdb", world.identities, events))


def test_a_login_that_joins_two_customers_moves_both(tmp_path, world, taken, two_known) -> None:
    # two customers with journeys of their own, then one cookie used by both: one person
    first, second = two_known
    delta = pa.Table.from_pylist([_login("j-1", first, "cookie-shared", 10),
                                  _login("j-2", second, "cookie-shared", 11),
                                  {**_login("j-3", first, "cookie-other", 12),
                                   "customer_id": None, "anonymous_id": "cookie-shared"}])
    with _open(tmp_path / "inc.duckdb") as ws:
        ws.ingest_arrow(world.identities, "identities")
        ws.ingest_arrow(world.events, "events")
        before = _stored(ws)
        assert ws.ingest_arrow(delta, "events").stored.sum() == 3
        updated = _stored(ws)
    assert taken == [True]
    labels = before["identity_map"].set_index(["id_type", "id_value"]).customer_id
    assert labels[("customer", first)] != labels[("customer", second)]
    now = updated["identity_map"].set_index(["id_type", "id_value"]).customer_id
    assert now[("customer", first)] == now[("customer", second)] == now[
        ("anonymous", "cookie-shared")]
    full = _full(tmp_path / "full.duckdb", world.identities, world.events, delta)
    _assert_same(updated, full)


def test_no_new_event_changes_nothing(tmp_path, world, taken) -> None:
    with _open(tmp_path / "inc.duckdb") as ws:
        ws.ingest_arrow(world.identities, "identities")
        ws.ingest_arrow(world.events, "events")
        before = _stored(ws)
        ws.store.set_meta("identity_map_stale", "1")  # e.g. a batch of duplicates only
        _assert_same(_stored(ws), before)
    assert taken == [True]


def test_anything_but_appends_rebuilds_everything(tmp_path, world, taken) -> None:
    events = world.events
    with _open(tmp_path / "inc.duckdb") as ws:
        ws.ingest_arrow(world.identities, "identities")
        ws.ingest_arrow(events, "events")
        _stored(ws)
        # an erasure removes rows of the stored tables: their fingerprint changes
        ev = events.to_pandas()
        who = ev[ev.customer_id.notna()].customer_id.iloc[0]
        ws.erase(customer=who)
        after_erasure = _stored(ws)
        # new identities change links anywhere in the graph
        extra = pa.Table.from_pylist([{"id_type": "anonymous", "id_value": "cookie-x",
                                       "customer_id": "C-new"}])
        ws.ingest_arrow(extra, "identities")
        with_identity = _stored(ws)
        # more new events than the share worth updating in place
        many = pa.Table.from_pylist([_login(f"m-{i}", f"C-m{i}", f"ck-{i}", 5)
                                     for i in range(int(0.06 * events.num_rows))])
        assert ws.ingest_arrow(many, "events").stored.sum() == many.num_rows
        _stored(ws)
        assert ws.store.get_meta(JOURNEY_CACHE_KEY)
    assert taken == [False, False, False]
    assert who not in set(after_erasure[JOURNEY_CACHE].customer_id)
    assert with_identity["identity_map"].id_value.eq("cookie-x").any()


def test_a_failed_update_is_rolled_back_and_rebuilt(tmp_path, world, monkeypatch) -> None:
    events = world.events
    late = pa.array(np.arange(events.num_rows) % 50 == 0)
    with _open(tmp_path / "inc.duckdb") as ws:
        _built_without(ws, world, late)
        ws.ingest_arrow(events.filter(late), "events")

        def broken(*_: object, **__: object) -> None:
            raise RuntimeError("disk full")

        monkeypatch.setattr(incremental, "_update", broken)
        rebuilt = _stored(ws)
        assert not ws.store.con.list_tables(like=f"^{incremental.WORK}")
    _assert_same(rebuilt, _full(tmp_path / "full.duckdb", world.identities, events))


def test_the_cache_is_checked_against_the_map_once_after_a_full_build(tmp_path, world, taken,
                                                                     monkeypatch) -> None:
    checks: list[int] = []
    real = incremental._unstitched

    def counted(*args: object) -> object:
        checks.append(1)
        return real(*args)

    monkeypatch.setattr(incremental, "_unstitched", counted)
    events = world.events
    part = pa.array(np.arange(events.num_rows) % 40)
    first, second = pa.compute.equal(part, 0), pa.compute.equal(part, 1)
    base = events.filter(pa.compute.greater(part, 1))
    with _open(tmp_path / "inc.duckdb") as ws:
        ws.ingest_arrow(world.identities, "identities")
        ws.ingest_arrow(base, "events")
        _stored(ws)
        for late in (first, second):
            ws.ingest_arrow(events.filter(late), "events")
            updated = _stored(ws)
    assert taken == [True, True] and checks == [1]
    _assert_same(updated, _full(tmp_path / "full.duckdb", world.identities, events))


@pytest.mark.parametrize("marks", ["kept", "lost"])
def test_the_first_update_checks_the_events_past_the_builds_marks(tmp_path, world, taken,
                                                                  monkeypatch, marks) -> None:
    """Events up to the marks a full build took were in its snapshots: neither compared
    with the cache's ids nor checked against the map (every event was, ~4 s at 10M). A
    workspace built before the marks were kept (or whose marks cannot be trusted) checks
    every cached event, as before. The same tables as a full build either way."""
    checked: list[int] = []
    real = incremental._unstitched

    def counted(cached, imap):
        checked.append(int(cached.count().to_pyarrow().as_py()))
        return real(cached, imap)

    monkeypatch.setattr(incremental, "_unstitched", counted)
    events = world.events
    late = pa.array(np.arange(events.num_rows) % 30 == 0)
    with _open(tmp_path / "inc.duckdb") as ws:
        _built_without(ws, world, late)
        for key in (incremental.STITCH_MARK_KEY, incremental.BUILD_MARK_KEY):
            mark, rows = (int(k) for k in ws.store.get_meta(key).split(";"))
            assert rows == ws.store.count("events") and mark >= rows - 1
            if marks == "lost":
                ws.store.set_meta(key, "")
        n_cached = ws.store.count(JOURNEY_CACHE)
        ws.ingest_arrow(events.filter(late), "events")
        updated = _stored(ws)
    # kept: the new events are not in the cache yet, no cached event was suspect
    assert taken == [True] and checked == [0 if marks == "kept" else n_cached]
    _assert_same(updated, _full(tmp_path / "full.duckdb", world.identities, events))


def test_a_mark_is_not_trusted_once_an_event_up_to_it_has_gone(tmp_path, world) -> None:
    with _open(tmp_path / "inc.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        _stored(ws)
        store = ws.store
        n = store.count("events")

        past = incremental._past(store, incremental.STITCH_MARK_KEY)
        assert n > 0 and store.scalar(past.count()) == 0
        store.con.con.execute("DELETE FROM events WHERE rowid = 3")
        assert incremental._past(store, incremental.STITCH_MARK_KEY) is None  # read all
        store.set_meta(incremental.BUILD_MARK_KEY, "garbage")
        assert incremental._past(store, incremental.BUILD_MARK_KEY) is None
