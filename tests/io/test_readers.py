"""Readers keep every record: parsable rows numbered, unsplittable ones reported."""

from __future__ import annotations

import pytest

from touchlens.errors import UnreadableFileError
from touchlens.io.readers import ROW, detect_format, read_file


def test_csv_wrong_field_count_is_a_bad_row_not_a_crash(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("a,b\n1,2\n3\n4,5,6\n7,8\n", encoding="utf-8")
    frame, bad = read_file(p, "csv")
    assert list(frame[ROW]) == [1, 4]
    assert [(n, f) for n, f, _, _ in bad] == [(2, "_row"), (3, "_row")]
    assert "expected 2 fields, got 1" in bad[0][2]


def test_csv_bom_semicolons_and_cp1250(tmp_path):
    p = tmp_path / "pl.csv"
    p.write_bytes("klient;miasto\nc1;Łódź\n".encode("cp1250"))
    frame, bad = read_file(p, "csv")
    assert not bad and frame.loc[0, "miasto"] == "Łódź"
    q = tmp_path / "bom.csv"
    q.write_bytes("\ufeffa,b\n1,2\n".encode())
    frame, _ = read_file(q, "csv")
    assert list(frame.columns[:2]) == ["a", "b"]


def test_quoted_newlines_and_blank_lines(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('a,text\n1,"line one\nline two"\n\n2,"say ""hi"""\n', encoding="utf-8")
    frame, bad = read_file(p, "csv")
    assert not bad
    assert frame["text"].tolist() == ["line one\nline two", 'say "hi"']


def test_jsonl_invalid_lines_are_reported_with_line_numbers(tmp_path):
    p = tmp_path / "e.jsonl"
    p.write_text('{"a": 1}\nnot json\n[1]\n{"a": 2, "b": {"x": 1}}\n', encoding="utf-8")
    frame, bad = read_file(p, "jsonl")
    assert list(frame[ROW]) == [1, 4]
    assert frame.loc[1, "b"] == '{"x": 1}'
    assert [n for n, *_ in bad] == [2, 3]


@pytest.mark.parametrize("content, fmt", [(b"\x00\x01binary", "csv"), (b"PAR1 nope", "parquet"),
                                          (b"", "csv")])
def test_unreadable_files_raise_naming_the_file(tmp_path, content, fmt):
    p = tmp_path / f"bad.{fmt}"
    p.write_bytes(content)
    with pytest.raises(UnreadableFileError, match="bad"):
        read_file(p, fmt)


def test_missing_file_and_unknown_format(tmp_path):
    with pytest.raises(UnreadableFileError, match="no such file"):
        read_file(tmp_path / "nope.csv", "csv")
    with pytest.raises(UnreadableFileError, match="--format"):
        detect_format(tmp_path / "data.bin", None)
    assert detect_format(tmp_path / "x.csv.gz", None) == "csv"
