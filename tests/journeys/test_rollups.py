"""Rollups (:mod:`touchlens.journeys.rollups`): every registered one is a sum over customers,
and a stored one equals the expression over the current journeys after incremental
updates (appends, a login that joins two customers), full builds and failures."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from touchlens import Workspace
from touchlens.attribution import stored as AS  # each reader module registers its rollups
from touchlens.insights import consistency as C  # each reader module registers its rollups
from touchlens.insights import flows as F
from touchlens.insights import funnels as FU
from touchlens.insights import journey_map as JM
from touchlens.insights import recommend as R
from touchlens.journeys import rollups
from touchlens.monitoring.kpis import ACTIVITY, kpi_frame, kpi_table, sentiment_table


@pytest.fixture(scope="module")
def world():
    from touchlens.simulate import simulate_retailer

    return simulate_retailer(400, seed=8, days=60)


def _frame(ws: Workspace, expr, rollup: rollups.Rollup) -> pd.DataFrame:
    df = ws.store.execute(expr)
    df = df.sort_values(list(rollup.keys), ignore_index=True)[sorted(df.columns)]
    values = [c for c in df.columns if c not in rollup.keys
              and pd.api.types.is_numeric_dtype(df[c])
              and not pd.api.types.is_bool_dtype(df[c])]
    return df.astype({c: "float64" for c in values})


def _context(ws: Workspace, rollup: rollups.Rollup):
    return None if rollup.context_of is None else rollup.context_of(ws)


def _assert_current(ws: Workspace) -> None:
    """Each registered rollup as stored (no rebuild: already current) equals its expression
    over the journeys as they are now."""
    tagged = ws.journey_events()
    for rollup in rollups.REGISTRY.values():
        context = _context(ws, rollup)
        kept = ws.store.get_meta(rollup.context_key)
        if kept is not None and json.loads(kept) != context:
            # a context read from the data moved with it (the consistency's purposes: a
            # touchpoint hosting its first conversion): rebuilt on its next read
            assert not rollups.is_current(ws.store, rollup, context), rollup.name
        else:
            assert rollups.is_current(ws.store, rollup, context), rollup.name
        stored = _frame(ws, ws.rollup(rollup), rollup)
        computed = _frame(ws, rollup.of(tagged, _context(ws, rollup)), rollup)
        assert len(stored) > 0, rollup.name
        pd.testing.assert_frame_equal(stored, computed, check_dtype=False, rtol=1e-12,
                                      obj=rollup.name)


def _open(path: Path, world) -> Workspace:
    ws = Workspace.open(path)
    ws.ingest_arrow(world.identities, "identities")
    return ws


def _login(event_id: str, customer: str | None, cookie: str, day: int) -> dict:
    return {"event_id": event_id, "occurred_at": f"2026-01-{day:02d}T12:00:00Z",
            "customer_id": customer, "anonymous_id": cookie, "channel": "web",
            "touchpoint": "homepage", "event_type": "purchase", "revenue": 10.0,
            "cost": 0.25}


@pytest.mark.parametrize("seed", [0, 1])
def test_every_registered_rollup_is_a_sum_over_customers(tmp_path, world, seed) -> None:
    """build(A ∪ B) = build(A) + build(B) for customers split at random (per customer:
    build(A) and build(B) side by side)."""
    assert {"kpi_activity_day", "kpi_activity_hour", "touchpoint_usage",
            "stage_funnel_customers", "flow_links", "flow_anchors",
            "repeat_touches", "journey_map_reach", AS.TRANSITIONS.name,
            R.MESSAGE_MIX.name} <= set(rollups.REGISTRY)
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        tagged = ws.journey_events()
        customers = ws.store.execute(tagged.select("customer_id").distinct())["customer_id"]
        half = customers.sample(frac=0.5, random_state=seed).tolist()
        for rollup in rollups.REGISTRY.values():
            # the halves carry only the columns the rollup declares (as an update's copy)
            narrow = tagged.select(*rollups.columns([rollup]))
            a = narrow.filter(narrow.customer_id.isin(half))
            b = narrow.filter(~narrow.customer_id.isin(half))
            context = _context(ws, rollup)
            whole = _frame(ws, rollup.of(tagged, context), rollup).set_index(
                list(rollup.keys))
            parts = pd.concat([_frame(ws, rollup.of(t, context), rollup) for t in (a, b)])
            if rollup.per_customer:
                summed = parts.set_index(list(rollup.keys)).sort_index()
                whole = whole.sort_index()
            else:
                summed = parts.groupby(list(rollup.keys), dropna=False).sum()
                assert len(parts) > len(whole)  # groups shared by both halves were added up
            summed = summed.loc[whole.index]
            pd.testing.assert_frame_equal(summed, whole, check_dtype=False, rtol=1e-12,
                                          obj=rollup.name)


def test_stored_rollups_follow_appended_events(tmp_path, world, taken) -> None:
    events = world.events
    parts = np.array_split(np.random.default_rng(3).permutation(events.num_rows), 50)
    base = events.take(pa.array(np.concatenate(parts[:47])))
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(base, "events")
        for rollup in rollups.REGISTRY.values():
            ws.rollup(rollup)  # stored on first use
        _assert_current(ws)
        for part in parts[47:]:  # old and new timestamps alike: any day may change
            ws.ingest_arrow(events.take(pa.array(part)), "events")
            _assert_current(ws)
    assert taken == [True, True, True]


def test_the_workspace_imports_every_module_declaring_rollups() -> None:
    from touchlens.workspace import ROLLUP_MODULES

    declared = {r.build.__module__ for r in rollups.REGISTRY.values()}
    above = {m for m in declared if not m.startswith("touchlens.journeys.")}
    assert above and above <= set(ROLLUP_MODULES)


def test_an_update_in_a_process_that_reads_none_keeps_every_rollup_current(tmp_path,
                                                                           world) -> None:
    """A process that only ingests (a CLI job) updates the journeys: every stored rollup is
    merged, none left stale for its reader to rebuild."""
    import json
    import subprocess
    import sys

    events = world.events
    late = np.random.default_rng(4).random(events.num_rows) < 0.03
    db = tmp_path / "ws.duckdb"
    with _open(db, world) as ws:
        ws.ingest_arrow(events.filter(pa.array(~late)), "events")
        for rollup in rollups.REGISTRY.values():
            ws.rollup(rollup)
    pq_path = tmp_path / "late.parquet"
    import pyarrow.parquet as pq

    pq.write_table(events.filter(pa.array(late)), pq_path)
    script = (
        "import json, sys\n"
        "import pyarrow.parquet as pq\n"
        "from touchlens import Workspace\n"
        "from touchlens.journeys import rollups\n"
        "ws = Workspace.open(sys.argv[1])\n"
        "ws.ingest_arrow(pq.read_table(sys.argv[2]), 'events')\n"
        "ws.journey_events()\n"
        "gen = rollups.generation(ws.store)\n"
        "stamps = ws.store.execute(ws.store.table('meta'))\n"
        "stamps = stamps[stamps.key.str.startswith('rollup:')]\n"
        "print(json.dumps({k[7:]: v.split('#')[0].split('@')[1] == gen\n"
        "                  for k, v in zip(stamps.key, stamps.value)}))\n")
    out = subprocess.run([sys.executable, "-c", script, str(db), str(pq_path)],
                         capture_output=True, text=True, check=True)
    current = json.loads(out.stdout.strip().splitlines()[-1])
    assert set(current) == set(rollups.REGISTRY)
    assert all(current.values()), [name for name, ok in current.items() if not ok]


def test_a_login_that_joins_two_customers(tmp_path, world, taken, two_known) -> None:
    """Two customers become one: their counts move, a day's customer count drops by one."""
    first, second = two_known
    delta = pa.Table.from_pylist([_login("j-1", first, "cookie-shared", 10),
                                  _login("j-2", second, "cookie-shared", 10),
                                  _login("j-3", None, "cookie-shared", 10)])
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        day = ACTIVITY["day"]
        before = ws.store.execute(ws.rollup(day))
        for rollup in rollups.REGISTRY.values():
            ws.rollup(rollup)
        ws.ingest_arrow(delta, "events")
        _assert_current(ws)
        after = ws.store.execute(ws.rollup(day))
    assert taken == [True]
    at = pd.Timestamp("2026-01-10", tz="UTC")

    def homepage(df: pd.DataFrame) -> pd.Series:
        ts = pd.to_datetime(df["period_start"])
        ts = ts.dt.tz_localize("UTC") if ts.dt.tz is None else ts.dt.tz_convert("UTC")
        rows = df[(df["touchpoint"] == "homepage") & (ts == at)]
        empty = {"n_events": 0, "n_customers": 0, "n_converted": 0}
        return rows.iloc[0] if len(rows) else pd.Series(empty)

    old, new = homepage(before), homepage(after)
    assert new["n_events"] == old["n_events"] + 3
    assert new["n_customers"] - old["n_customers"] <= 1  # the two are one customer now


def test_a_full_build_drops_them_and_a_stale_one_is_built_again(tmp_path, world) -> None:
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        day = ACTIVITY["day"]
        ws.rollup(day)
        assert ws.store.exists(day.table)
        ws.refresh(force=True)  # a full rebuild of the map, then of the journeys
        ws.journey_events()
        assert not ws.store.exists(day.table) and not rollups.is_current(ws.store, day)
        ws.rollup(day)
        rollups.new_generation(ws.store)  # e.g. an update by a process without the module
        assert not rollups.is_current(ws.store, day)
        _frame(ws, ws.rollup(day), day)
        _assert_current_one(ws, day)


def _assert_current_one(ws: Workspace, rollup: rollups.Rollup) -> None:
    assert rollups.is_current(ws.store, rollup, _context(ws, rollup))
    stored = _frame(ws, ws.store.table(rollup.table), rollup)
    computed = _frame(ws, rollup.build(ws.journey_events()), rollup)
    pd.testing.assert_frame_equal(stored, computed, check_dtype=False)


def test_a_rollup_that_cannot_be_stored_is_computed(tmp_path, world, monkeypatch) -> None:
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        ws.journey_events()

        def conflict(name, obj):
            raise RuntimeError("write-write conflict")

        monkeypatch.setattr(ws.store, "replace", conflict)
        day = ACTIVITY["day"]
        got = _frame(ws, ws.rollup(day), day)
        assert not ws.store.exists(day.table) and not rollups.is_current(ws.store, day)
        pd.testing.assert_frame_equal(got, _frame(ws, day.build(ws.journey_events()), day))


def test_a_new_process_reads_a_stored_rollup_with_the_schema_its_build_recorded(
        tmp_path, world, monkeypatch) -> None:
    """No expression is built to learn a stored rollup's types in a new process (a CLI
    command, a restarted server): its build recorded them. A record of other inputs (the
    tagged events' columns, the context), or one that cannot be read, is not used."""
    from touchlens.insights.experience import QUIET_BUYERS

    builds = []
    real = QUIET_BUYERS.build
    counted = dataclasses.replace(
        QUIET_BUYERS, build=lambda *a: builds.append(1) or real(*a))
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        tagged, context = ws.journey_events(), _context(ws, QUIET_BUYERS)
        monkeypatch.setattr(rollups, "_SCHEMAS", {})
        first = rollups.stored(ws.store, counted, tagged, context)  # built, recorded
        assert builds == [1]
        want = ws.store.execute(first.order_by("customer_id"))
        for _ in range(2):  # "new processes"
            monkeypatch.setattr(rollups, "_SCHEMAS", {})
            again = rollups.stored(ws.store, counted, tagged, context)
            assert builds == [1] and again.schema() == first.schema()
            pd.testing.assert_frame_equal(ws.store.execute(again.order_by("customer_id")),
                                          want)
        # other inputs: the expression is built for its schema (and the table read)
        monkeypatch.setattr(rollups, "_SCHEMAS", {})
        narrow = tagged.select(*rollups.columns([QUIET_BUYERS]))
        rollups.stored(ws.store, counted, narrow, context)
        assert builds == [1, 1]
        monkeypatch.setattr(rollups, "_SCHEMAS", {})
        ws.store.set_meta(QUIET_BUYERS.schema_key, "{not json")
        rollups.stored(ws.store, counted, tagged, context)
        assert builds == [1, 1, 1]


@pytest.mark.parametrize("grain", ["day", "hour"])
def test_the_kpi_grid_from_stored_counts_is_the_computed_one(tmp_path, world, grain) -> None:
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.feedback, "feedback")
        since = pd.Timestamp(ws.store.execute(ws.store.table("events").occurred_at.min()
                                              .name("m").as_table())["m"].iloc[0])
        since = (since.tz_localize("UTC") if since.tzinfo is None else since) + pd.Timedelta(
            days=33)
        since = since.floor("D")
        for kwargs in ({}, {"since": since}, {"since": since, "until": since + pd.Timedelta(
                days=10)}):
            got = ws.kpis(grain=grain, **kwargs)
            assert rollups.is_current(ws.store, ACTIVITY[grain])
            history = kwargs.get("since")
            history = None if history is None else history - pd.Timedelta(weeks=4)
            want = kpi_frame(ws.store.execute(kpi_table(
                ws.events(), ws.store.table("feedback"), grain=grain,
                sentiment=sentiment_table(ws.store), since=history,
                until=kwargs.get("until"))))
            if history is not None:
                want = want[want["period_start"] >= kwargs["since"]].reset_index(drop=True)
            assert len(got) > 50 and got["n_events"].sum() > 0
            pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_anomalies_judged_on_stored_counts_are_those_of_the_computed_grid(tmp_path, world,
                                                                          monkeypatch) -> None:
    from touchlens.monitoring import service

    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        ws.ingest_arrow(world.feedback, "feedback")
        stored = ws.detect_anomalies(save=False)
        assert rollups.is_current(ws.store, ACTIVITY["day"])
        monkeypatch.setattr(ws, "journeys_stored", lambda: False)
        computed = service.detect_anomalies(ws, save=False)
    cols = [c for c in stored.columns if c not in ("alert_id", "created_at", "detected_at")]
    pd.testing.assert_frame_equal(stored[cols].reset_index(drop=True),
                                  computed[cols].reset_index(drop=True), check_dtype=False)


def test_the_catalogue_from_stored_counts_is_the_computed_one(tmp_path, world) -> None:
    from touchlens.journeys import catalogue
    from touchlens.journeys.catalogue import USAGE, touchpoint_usage

    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        before = ws.touchpoints()  # nothing built yet: from the events
        assert not ws.store.exists(USAGE.table)
        ws.journey_events()
        stored = ws.touchpoints()
        assert rollups.is_current(ws.store, USAGE)
        usage = ws.store.execute(touchpoint_usage(ws.store.table("events")))
        computed = catalogue(ws.store.execute(ws.store.table("touchpoints")), usage)
    assert stored["n_events"].sum() == world.events.num_rows - int(
        pd.isna(world.events.column("touchpoint").to_pandas()).sum())
    for frame in (before, computed):
        pd.testing.assert_frame_equal(stored, frame)


def test_the_kept_catalogue_follows_new_events_and_the_users_rows(tmp_path, world) -> None:
    """The catalogue kept with the stored usage counts (one workspace asks again and again)
    shows a new touchpoint's events and a changed user row at once."""
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        ws.journey_events()
        first = ws.touchpoints()
        assert ws.touchpoints().equals(first)
        new = pa.Table.from_pylist([{**_login("kiosk-1", None, "kiosk-cookie", 20),
                                     "touchpoint": "pop_up_kiosk", "channel": "events",
                                     "event_type": "visit"}])
        ws.ingest_arrow(new, "events")
        ws.journey_events()
        row = ws.touchpoints().set_index("touchpoint").loc["pop_up_kiosk"]
        assert (row["n_events"], row["source"]) == (1, "auto")
        ws.ingest_arrow(pa.Table.from_pylist([{"touchpoint": "pop_up_kiosk",
                                               "channel": "events", "stage": "awareness"}]),
                        "touchpoints")
        row = ws.touchpoints().set_index("touchpoint").loc["pop_up_kiosk"]
        assert (row["stage"], row["source"], row["n_events"]) == ("awareness", "user", 1)
    assert "pop_up_kiosk" not in set(first["touchpoint"])


def _computed_funnel(ws: Workspace) -> pd.DataFrame:
    from touchlens.store.schema import STAGES

    units = FU.stage_funnel_units(ws.journey_events(), ws.touchpoints())
    return FU.funnel_frame(ws.store.execute(FU.funnel_counts(units, len(STAGES))),
                           list(STAGES), None)


def test_the_stage_funnel_from_stored_stages_follows_the_catalogue(tmp_path, world,
                                                                    taken) -> None:
    """Read from the stored stages per customer: the computed funnel's numbers, after new
    events too; a touchpoint moved to another stage rebuilds them with the new stages."""
    CUSTOMER_STAGES = FU.CUSTOMER_STAGES
    events = world.events
    late = np.random.default_rng(5).random(events.num_rows) < 0.02
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(events.filter(pa.array(~late)), "events")
        first = ws.funnel()
        assert rollups.is_current(ws.store, CUSTOMER_STAGES, _context(ws, CUSTOMER_STAGES))
        pd.testing.assert_frame_equal(first, _computed_funnel(ws))
        ws.ingest_arrow(events.filter(pa.array(late)), "events")
        updated = ws.funnel()
        assert taken == [True]
        pd.testing.assert_frame_equal(updated, _computed_funnel(ws))
        assert updated["n"].iloc[0] >= first["n"].iloc[0]
        # newsletters are now a purchase-stage touchpoint: the stages are built again
        moved = ws.touchpoints().set_index("touchpoint").loc["newsletter"]
        assert moved["stage"] != "purchase"
        row = {c: moved.get(c, "") for c in ("channel", "medium", "control", "cost_type",
                                             "primary_metric", "description")}
        ws.ingest_arrow(pd.DataFrame([{"touchpoint": "newsletter", **row,
                                       "stage": "purchase"}]), "touchpoints")
        changed = ws.funnel()
        pd.testing.assert_frame_equal(changed, _computed_funnel(ws))
        assert not changed["n"].equals(updated["n"])


def test_flows_and_repeats_from_stored_links_are_the_computed_ones(tmp_path, world) -> None:
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        tagged = ws.journey_events()
        anchors = ["product_page", "cart", "newsletter", "(conversion)", "no-such-place"]
        for anchor in anchors:
            for direction in ("after", "before"):
                for steps in (1, 2, 3, 4):
                    got = ws.flows(anchor, direction=direction, steps=steps)
                    counts, n = F.flow_links(tagged, anchor, direction=direction, steps=steps)
                    want = F.flows_frame(ws.store.execute(counts),
                                         int(ws.store.execute(n).iloc[0, 0]), direction)
                    pd.testing.assert_frame_equal(got, want, check_dtype=False,
                                                  obj=f"{anchor} {direction} {steps}")
        assert rollups.is_current(ws.store, F.FLOW_LINKS)
        assert len(ws.flows("product_page", steps=3)) > 10
        repeats = ws.repeats()
        assert rollups.is_current(ws.store, F.REPEATS)
        want = F.repeats_frame(ws.store.execute(F.repeat_touches(tagged)))
        pd.testing.assert_frame_equal(repeats, want, check_dtype=False)


def test_the_journey_maps_reach_is_read_stored(tmp_path, world) -> None:
    from touchlens.journeys import customer_touchpoints

    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        stages = ws.journey_map().stages
        context = _context(ws, JM.REACH)
        assert rollups.is_current(ws.store, JM.REACH, context) and context
        computed = JM.split_reach(ws.store.execute(JM.reach_counts(
            customer_touchpoints(ws.journey_events()), ws.touchpoints())))
        stored = JM.split_reach(ws.store.execute(ws.rollup(JM.REACH)))
    for got, want in zip(stored[:2], computed[:2], strict=True):
        key = got.columns[0]
        pd.testing.assert_frame_equal(got.sort_values(key, ignore_index=True),
                                      want.sort_values(key, ignore_index=True))
    assert stored[2] == computed[2] > 100
    assert stages["reach"].sum() > 0


def test_the_journey_maps_bursts_are_read_stored(tmp_path, world) -> None:
    from touchlens.journeys.touchpoints import message_bursts

    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.events, "events")
        ws.journey_map()  # stores the bursts it reads
        assert rollups.is_current(ws.store, JM.BURSTS)
        stored = ws.store.execute(ws.rollup(JM.BURSTS))
        computed = ws.store.execute(JM.duplicated_messages(message_bursts(ws.journey_events())))
    stored, computed = (df.sort_values("touchpoint", ignore_index=True)
                        for df in (stored, computed))
    pd.testing.assert_frame_equal(stored, computed, check_dtype=False)
    assert stored["recipients"].sum() > 0


def test_the_consistency_from_stored_counts_is_the_computed_one(tmp_path, world,
                                                                 taken) -> None:
    """The consistency's event mix and journeys per purpose and channel read stored: the
    computed table, after appended events too."""
    from touchlens.insights import service

    events = world.events
    late = np.random.default_rng(6).random(events.num_rows) < 0.02
    with _open(tmp_path / "ws.duckdb", world) as ws:
        for part in (events.filter(pa.array(~late)), events.filter(pa.array(late))):
            ws.ingest_arrow(part, "events")
            stored = service.consistency(ws)
            assert rollups.is_current(ws.store, C.CHANNEL_JOURNEYS,
                                      _context(ws, C.CHANNEL_JOURNEYS))
            computed = service._consistency(ws, None, ws.journey_events(), None,
                                            ws.touchpoints())
            assert len(stored) > 3
            pd.testing.assert_frame_equal(stored, computed)
    assert taken == [True]


def test_moments_from_stored_units_are_the_computed_ones(tmp_path, world, taken) -> None:
    """The moments' error and support units and default segments put together from their
    stored per-customer parts: the same comparisons as computed from the events, after new
    events too."""
    from touchlens.insights import experience as E
    from touchlens.insights.moments import ACQUISITION, CONVERSIONS, analyse

    events = world.events
    late = np.random.default_rng(9).random(events.num_rows) < 0.02
    with _open(tmp_path / "ws.duckdb", world) as ws:
        ws.ingest_arrow(world.feedback, "feedback")
        for part in (events.filter(pa.array(~late)), events.filter(pa.array(late))):
            ws.ingest_arrow(part, "events")
            stored = analyse(ws, tagged=ws.journey_events(), catalogue=ws.touchpoints(),
                             own=True)
            for rollup in (E.FAILURES, E.TOUCH_FIRSTS, E.SUPPORT_CONTACTS, E.QUIET_BUYERS,
                           ACQUISITION, CONVERSIONS):
                assert rollups.is_current(ws.store, rollup, _context(ws, rollup))
            computed = analyse(ws, tagged=ws.journey_events(), catalogue=ws.touchpoints())
            signals = set(stored.moments["signal"])
            assert "support" in signals and any(s.startswith("error:") for s in signals)
            pd.testing.assert_frame_equal(stored.moments, computed.moments)
            pd.testing.assert_frame_equal(stored.revenue_at_risk, computed.revenue_at_risk)
    assert taken == [True]
