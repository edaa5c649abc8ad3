"""The Markov chain's transition counts stored as a rollup
(:mod:`touchlens.attribution.stored`): a workspace's Markov attribution read from them
equals the one computed from its journeys, at both levels and after appended events."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from touchlens import Workspace
from touchlens.attribution import engine
from touchlens.attribution.api import workspace_source
from touchlens.attribution.markov import order1_counts, order1_transitions, transitions


@pytest.fixture(scope="module")
def world():
    from touchlens.simulate import simulate_retailer

    return simulate_retailer(500, seed=11, days=60)


def _computed(ws: Workspace, level: str, **kwargs) -> pd.DataFrame:
    """The Markov credits from the journeys (the stored counts taken away)."""
    source = workspace_source(ws, level=level, **kwargs)  # no stored counts asked for
    return engine.attribute(source, "markov")


def _same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    key = got.columns[1]
    pd.testing.assert_frame_equal(got.sort_values(key, ignore_index=True),
                                  want.sort_values(key, ignore_index=True),
                                  check_dtype=False, rtol=1e-9)


def test_markov_from_the_stored_counts_equals_the_computed(tmp_path, world) -> None:
    events = world.events
    order = np.random.default_rng(2).permutation(events.num_rows)
    first, rest = order[: events.num_rows - 300], order[events.num_rows - 300:]
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.identities, "identities")
        ws.ingest_arrow(events.take(pa.array(first)), "events")
        for batch in (None, *np.array_split(rest, 2)):
            if batch is not None:  # appended: the stored counts are updated in place
                ws.ingest_arrow(events.take(pa.array(batch)), "events")
            for level in ("channel", "touchpoint"):
                source = workspace_source(ws, level=level, counted="build")
                assert source.counted is not None  # read from the rollup
                stored = ws.store.execute(source.counted)
                assert len(stored) > 5
                # the transitions and totals: as computed from the journeys
                bare = replace(source, counted=None)
                pd.testing.assert_frame_equal(
                    transitions(source).sort_values(["from_state", "to_state"],
                                                    ignore_index=True),
                    transitions(bare).sort_values(["from_state", "to_state"],
                                                  ignore_index=True),
                    check_dtype=False, rtol=1e-12)
                assert engine.totals(source) == pytest.approx(engine.totals(bare), rel=1e-12)
                got = ws.attribution(model="markov", level=level)
                _same(got, _computed(ws, level))
                assert got["conversions"].sum() > 0


def test_other_scopes_are_computed(tmp_path, world) -> None:
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.events, "events")
        assert workspace_source(ws, level="channel", counted="build").counted is not None
        assert workspace_source(ws, level="channel").counted is None  # not asked for
        assert workspace_source(ws, level="channel", exclude="none",
                                counted="build").counted is None
        # the simulated visitors never convert anonymously: their journeys are left out
        # by default, so keeping them is another scope
        assert workspace_source(ws, level="channel", anonymous=True,
                                counted="build").counted is None
        got = ws.attribution(model="markov", level="channel", exclude="none")
        _same(got, _computed(ws, "channel", exclude="none"))


def test_order1_counts_make_the_transitions_of_the_paths() -> None:
    """order1_transitions(order1_counts) = the transitions of the touches' steps
    (markov.transitions_expr) on a small workspace source."""
    from touchlens.attribution.markov import transitions_expr

    with Workspace.open(":memory:") as ws:
        from touchlens.simulate import simulate_retailer

        ws.ingest_arrow(simulate_retailer(150, seed=4, days=30).events, "events")
        source = workspace_source(ws, level="touchpoint")
        via_counts = order1_transitions(ws.store.execute(order1_counts(source.events,
                                                                        source.paths)))
        via_steps = ws.store.execute(transitions_expr(source, 1))
        key = ["from_state", "to_state"]
        pd.testing.assert_frame_equal(
            via_counts.sort_values(key, ignore_index=True)[[*key, "n", "value", "k"]],
            via_steps.sort_values(key, ignore_index=True)[[*key, "n", "value", "k"]],
            check_dtype=False, rtol=1e-12)


def test_only_a_markov_only_run_builds_the_stored_counts(tmp_path) -> None:
    """Other runs read the journeys anyway: they do not pay for the rollup's build (a pass
    over every event, ~7 s at 10M); once stored, a run with other models reads it."""
    from touchlens.attribution.stored import TRANSITIONS
    from touchlens.simulate import simulate_retailer

    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(simulate_retailer(200, seed=6, days=30).events, "events")
        ws.attribution(model="all", level="channel")
        ws.attribution(model="markov", level="channel", markov_order=2)
        assert not ws.store.exists(TRANSITIONS.table)
        assert workspace_source(ws, level="channel", counted="stored").counted is None
        ws.attribution(model="markov", level="channel")
        assert ws.store.exists(TRANSITIONS.table)
        # stored now: a run with other models reads them too, with the same credits
        assert workspace_source(ws, level="channel", counted="stored").counted is not None
        both = ws.attribution(model=["markov", "last"], level="channel")
        got = both[both["model"] == "markov"].drop(columns="model")
        want = _computed(ws, "channel").drop(columns="model")
        _same(got.reset_index(drop=True), want)


def test_a_markov_run_looks_for_anonymous_conversions_once(tmp_path, world, monkeypatch
                                                           ) -> None:
    """The auto rule's answer is the stored counts' context: not asked again (a scan of
    every event); an explicit ``anonymous`` is checked against the workspace's."""
    from touchlens.attribution import api

    calls = []
    real = api.anonymous_conversions
    monkeypatch.setattr(api, "anonymous_conversions",
                        lambda ws: calls.append(1) or real(ws))
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(world.identities, "identities")
        ws.ingest_arrow(world.events, "events")
        for _ in range(2):  # building the counts, then reading them
            calls.clear()
            got = ws.attribution(model="markov", level="channel")
            assert calls == [1]
        _same(got, _computed(ws, "channel"))
        calls.clear()
        kept = ws.attribution(model="markov", level="channel", anonymous=True)
        assert len(calls) == 1  # the workspace's context, to compare
        _same(kept, _computed(ws, "channel", anonymous=True))
