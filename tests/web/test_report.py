"""``touchlens report``: one self-contained HTML file with the charts embedded."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from touchlens.cli import app


def test_report_is_self_contained(web_db, tmp_path: Path) -> None:
    out = tmp_path / "q1.html"
    r = CliRunner().invoke(app, ["report", "-o", str(out), "--period", "2026-02",
                                 "--db", str(web_db.path)])
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert "Touchpoint review" in html and "2026-02-01 – 2026-02-28" in html
    assert "compared with 2026-01-" in html  # the previous period of the same length
    assert html.count("Plotly.newPlot") >= 6
    # no external resources: it opens offline
    assert not re.search(r'<script[^>]+src=', html)
    assert not re.search(r'<link[^>]+href=["\']https?:', html)
    assert "Journey map" in html and "Top pain points" in html
    assert "Recommendations" in html or "not in this version yet" in html


def test_report_with_a_channel_and_bad_period(web_db, tmp_path: Path) -> None:
    out = tmp_path / "email.html"
    r = CliRunner().invoke(app, ["report", "-o", str(out), "--channel", "email",
                                 "--db", str(web_db.path)])
    assert r.exit_code == 0, r.output
    assert "all time · email" in out.read_text()
    r = CliRunner().invoke(app, ["report", "-o", str(out), "--period", "soon",
                                 "--db", str(web_db.path)])
    assert r.exit_code == 2 and "unknown period" in r.output


def test_report_shows_attribution_masks_verbatims_and_is_registered(web_db, tmp_path: Path
                                                                     ) -> None:
    import shutil

    import pandas as pd

    from touchlens import Workspace

    db = tmp_path / "ws.duckdb"
    shutil.copy(web_db.path, db)
    csv = tmp_path / "fb.csv"
    pd.DataFrame([{"response_id": "pii-r", "occurred_at": "2026-02-28T10:00:00Z",
                   "customer_id": "pii-r", "touchpoint": "support_chat", "channel": "chat",
                   "csat": 1, "language": "en",
                   "text": "Write jan@x.pl or +48 600 100 200, card 4111 1111 1111 1111"}]
                 ).to_csv(csv, index=False)
    with Workspace.open(db) as ws:
        ws.ingest([csv], "feedback")
    out = tmp_path / "r.html"
    r = CliRunner().invoke(app, ["report", "-o", str(out), "--db", str(db)])
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert "<h2>Attribution</h2>" in html and "budget-neutral" in html
    assert "Write [email] or [phone], card [card]" in html
    for secret in ("jan@x.pl", "600 100 200", "4111 1111 1111 1111"):
        assert secret not in html
    with Workspace.open(db) as ws:
        files = ws.store.execute(ws.store.table("written_files"))
    assert (files["path"].map(lambda p: Path(p).resolve()) == out.resolve()).any()
    assert set(files["kind"]) == {"report"}


def test_report_for_one_segment_counts_only_its_customers(web_db, tmp_path: Path) -> None:
    from touchlens import Workspace
    from touchlens.charts.data import segment_members

    with Workspace.open(web_db.path) as ws:
        members = segment_members(ws)
    segment, ids = max(members.items(), key=lambda kv: len(kv[1]))
    out = tmp_path / "seg.html"
    r = CliRunner().invoke(app, ["report", "-o", str(out), "--segment", segment.upper(),
                                 "--db", str(web_db.path)])
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert f"all time · segment {segment}" in html
    # every RFM member bought, so all of them are in the events: the headline count is theirs
    customers = re.search(r"Customers</[^>]+>\s*<[^>]+>([\d,]+)<", html)
    assert customers is not None, "no Customers KPI in the report"
    assert int(customers.group(1).replace(",", "")) == len(ids)

    r = CliRunner().invoke(app, ["report", "-o", str(out), "--segment", "whales",
                                 "--db", str(web_db.path)])
    assert r.exit_code == 2 and "unknown segment 'whales'" in r.output
    assert "prospect" in r.output
