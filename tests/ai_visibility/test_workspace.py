"""Stored AI answers: ingest invariant, Workspace.ai_visibility, and the CLI command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from touchlens import Workspace
from touchlens.cli import app

DATA = Path(__file__).parents[1] / "data" / "ai_answers"
JSONL, CSV, BRANDS = DATA / "answers.jsonl", DATA / "answers.csv", DATA / "brands.yaml"
JSON_KEYS = ["brand", "answers", "mention_rate", "citation_rate", "avg_position",
             "share_of_voice", "sentiment"]


def test_ingest_and_visibility_on_both_backends(make_workspace):
    ws = make_workspace()
    r = ws.ingest(JSONL, "ai_answers").iloc[0]
    assert (r.rows_in, r.stored, r.quarantined, r.duplicates) == (8, 8, 0, 0)
    out = ws.ai_visibility(BRANDS).set_index("brand")
    allegro = out.loc["Allegro"]
    assert (allegro.answers, allegro.n_mentioned, allegro.n_cited) == (8, 6, 4)
    assert allegro.mention_rate == pytest.approx(0.75)
    assert allegro.citation_rate == pytest.approx(0.5)
    assert allegro.mention_rate_low < 0.75 < allegro.mention_rate_high
    assert out.share_of_voice.sum() == pytest.approx(1.0)
    assert allegro.stability == pytest.approx((1 / 3 + 1) / 2)  # chatgpt 2 of 3, perplexity 2/2
    assert out.index[0] == "Allegro" and allegro.is_target


def test_csv_answers_quarantine_and_idempotence(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        r = ws.ingest(CSV, "ai_answers").iloc[0]
        assert (r.rows_in, r.stored, r.quarantined, r.duplicates) == (4, 1, 3, 0)
        assert list(ws.quarantine().field) == ["answer", "collected_at", "cited_urls"]
        again = ws.ingest(CSV, "ai_answers").iloc[0]
        assert (again.stored, again.quarantined, again.duplicates) == (0, 0, 4)
        stored = ws.store.execute(ws.store.table("ai_answers")).iloc[0]
        assert stored.assistant == "google_ai_overviews" and stored.market == "PL"
        assert json.loads(stored.cited_urls) == ["https://allegro.pl/", "https://www.decathlon.pl/"]


def test_groupings_and_per_answer_grain(tmp_path):
    with Workspace.open(tmp_path / "w.duckdb") as ws:
        ws.ingest(JSONL, "ai_answers")
        per = ws.ai_answer_mentions(BRANDS)
        assert len(per) == 8 * 4 and per.groupby("answer_id").size().eq(4).all()
        music = per[per.answer_id == "a6"]
        assert not music.mentioned.any()  # "tempo allegro" is not the shop
        by_topic = ws.ai_visibility(BRANDS, by="topic").set_index(["topic", "brand"])
        assert by_topic.loc[("muzyka", "Allegro"), "mention_rate"] == 0
        by_week = ws.ai_visibility(BRANDS, by="week")
        assert set(by_week.week) == {"2024-03-04", "2024-03-11"}
        by_assistant = ws.ai_visibility(["Allegro", "Temu"], by="assistant")
        assert set(by_assistant.assistant) == {"chatgpt", "perplexity", "claude"}


def test_cli_on_a_file_and_on_the_workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    file_mode = runner.invoke(app, ["ai-visibility", str(JSONL), "--brands", str(BRANDS),
                                    "--format", "json"])
    assert file_mode.exit_code == 0, file_mode.output
    rows = json.loads(file_mode.stdout)
    assert list(rows[0])[:7] == JSON_KEYS and rows[0]["brand"] == "Allegro"
    db = str(tmp_path / "w.duckdb")
    missing = runner.invoke(app, ["ai-visibility", "--brand", "Allegro", "--db", db])
    assert missing.exit_code == 2  # no workspace yet
    assert runner.invoke(app, ["ingest", str(JSONL), "--kind", "ai_answers", "--db", db]
                         ).exit_code == 0
    stored = runner.invoke(app, ["ai-visibility", "--brands", str(BRANDS), "--db", db,
                                 "--format", "json"])
    assert json.loads(stored.stdout) == rows
    by = runner.invoke(app, ["ai-visibility", str(JSONL), "--brand", "Allegro", "--alias",
                             "Allegro Smart", "--domain", "allegro.pl", "--competitor",
                             "Decathlon", "--by", "assistant", "--format", "json"])
    assert by.exit_code == 0, by.output
    first = json.loads(by.stdout)[0]
    assert list(first)[:8] == ["assistant", *JSON_KEYS]
    table = runner.invoke(app, ["ai-visibility", str(CSV), "--brand", "Allegro",
                                "--competitor", "Decathlon"], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "share of voice" in table.stdout
    assert "skipped" in table.stderr and "required, missing" in table.stderr


def test_cli_usage_errors(tmp_path):
    runner = CliRunner()
    no_brand = runner.invoke(app, ["ai-visibility", str(JSONL)])
    assert no_brand.exit_code == 2 and "no brand" in no_brand.stderr
    bad_by = runner.invoke(app, ["ai-visibility", str(JSONL), "--brand", "A", "--by", "x"])
    assert bad_by.exit_code == 2
