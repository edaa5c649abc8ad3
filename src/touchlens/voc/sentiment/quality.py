"""The labelled sets shipped with touchlens and the scores used to judge a sentiment mode.

``data/labelled/train.tsv`` (training and threshold tuning only) and ``eval.tsv`` (held out):
short Polish and English customer-feedback texts written by the touchlens authors (CC0-1.0).
Macro-F1 = mean over the three classes of F1 = 2·P·R / (P + R).
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd

LABELS = ("negative", "neutral", "positive")


def labelled(name: str = "eval") -> pd.DataFrame:
    """The ``train`` or ``eval`` set: columns label, lang, text."""
    if name not in ("train", "eval"):
        raise ValueError(f"labelled set must be 'train' or 'eval', not {name!r}")
    raw = files("touchlens.voc").joinpath("data").joinpath("labelled").joinpath(f"{name}.tsv")
    rows = [line.split("\t") for line in raw.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return pd.DataFrame(rows, columns=["label", "lang", "text"])


def macro_f1(truth: list[str] | pd.Series, predicted: list[str] | pd.Series) -> float:
    """Macro-averaged F1 over negative / neutral / positive (0..1)."""
    t = np.asarray(truth, dtype=object)
    p = np.asarray(predicted, dtype=object)
    scores = []
    for label in LABELS:
        tp = float(np.sum((t == label) & (p == label)))
        fp = float(np.sum((t != label) & (p == label)))
        fn = float(np.sum((t == label) & (p != label)))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def accuracy(truth: list[str] | pd.Series, predicted: list[str] | pd.Series) -> float:
    return float(np.mean(np.asarray(truth, dtype=object) == np.asarray(predicted, dtype=object)))


def report(frame: pd.DataFrame, predicted: list[str]) -> pd.DataFrame:
    """Per language: n, accuracy and macro-F1 of ``predicted`` against ``frame.label``."""
    f = frame.assign(predicted=list(predicted))
    rows = []
    for lang, g in f.groupby("lang", sort=True):
        rows.append({"lang": lang, "n": len(g), "accuracy": accuracy(g.label, g.predicted),
                     "macro_f1": macro_f1(g.label, g.predicted)})
    return pd.DataFrame(rows)
