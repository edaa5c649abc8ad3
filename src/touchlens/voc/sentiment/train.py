"""Train the accurate mode's head: ``python -m touchlens.voc.sentiment.train [OUT.npz]``.

Data: ``data/labelled/train.tsv`` only (``eval.tsv`` stays held out), plus each Polish text
with its diacritics stripped ("się spóźnił" → "sie spoznil"), as people type on phones.
Features: :func:`touchlens.voc.sentiment.accurate.features`. The L2 strength was chosen by
5-fold cross-validation on the training set (macro-F1; 0.03 of 0.03/0.1/0.3/1.0).
Writes ``data/sentiment_head.npz`` (float32 weights, ~10 kB) unless OUT is given.
"""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from touchlens.voc.sentiment.accurate import HEAD_FILE, features
from touchlens.voc.sentiment.head import LABELS, SoftmaxHead
from touchlens.voc.sentiment.quality import labelled

L2 = 0.03
STEPS = 1500
LEARNING_RATE = 0.3
_PLAIN = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")


def training_frame() -> pd.DataFrame:
    """The training set plus diacritic-free copies of the Polish texts that have diacritics."""
    train = labelled("train")
    pl = train[train.lang == "pl"]
    plain = pl.assign(text=pl.text.str.translate(_PLAIN))
    plain = plain[plain.text != pl.text]
    return pd.concat([train, plain], ignore_index=True)


def train_head(frame: pd.DataFrame | None = None) -> SoftmaxHead:
    """Fit the head on ``frame`` (default :func:`training_frame`)."""
    frame = training_frame() if frame is None else frame
    x = features(frame.text.tolist(), frame.lang.tolist())
    y = np.array([LABELS.index(v) for v in frame.label])
    meta = {"features": "e5-small-q4 query embedding + lexicon[score,pos,neg,is_pl]",
            "train_rows": str(len(frame)), "l2": str(L2)}
    return SoftmaxHead.fit(x, y, l2=L2, steps=STEPS, lr=LEARNING_RATE, meta=meta)


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path(str(files("touchlens.voc").joinpath("data"))) / HEAD_FILE
    head = train_head()
    head.save(out)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
