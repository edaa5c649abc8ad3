"""Personalising analyses keep only customers with personalization consent and say how many
they left out (docs/privacy.md); the simulator emits consent records the demo ingests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from touchlens import Workspace
from touchlens.cli import app
from touchlens.simulate import simulate_retailer

from .test_segments import ROWS, purchase_events

N_EXCLUDED = "n_excluded_no_consent"


def _consent(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "purpose", "status"]).assign(
        occurred_at="2024-04-01T00:00:00Z")


@pytest.fixture
def ws(tmp_path: Path):
    with Workspace.open(tmp_path / "ws.duckdb") as ws:
        ws.ingest_arrow(purchase_events(ROWS), "events")
        yield ws


def test_without_consent_records_nobody_is_excluded(ws) -> None:
    seg = ws.segments()
    assert sorted(seg["customer_id"]) == ["p", "r", "s"]
    assert seg.attrs[N_EXCLUDED] == 0 and seg.attrs["consent_tracked"] is False
    assert "not tracked" in seg.attrs["consent_note"]


def test_segments_profiles_and_scorecard_keep_consenting_customers(ws) -> None:
    # r granted; s granted then withdrew; p only granted marketing (no personalization record)
    ws.ingest_arrow(_consent([("r", "personalization", "granted"),
                              ("s", "personalization", "granted"),
                              ("p", "marketing", "granted")]), "consent")
    ws.ingest_arrow(_consent([("s", "personalization", "denied")]).assign(
        occurred_at="2024-04-02T00:00:00Z"), "consent")
    seg = ws.segments()
    assert list(seg["customer_id"]) == ["r"]
    assert seg.attrs[N_EXCLUDED] == 2 and seg.attrs["consent_tracked"] is True
    assert seg.attrs["consent_note"] == "2 customers excluded: no personalization consent"
    prof = ws.segment_profiles()
    assert int(prof["n_customers"].sum()) == 1 and prof.attrs[N_EXCLUDED] == 2
    card = ws.segment_scorecard(by="preferred_channel")
    assert set(card["segment"]) == {"web"} and int(card["reach"].max()) == 1
    assert card.attrs[N_EXCLUDED] == 2


def test_opt_out_default_excludes_only_denials(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "w.duckdb", consent_default="granted") as ws:
        ws.ingest_arrow(purchase_events(ROWS), "events")
        ws.ingest_arrow(_consent([("s", "personalization", "denied")]), "consent")
        seg = ws.segments()
        assert sorted(seg["customer_id"]) == ["p", "r"] and seg.attrs[N_EXCLUDED] == 1


def test_simulated_consent_is_realistic_and_deterministic() -> None:
    a, b = simulate_retailer(3000, seed=5), simulate_retailer(3000, seed=5)
    assert a.consent.equals(b.consent)
    assert not a.consent.equals(simulate_retailer(3000, seed=6).consent)
    c = a.consent.to_pandas()
    assert set(c["purpose"]) == {"analytics", "personalization", "marketing"}
    assert set(c["status"]) == {"granted", "denied"}
    latest = c.sort_values("occurred_at").groupby(["customer_id", "purpose"])["status"].last()
    share = (latest == "granted").groupby(level="purpose").mean()
    assert share["analytics"] == pytest.approx(0.85, abs=0.03)
    assert share["personalization"] == pytest.approx(0.60, abs=0.03)
    assert share["marketing"] == pytest.approx(0.43, abs=0.03)
    assert c["customer_id"].nunique() == 3000  # everyone answered the banner


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    result = CliRunner().invoke(app, ["demo", "--customers", "1500", "--seed", "2",
                                      "--db", str(db)])
    assert result.exit_code == 0, result.output
    return db


def test_demo_ingests_consent_and_next_best_skips_customers_without_it(demo_db: Path) -> None:
    with Workspace.open(demo_db) as ws:
        status = ws.consent_status()
        assert set(status["purpose"]) == {"analytics", "personalization", "marketing"}
        personal = status[status["purpose"] == "personalization"].set_index("customer_id")
        yes = personal.index[personal["status"] == "granted"][0]
        no = personal.index[personal["status"] == "denied"][0]
        rec = ws.next_best_touchpoint([yes, no], top=2)
        assert set(rec["customer_id"]) == {yes}
        assert rec.attrs["skipped_no_consent"] == [no]
        assert rec.attrs[N_EXCLUDED] > 0
        ev = ws.next_best_evaluation(top=2)
        assert ev.attrs[N_EXCLUDED] == rec.attrs[N_EXCLUDED]


def test_cli_prints_how_many_were_excluded(demo_db: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(app, ["segments", "--db", str(demo_db)])
    assert out.exit_code == 0, out.output
    assert "excluded: no personalization consent" in out.output
