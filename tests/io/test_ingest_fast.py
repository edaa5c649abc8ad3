"""The collector's validation straight from Arrow (validate_table) prepares exactly what the
frame path prepares: the same rows to store, first per id, and the same quarantine rows."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from touchlens.io.ingest import Prepared, prepare_table
from touchlens.io.validate_fast import validate_table
from touchlens.store import schema as S

_CANONICAL = {
    "event_id": st.sampled_from(["e1", "e2", "dup", "x-9"]),
    "occurred_at": st.sampled_from(["2026-04-01T10:00:00Z", "2026-04-01T10:00:00.25+02:00",
                                    "2026-04-01T10:00:00.123456-05:30"]),
    "customer_id": st.sampled_from([None, "C1", "C2"]),
    "anonymous_id": st.sampled_from([None, "a"]),
    "channel": st.sampled_from(["web", "paid_search", "email"]),
    "touchpoint": st.sampled_from([None, "cart"]),
    "event_type": st.sampled_from(["click", "purchase", "page_view", "not_a_type"]),
    "order_id": st.sampled_from([None, "O1"]), "revenue": st.sampled_from([None, 0.0, 9.99, 12]),
    "currency": st.sampled_from([None, "PLN"]), "cost": st.sampled_from([None, 1.5]),
    "campaign": st.sampled_from([None, "spring", "mail a@b.co"]),
    "device": st.sampled_from([None, "ios"]),
    "attributes": st.sampled_from([None, '{"a": 1}', "{}"])}
# values that send a row (and so the batch) to the frame path, or that it must treat alike
_ODD = {
    "event_id": st.sampled_from([" e1", "e1 ", "ü", "a@b.co"]),
    "occurred_at": st.sampled_from([None, "2026-04-01T10:00:00", "yesterday",
                                    "2026-02-30T10:00:00Z", "1989-12-31T23:59:59Z"]),
    "customer_id": st.sampled_from(["x@y.com", " C1"]),
    "channel": st.sampled_from([None, "Email", "web site"]),
    "event_type": st.sampled_from([None, "Click", "x" * 70]),
    "revenue": st.sampled_from([-1.0, float("nan"), float("inf")]),
    "currency": st.sampled_from(["eur", "EURO"]),
    "attributes": st.sampled_from(["[1]", "nope", ' {"b": 1}',
                                   '{"utm_source": "chatgpt.com"}',
                                   '{"referrer": "https://perplexity.ai/x"}'])}


def _table(rows: list[dict]) -> pa.Table:
    """Rows as the collector builds them (api.schemas.to_arrow): text, numbers as doubles."""
    return pa.table({name: pa.array([r[name] for r in rows],
                                    pa.float64() if name in ("revenue", "cost") else pa.string())
                     for name in S.EVENTS.names})


def _row() -> st.SearchStrategy[dict]:
    """A canonical row, sometimes with one field replaced by an odd value."""
    return st.fixed_dictionaries(_CANONICAL).flatmap(lambda row: st.one_of(
        st.just(row), st.sampled_from(sorted(_ODD)).flatmap(
            lambda name: _ODD[name].map(lambda v: {**row, name: v}))))


def _prepare(rows: list[dict], fast: bool) -> Prepared:
    return prepare_table(_table(rows), "events", salt="s", source="api:events", fast=fast)


def _same(a: Prepared, b: Prepared) -> None:
    assert a.unique.equals(b.unique), (a.unique.to_pylist(), b.unique.to_pylist())
    assert a.problems.reset_index(drop=True).astype(object).equals(
        b.problems.reset_index(drop=True).astype(object)), (a.problems, b.problems)
    assert (a.rows_in, a.sha256, a.file, a.ignored_columns) == (
        b.rows_in, b.sha256, b.file, b.ignored_columns)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_row(), min_size=1, max_size=8))
def test_arrow_path_prepares_what_the_frame_path_prepares(rows: list[dict]) -> None:
    _same(_prepare(rows, fast=True), _prepare(rows, fast=False))


def _canonical(i: int, **over: object) -> dict:
    row = {name: None for name in S.EVENTS.names}
    row.update({"event_id": f"e{i}", "occurred_at": "2026-04-01T10:00:00Z",
                "customer_id": "C1", "channel": "web", "event_type": "page_view", **over})
    return row


def test_a_canonical_batch_is_validated_from_arrow() -> None:
    rows = [_canonical(i) for i in range(5)] + [_canonical(1, channel="email"),
                                                _canonical(7, event_type="teleport")]
    quick = validate_table(_table(rows), "EUR")
    assert quick is not None
    assert quick.unique["event_id"].to_pylist() == ["e0", "e1", "e2", "e3", "e4"]
    assert quick.unique["channel"].to_pylist() == ["web"] * 5  # the first e1 wins
    assert [(p[0], p[1]) for p in quick.problems] == [(7, "event_type")]
    _same(_prepare(rows, fast=True), _prepare(rows, fast=False))


def test_one_unusual_row_or_an_ai_referral_sends_the_batch_to_the_frame_path() -> None:
    rows = [_canonical(i) for i in range(3)]
    assert validate_table(_table([*rows, _canonical(9, channel="Web")]), "EUR") is None
    ai = _canonical(9, attributes='{"utm_source": "chatgpt.com"}')
    assert validate_table(_table([*rows, ai]), "EUR") is None
    typed = _table(rows).set_column(0, "event_id", pa.array([1, 2, 3]))
    assert validate_table(typed, "EUR") is None
    assert validate_table(_table(rows).drop_columns(["device"]), "EUR") is None
    tagged = _prepare([*rows, ai], fast=True).unique.to_pylist()[-1]
    assert (tagged["channel"], tagged["touchpoint"]) == ("ai_assistant", "ai_answer")
