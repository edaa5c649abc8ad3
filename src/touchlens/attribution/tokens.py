"""Path strings split into integer-coded steps, vectorised (Arrow kernels and numpy).

``tokenise(text, sep)`` splits every string at ``sep`` (left to right, as ``str.split``),
strips whitespace around each step and numbers the distinct steps. The stripping and the
checks of the path format run on the distinct raw steps (a few dozen labels), not on the
millions of steps; a bad row is only located once a check has failed.

Rules (the ChannelAttribution format of :mod:`.pathfile`):

- a blank string (``""`` or whitespace) is a path without steps;
- otherwise every step must be non-blank (``"a >  > b"``, ``"a > "``: empty step);
- no step may hold the separator's non-space part (``"a>b"`` with separator ``" > "``);
- when no path has two steps, no step may hold a lookalike separator (``> → | , ;``) that
  the separator lacks: the file uses another separator.

Errors are :class:`touchlens.errors.SchemaError` naming the row (``row 1`` = first record).
The split of a path column read from a CSV is remembered while the table read lives
(:func:`remember` / :func:`recall`), so a model run on it does not split it again.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from touchlens.errors import SchemaError

LOOKALIKES = (">", "→", "|", ",", ";")
PIECE = 1 << 16  # strings split at a time
MAX_VOCAB = 1 << 16  # distinct raw steps merged piece by piece


def row_name(i: int) -> str:
    """How errors name table row ``i`` (0-based): ``row i+1``."""
    return f"row {int(i) + 1}"


@dataclass
class Tokens:
    """Steps of each string: ``codes`` (int32, rows end to end, steps in path order) index
    ``labels`` (distinct stripped steps); ``lengths`` = steps per string (0: no touch);
    ``spaced``: some string is not its steps joined by the separator (whitespace around a
    step, or a blank string other than ``""``)."""

    codes: np.ndarray
    lengths: np.ndarray
    labels: pa.Array
    spaced: bool = False

    @property
    def rows(self) -> np.ndarray:
        """The string (0-based) of each step."""
        return np.repeat(np.arange(len(self.lengths), dtype=np.int64), self.lengths)

    def select(self, keep: np.ndarray) -> Tokens:
        """The strings where boolean ``keep`` is true, in order."""
        return Tokens(self.codes[np.repeat(keep, self.lengths)], self.lengths[keep],
                      self.labels, self.spaced)

    def row_of_step(self, i: int) -> int:
        """The string holding step ``i`` (no array over all steps)."""
        return int(np.searchsorted(np.cumsum(self.lengths), i, side="right"))


@dataclass
class _Remembered:
    owner: weakref.ref  # the table read; the entry goes with it
    text: pa.ChunkedArray  # its path column, kept: no other array can take its buffers
    sep: str
    tokens: Tokens


_MEMO: list[_Remembered] = []  # at most one entry


def remember(owner: object, text: pa.ChunkedArray, sep: str, tokens: Tokens) -> None:
    """Keep ``tokens`` as the steps of ``text`` split at ``sep`` while ``owner`` (the table
    holding ``text``) lives: a path CSV is split once to validate it on reading, and a
    model run on the table read reuses the split."""
    def forget(ref: weakref.ref) -> None:
        if _MEMO and _MEMO[0].owner is ref:
            _MEMO.clear()

    _MEMO[:] = [_Remembered(weakref.ref(owner, forget), text, sep, tokens)]


def recall(text: pa.ChunkedArray, sep: str) -> Tokens | None:
    """The tokens remembered for an array over the very memory of the remembered one
    (Arrow arrays are immutable, and the remembered one holds its buffers, so equal
    buffer addresses mean equal strings) and the same separator, if any."""
    entry = _MEMO[0] if _MEMO else None
    if (entry is None or entry.owner() is None or entry.sep != sep
            or _layout(entry.text) != _layout(text)):
        return None
    return entry.tokens


def _layout(text: pa.ChunkedArray) -> list[tuple]:
    return [(c.type, c.offset, len(c), tuple(b.address if b is not None else 0
                                             for b in c.buffers())) for c in text.chunks]


def tokenise(text: pa.Array | pa.ChunkedArray, sep: str, *,
             row_of: np.ndarray | None = None,
             shown: Callable[[int], object] | None = None) -> Tokens:
    """Coded steps of every string of ``text`` (no nulls); see the module docstring.

    Errors name table row ``row_of[i]`` for string i (default i) and show the path as
    ``shown(row)`` (default: the string).
    """
    if not len(text):
        return Tokens(np.zeros(0, np.int32), np.zeros(0, np.int64), pa.array([], pa.string()))
    n_raw, raw, raw_labels = _raw_steps(text, sep)
    trimmed = pc.utf8_trim_whitespace(raw_labels)
    relabel = pc.dictionary_encode(trimmed)
    labels = relabel.dictionary.cast(pa.string())
    remap = relabel.indices.to_numpy().astype(np.int32)
    name = _Namer(text, row_of, shown)
    blank = pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
    lengths = n_raw
    spaced = not trimmed.equals(raw_labels)
    if blank.any():  # blank strings are paths without steps; other blank steps are errors
        starts = np.cumsum(n_raw) - n_raw
        space = _is_space(sep)
        if space:  # blank string ⇔ every step blank
            n_blank = np.bincount(np.repeat(np.arange(len(n_raw)), n_raw)[blank[raw]],
                                  minlength=len(n_raw))
            blank_row = n_blank == n_raw
        else:  # the separator is not blank: a blank string has one step
            blank_row = (n_raw == 1) & blank[raw[starts]]
        if np.bincount(raw, minlength=len(blank))[blank].sum() != n_raw[blank_row].sum():
            at = np.flatnonzero(blank[raw] & ~np.repeat(blank_row, n_raw))[0]
            i = int(np.searchsorted(np.cumsum(n_raw), at, side="right"))
            raise SchemaError(f"{row_name(name.row(i))}: empty step in path {name.show(i)!r} "
                              f"(separator {sep!r})")
        if blank_row.any():
            spaced = spaced or bool(n_raw[blank_row].max() > 1)
            raw = (raw[~np.repeat(blank_row, n_raw)] if space
                   else np.delete(raw, starts[blank_row]))
            lengths = np.where(blank_row, 0, n_raw)
    if not np.array_equal(remap, np.arange(len(remap))):  # some steps had spacing
        raw = remap[raw]
    tokens = Tokens(raw, lengths, labels, spaced)
    _check_steps(tokens, sep, name)
    return tokens


def _pieces(text: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    return [c.slice(at, PIECE) for c in chunks for at in range(0, len(c), PIECE)]


def _raw_steps(text: pa.Array | pa.ChunkedArray, sep: str
               ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """Steps per string, the code of each raw (unstripped) step and the raw steps by code.

    Piece by piece on Arrow's CPU count of threads (the kernels release the GIL; pieces
    keep the temporaries cache-sized): split and encode each piece, merge the few distinct
    steps of every piece into one vocabulary, then write each piece's codes into one array.
    Many distinct steps (not a label vocabulary: e.g. a wrong separator) are encoded in one
    pass instead.
    """
    def split(piece: pa.Array) -> tuple[np.ndarray, pa.DictionaryArray]:
        lists = pc.split_pattern(piece, pattern=sep)
        return lists.offsets.to_numpy(), pc.dictionary_encode(pc.list_flatten(lists))

    pieces = _pieces(text)
    with ThreadPoolExecutor(max(1, min(pa.cpu_count(), len(pieces)))) as pool:
        parts = list(pool.map(split, pieces))
        vocab: dict[str, int] = {}
        luts = []
        for _, local in parts:
            if len(vocab) + len(local.dictionary) > MAX_VOCAB:
                return _raw_steps_at_once(text, sep)
            luts.append(np.array([vocab.setdefault(x, len(vocab))
                                  for x in local.dictionary.to_pylist()], dtype=np.int32))
        row_at = np.cumsum([0] + [len(p) for p in pieces])
        step_at = np.cumsum([0] + [len(local) for _, local in parts])
        counts = np.empty(row_at[-1], dtype=np.int64)
        codes = np.empty(step_at[-1], dtype=np.int32)

        def write(i: int) -> None:
            offsets, local = parts[i]
            np.subtract(offsets[1:], offsets[:-1], out=counts[row_at[i]:row_at[i + 1]])
            np.take(luts[i], local.indices.to_numpy(), out=codes[step_at[i]:step_at[i + 1]],
                    mode="clip")  # codes are in range: clip skips a buffered copy

        list(pool.map(write, range(len(parts))))
    return counts, codes, pa.array(list(vocab), type=text.type)


def _raw_steps_at_once(text: pa.Array | pa.ChunkedArray, sep: str
                       ) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    chunks = text.chunks if isinstance(text, pa.ChunkedArray) else [text]
    lists = [pc.split_pattern(c, pattern=sep) for c in chunks if len(c)]
    encoded = pc.dictionary_encode(pa.chunked_array([pc.list_flatten(x) for x in lists]))
    # every chunk carries the same (whole) dictionary
    return (np.concatenate([np.diff(x.offsets.to_numpy()) for x in lists]).astype(np.int64),
            np.concatenate([c.indices.to_numpy() for c in encoded.chunks]),
            encoded.chunks[0].dictionary)


def _is_space(sep: str) -> bool:
    return pc.utf8_trim_whitespace(pa.array([sep])).to_pylist() == [""]


@dataclass
class _Namer:
    """Table row and shown path of string i, for error messages."""

    text: pa.Array | pa.ChunkedArray
    row_of: np.ndarray | None
    shown: Callable[[int], object] | None

    def row(self, string: int) -> int:
        return int(self.row_of[string]) if self.row_of is not None else int(string)

    def show(self, string: int) -> object:
        if self.shown is not None:
            return self.shown(self.row(string))
        return self.text[string].as_py()


def _first_holding(tokens: Tokens, needle: str) -> tuple[int, str] | None:
    """(table row, label) of the first step whose label contains ``needle``, if any."""
    labels = np.flatnonzero(pc.match_substring(tokens.labels, needle)
                            .to_numpy(zero_copy_only=False))
    if not len(labels):
        return None
    at = int(np.flatnonzero(np.isin(tokens.codes, labels))[0])
    return tokens.row_of_step(at), tokens.labels[int(tokens.codes[at])].as_py()


def _check_steps(tokens: Tokens, sep: str, name: _Namer) -> None:
    """A step holding the separator with other spacing, or a lookalike separator."""
    if not len(tokens.codes):
        return
    stripped = sep.strip()
    if stripped and stripped != sep and (hit := _first_holding(tokens, stripped)):
        row, bad = hit
        raise SchemaError(f"{row_name(name.row(row))}: step {bad!r} holds {stripped!r} but "
                          f"the separator is {sep!r}: check the spacing or pass the "
                          "separator used")
    if tokens.lengths.max() > 1:
        return
    for c in LOOKALIKES:  # no path split: the file may use another separator
        if c not in sep and (hit := _first_holding(tokens, c)):
            row, step = hit
            raise SchemaError(f"{row_name(name.row(row))}: path {step!r} does not contain "
                              f"the separator {sep!r} but looks separated by {c!r}; pass "
                              "the separator the file uses")
