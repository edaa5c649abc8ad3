"""Parquet folders read in place: same journeys as ingesting the same rows."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from touchlens.errors import ConfigError


def _lake(tmp_path, events: pa.Table):
    folder = tmp_path / "lake"
    dated = events.append_column("date", pc.strftime(events["occurred_at"], "%Y-%m-%d"))
    pq.write_to_dataset(dated.drop_columns(["attributes", "device"]), folder,
                        partition_cols=["date"])
    return folder


def test_attached_parquet_reads_like_ingested(make_workspace, tiny_events, tmp_path):
    lake = _lake(tmp_path, tiny_events)
    attached = make_workspace("attached")
    problems = attached.attach(lake, "events")
    assert problems["rows"] == 20 and problems["unknown_event_type"] == 0
    assert attached.store.con.table("events").count().to_pyarrow().as_py() == 0  # no copy
    ingested = make_workspace("ingested")
    ingested.ingest_arrow(tiny_events, "events")
    cols = ["journey_id", "path", "converted", "revenue", "n_touches"]
    assert (attached.journeys()[cols].to_dict("records")
            == ingested.journeys()[cols].to_dict("records"))


def test_attach_survives_reopen_and_adds_to_ingested_rows(tmp_path, tiny_events):
    from touchlens import Workspace

    lake = _lake(tmp_path, tiny_events.slice(0, 10))
    ws = Workspace.open(tmp_path / "w.duckdb")
    ws.attach(lake)
    ws.ingest_arrow(tiny_events.slice(10), "events")
    ws.close()
    again = Workspace.open(tmp_path / "w.duckdb")
    assert again.stats()["events"] == 20
    with pytest.raises(ConfigError):
        again.attach(lake, "quarantine")


def test_attached_problems_are_counted(tmp_path, tiny_events):
    from touchlens import Workspace

    bad = tiny_events.set_column(tiny_events.schema.get_field_index("event_type"), "event_type",
                                 pa.array(["teleport"] * 2 + ["visit"] * 18))
    ws = Workspace.open(tmp_path / "w.duckdb")
    problems = ws.attach(_lake(tmp_path, bad))
    assert problems["unknown_event_type"] == 2
