"""The shortcuts of a path table to the Markov model give what the long way gives.

- ``attribute(df, "markov")`` on a DataFrame splits every row with the vectorised tokeniser
  and counts transitions with numpy (``frame_markov``), instead of merging rows by path,
  building path tables and querying them: same credits, removal effects and notes;
- ``read_paths`` parses with Arrow's CSV reader and falls back to pandas for anything
  unusual: the same table for good files, the same error for bad ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from touchlens.attribution import attribute, engine, from_path_frame, read_paths
from touchlens.attribution import tokens as tk
from touchlens.attribution.frame_markov import applies, markov_of_frame
from touchlens.attribution.markov import coded_transitions, transitions_expr
from touchlens.attribution.pathcsv import read_path_csv
from touchlens.attribution.pathfile import tokenise_paths
from touchlens.errors import SchemaError

LABELS = ["search", "email", "social", "direct"]


def path_table(n: int, seed: int, sep: str = " > ", *, fractional: bool = False,
               spacing: bool = True) -> pd.DataFrame:
    """Rows repeating paths (one per journey), with empty paths, repeated channels, spacing
    variants of the same path (``spacing``) and zero-weight rows."""
    rng = np.random.default_rng(seed)
    glues = [sep, sep, f" {sep} "] if spacing else [sep]
    paths = [glues[rng.integers(0, len(glues))].join(rng.choice(LABELS, rng.integers(0, 5)))
             for _ in range(n)]
    conv = rng.integers(0, 3, n).astype(float)
    nulls = rng.integers(0, 3, n).astype(float)
    if fractional:
        conv, nulls = conv * rng.uniform(0.1, 1.0, n), nulls * 0.3
    return pd.DataFrame({"path": paths, "total_conversions": conv,
                         "total_conversion_value": conv * rng.uniform(5, 90, n),
                         "total_null": nulls})


def long_way(df: pd.DataFrame, **kwargs: object) -> pd.DataFrame:
    sep = kwargs.pop("sep", " > ")
    level = kwargs.pop("level", "channel")
    exclude = kwargs.pop("exclude", None)
    source = from_path_frame(df, sep=sep, level=level, exclude=exclude)
    return engine.attribute(source, "markov", **kwargs)


def assert_same(fast: pd.DataFrame, slow: pd.DataFrame) -> None:
    """Equal up to the order of float sums (exact for whole-number counts)."""
    pd.testing.assert_frame_equal(fast, slow, check_exact=False, rtol=1e-12, atol=1e-9)
    a, b = fast.attrs["notes"]["markov"], slow.attrs["notes"]["markov"]
    assert a.keys() == b.keys() and a["states"] == b["states"] and a["order"] == b["order"]
    assert a["p_conversion"] == pytest.approx(b["p_conversion"], rel=1e-12)
    assert a["removal_effects"] == pytest.approx(b["removal_effects"], abs=1.01e-6)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("sep", [" > ", ">", "|"])
def test_markov_shortcut_equals_the_long_way(seed: int, sep: str) -> None:
    df = path_table(300, seed, sep, fractional=seed % 2 == 1)
    assert markov_of_frame(df, sep=sep, level="channel", exclude=None) is not None
    assert_same(attribute(df, "markov", sep=sep), long_way(df, sep=sep))


def test_shortcut_with_exclusions_levels_and_arrow_columns() -> None:
    df = path_table(400, 7)
    for kwargs in ({"exclude": "direct"}, {"exclude": ["search", "email", "social",
                                                       "direct"]},
                   {"level": "touchpoint", "confidence": 0.9}):
        assert_same(attribute(df, "markov", **kwargs), long_way(df, **kwargs))
    arrow = df.astype({"path": pd.ArrowDtype(pa.large_string())})
    assert_same(attribute(arrow, "markov"), long_way(df))
    objects = df.astype({"path": object})
    assert_same(attribute(objects, "markov"), long_way(df))


def test_shortcut_declines_where_only_merged_paths_tell() -> None:
    # revenue on a row without conversions counts only when the path converts elsewhere
    df = pd.DataFrame({"path": ["a > b", "a > b", "b"], "total_conversions": [0.0, 1.0, 0.0],
                       "total_conversion_value": [5.0, 10.0, 7.0], "total_null": [1.0, 0, 1]})
    assert markov_of_frame(df, sep=" > ", level="channel", exclude=None) is None
    assert_same(attribute(df, "markov"), long_way(df))
    named = pd.DataFrame({"path": ["(start) > a"], "total_conversions": [1.0]})
    assert markov_of_frame(named, sep=" > ", level="channel", exclude=None) is None


@pytest.mark.parametrize(("model", "options", "expected"), [
    ("markov", {}, True),
    (["markov"], {"markov_order": 1, "seed": 3, "confidence": 0.9}, True),
    ("markov", {"markov_order": 2}, False),
    ("markov", {"bootstrap": 20}, False),
    ("markov,first", {}, False),
    ("all", {}, False),
    ("nonsense", {}, False),  # the long way reports it
    ("markov", {"bootstrap": -1}, False),
    ("markov", {"unknown_option": 1}, False),
])
def test_shortcut_applies_to_order_one_markov_alone(model: object, options: dict,
                                                    expected: bool) -> None:
    assert applies(model, options) is expected


def test_coded_transitions_equal_the_query() -> None:
    df = path_table(500, 3, fractional=True)
    source = from_path_frame(df)
    query = source.execute(transitions_expr(source)).set_index(["from_state", "to_state"])
    tokens = tokenise_paths(df["path"], " > ")
    got = coded_transitions(tokens.codes, tokens.lengths, tokens.labels.to_pylist(),
                            *(df[c].to_numpy() for c in ("total_conversions",
                                                         "total_conversion_value",
                                                         "total_null")))
    got = got.set_index(["from_state", "to_state"]).sort_index()
    query = query.sort_index()
    assert got.index.equals(query.index)
    np.testing.assert_allclose(got["n"], query["n"], rtol=1e-12)
    np.testing.assert_allclose(got["value"], query["value"], rtol=1e-12)


def test_empty_table() -> None:
    df = pd.DataFrame({"path": pd.Series([], dtype=str),
                       "total_conversions": pd.Series([], dtype=float)})
    assert_same(attribute(df, "markov"), long_way(df))


# ---------------------------------------------------------------- read_paths


GOOD = {
    "plain": "path,total_conversions,total_conversion_value,total_null\n"
             "a > b,1,10.5,3\n,2,4,0\nc,0,0,7\na > b,1,1,1\n",
    "quoted, spaced, blank": 'path,total_conversions,total_null\n"a >  b ",1,0\n" ",0,2\n'
                             '"b\n > c",3,1\n',
    "extra column, missing marker text kept": "path,total_conversions,x\nNA,1,z\nnull,2,y\n",
    "byte order mark": "\ufeffpath,total_conversions\na,1\n",
}
BAD = {
    "negative": "path,total_conversions\na,1\nb,-1\n",
    "missing count": "path,total_conversions\na,1\nb,\n",
    "not a number": "path,total_conversions\na,1\nb,many\n",
    "infinite": "path,total_conversions,total_null\na,1,inf\n",
    "empty step": "path,total_conversions\na > b,1\na >  > b,1\n",
    "spacing": "path,total_conversions\na > b,1\na>b,1\n",
    "short row": "path,total_conversions\na,1\nb\n",
    "no rows": "path,total_conversions\n",
    "no header": "",
    "lacks a column": "path,total_null\na,1\n",
    "duplicated column": "path,total_conversions,total_conversions\na,1,2\n",
    "not utf-8": b"path,total_conversions\n\xff\xfe,1\n",
}


def pandas_route(file: Path, monkeypatch: pytest.MonkeyPatch) -> pd.DataFrame | Exception:
    with monkeypatch.context() as m:
        m.setattr("touchlens.attribution.pathfile.read_path_csv", lambda *a: None)
        try:
            return read_paths(file)
        except Exception as exc:  # compared below
            return exc


def write(tmp_path: Path, text: str | bytes) -> Path:
    file = tmp_path / "paths.csv"
    if isinstance(text, bytes):
        file.write_bytes(text)
    else:
        file.write_text(text, encoding="utf-8")
    return file


@pytest.mark.parametrize("name", list(GOOD))
def test_arrow_reader_gives_the_pandas_table(name: str, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    file = write(tmp_path, GOOD[name])
    assert read_path_csv(file, " > ") is not None  # the fast route took it
    pd.testing.assert_frame_equal(read_paths(file), pandas_route(file, monkeypatch))


@pytest.mark.parametrize("name", list(BAD))
def test_bad_files_give_the_pandas_error(name: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    file = write(tmp_path, BAD[name])
    expected = pandas_route(file, monkeypatch)
    if isinstance(expected, pd.DataFrame):  # an edge pandas reads (e.g. header only)
        pd.testing.assert_frame_equal(read_paths(file), expected)
        return
    with pytest.raises(type(expected)) as err:
        read_paths(file)
    assert str(err.value) == str(expected)


def test_a_table_just_read_is_not_split_again(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    df = path_table(200, 5, spacing=False)
    file = tmp_path / "paths.csv"
    df.to_csv(file, index=False)
    table = read_paths(file)
    expected = long_way(df)

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("split again")

    with monkeypatch.context() as m:
        m.setattr(tk, "tokenise", refuse)
        m.setattr("touchlens.attribution.pathfile.tokenise", refuse)
        assert_same(attribute(table, "markov"), expected)
    changed = table.copy()
    changed.loc[0, "path"] = "search >  > email"
    with pytest.raises(SchemaError, match="row 1: empty step"):
        attribute(changed, "markov")
    assert_same(attribute(table, "markov", sep=">"), long_way(table, sep=">"))
