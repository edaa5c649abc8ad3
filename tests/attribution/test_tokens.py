"""The vectorised tokeniser splits paths exactly as ``str.split`` / ``str.strip`` and the
format's rules say, piece by piece or at once, and fails with the same message."""

from __future__ import annotations

from unittest.mock import patch

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.attribution import tokens as tk
from touchlens.errors import SchemaError

SEPS = [" > ", ">", "|", " ", ">>"]


def oracle(paths: list[str], sep: str) -> list[list[str]] | str:
    """Steps of each path by the rules of the format, one string at a time, or the error
    message (the rules of ``touchlens.attribution.tokens``, in the same order)."""
    kept = [[] if not p.strip() else [x.strip() for x in p.split(sep)] for p in paths]
    for i, steps in enumerate(kept):
        if "" in steps:
            return f"row {i + 1}: empty step in path {paths[i]!r} (separator {sep!r})"
    core = sep.strip()
    if core and core != sep:
        for i, steps in enumerate(kept):
            for x in steps:
                if core in x:
                    return (f"row {i + 1}: step {x!r} holds {core!r} but the separator is "
                            f"{sep!r}: check the spacing or pass the separator used")
    if any(kept) and max(len(x) for x in kept) <= 1:
        for c in tk.LOOKALIKES:
            if c in sep:
                continue
            for i, steps in enumerate(kept):
                for x in steps:
                    if c in x:
                        return (f"row {i + 1}: path {x!r} does not contain the separator "
                                f"{sep!r} but looks separated by {c!r}; pass the separator "
                                "the file uses")
    return kept


def steps_of(tokens: tk.Tokens) -> list[list[str]]:
    labels = tokens.labels.to_pylist()
    out, at = [], 0
    for n in tokens.lengths.tolist():
        out.append([labels[c] for c in tokens.codes[at:at + n]])
        at += n
    return out


LABEL = st.sampled_from(["a", "b", "ab", " a", "b ", "\ta", "a\t", "→"])


@st.composite
def path_lists(draw: st.DrawFn) -> tuple[list[str], str]:
    sep = draw(st.sampled_from(SEPS))
    made = st.lists(LABEL, max_size=5).map(sep.join)  # "" (no touch), repeats, spacing
    blank = st.sampled_from(["", " ", "  ", "\t", " \t "])  # paths without touch
    noise = st.text(alphabet="ab >|,;\t", max_size=8)  # anything, mostly bad
    paths = draw(st.lists(st.one_of(made, made, made, blank, noise), max_size=12))
    return paths, sep


@settings(max_examples=400)
@given(path_lists(), st.lists(st.integers(1, 4), max_size=4),
       st.sampled_from([1, 2, 3, 1 << 16]), st.sampled_from([1, 3, 1 << 16]))
def test_tokenise_equals_a_naive_split(case: tuple[list[str], str], cuts: list[int],
                                        piece: int, vocab: int) -> None:
    paths, sep = case
    chunks, at = [], 0
    for n in [*cuts, len(paths)]:
        chunks.append(pa.array(paths[at:at + n], pa.string()))
        at += n
    text = pa.chunked_array(chunks, pa.string())
    expected = oracle(paths, sep)
    with patch.object(tk, "PIECE", piece), patch.object(tk, "MAX_VOCAB", vocab):
        if isinstance(expected, str):
            with pytest.raises(SchemaError) as err:
                tk.tokenise(text, sep)
            assert str(err.value) == expected
            return
        got = tk.tokenise(text, sep)
    assert steps_of(got) == expected
    assert got.spaced == any(p != sep.join(s) for p, s in zip(paths, expected, strict=True))
    assert len(set(got.labels.to_pylist())) == len(got.labels)


def test_rows_and_large_strings() -> None:
    text = pa.chunked_array([pa.array(["a > b", "", "b > b > a"], pa.large_string())])
    got = tk.tokenise(text, " > ")
    assert steps_of(got) == [["a", "b"], [], ["b", "b", "a"]]
    assert got.rows.tolist() == [0, 0, 2, 2, 2]
    assert [got.row_of_step(i) for i in range(5)] == [0, 0, 2, 2, 2]
    assert got.labels.type == pa.string() and not got.spaced


def test_errors_name_the_table_row_and_show_its_value() -> None:
    text = pa.array(["a", "b >  > c"])
    with pytest.raises(SchemaError, match=r"^row 8: empty step in path 'shown' "):
        tk.tokenise(text, " > ", row_of=[3, 7], shown=lambda row: "shown")


def test_memo_is_keyed_by_the_memory_of_the_array_and_the_separator() -> None:
    class Owner:
        pass

    owner = Owner()
    text = pa.chunked_array([pa.array(["a > b", "c"]), pa.array(["b"])])
    tokens = tk.tokenise(text, " > ")
    tk.remember(owner, text, " > ", tokens)
    assert tk.recall(text, " > ") is tokens
    assert tk.recall(text[:], " > ") is tokens  # a view of the same memory
    assert tk.recall(text, ">") is None
    assert tk.recall(text[1:], " > ") is None
    assert tk.recall(pa.chunked_array([pa.array(["a > b", "c"]), pa.array(["b"])]),
                     " > ") is None  # equal strings elsewhere: not known to be equal
    del owner  # the entry goes with the table holding the column
    assert tk.recall(text, " > ") is None
