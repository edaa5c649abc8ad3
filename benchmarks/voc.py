"""Voice-of-customer benchmark: sentiment quality on the held-out set and speed per mode.

    python benchmarks/voc.py [--speed-texts N] [--skip-accurate]

Approaches compared on ``touchlens/voc/data/labelled/eval.tsv`` (never used for training):

- ``fast``: the lexicon mode (word lists + negation rules), the default for large volumes;
- ``e5 head``: multilingual-e5-small embeddings + a logistic head trained here on train.tsv
  (embeddings only);
- ``accurate``: the shipped head (embeddings + lexicon features), touchlens's accurate mode.

Speed: texts per wall-clock second and per CPU-second on simulated feedback texts, one
process (run with OMP_NUM_THREADS=1 to read the accurate row as texts/s per core); the core
count and load average are printed with the table. Needs ``pip install -e .[voc]``
for the embedding rows.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd

from touchlens.simulate import simulate_retailer
from touchlens.voc.analyze import analyze_texts
from touchlens.voc.language import detect_language
from touchlens.voc.sentiment import accurate
from touchlens.voc.sentiment.head import LABELS, SoftmaxHead
from touchlens.voc.sentiment.lexicon import score_text
from touchlens.voc.sentiment.quality import labelled, report
from touchlens.voc.sentiment.train import L2, training_frame


def _texts(n: int) -> list[str]:
    world = simulate_retailer(max(2_000, n), seed=11, days=180)
    texts = [t for t in world.feedback.column("text").to_pylist() if t]
    reps = int(np.ceil(n / len(texts)))
    return (texts * reps)[:n]


def _rate(fn, texts: list[str]) -> dict[str, float]:
    """Texts per wall-clock second and per CPU-second of this process (the latter stays
    meaningful on a busy machine; with one thread it is texts/s per core)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn(texts)
    return {"texts_per_s": len(texts) / (time.perf_counter() - wall),
            "texts_per_cpu_s": len(texts) / (time.process_time() - cpu)}


def quality(skip_accurate: bool) -> pd.DataFrame:
    ev = labelled("eval")
    rows = []

    def add(name: str, predicted: list[str]) -> None:
        for r in report(ev, predicted).itertuples(index=False):
            rows.append({"approach": name, "lang": r.lang, "n": r.n,
                         "accuracy": round(r.accuracy, 3), "macro_f1": round(r.macro_f1, 3)})

    add("fast (lexicon)", [score_text(t, lg).label for t, lg in zip(ev.text, ev.lang,
                                                                     strict=True)])
    if not skip_accurate and accurate.available():
        train = training_frame()
        x_train = accurate.embed(train.text.tolist())
        y = np.array([LABELS.index(v) for v in train.label])
        e5 = SoftmaxHead.fit(x_train, y, l2=L2, steps=1500, lr=0.3)
        x_eval = accurate.embed(ev.text.tolist())
        add("e5 head (embeddings only)",
            [LABELS[k] for k in e5.predict_proba(x_eval).argmax(axis=1)])
        add("accurate (e5 + lexicon head)",
            [label for label, _ in accurate.predict(ev.text.tolist(), ev.lang.tolist())])
    return pd.DataFrame(rows)


def speed(n: int, skip_accurate: bool) -> pd.DataFrame:
    texts = _texts(n)
    rows = [
        {"step": "language detection",
         **_rate(lambda ts: [detect_language(t) for t in ts], texts)},
        {"step": "fast sentiment (lexicon only)",
         **_rate(lambda ts: [score_text(t, "pl") for t in ts], texts)},
        {"step": "fast mode, full row (language + sentiment + topics)",
         **_rate(lambda ts: analyze_texts(ts, mode="fast"), texts)},
    ]
    if not skip_accurate and accurate.available():
        few = texts[: max(64, n // 50)]
        accurate.embed(few[:2])  # load the model outside the timing
        rows.append({"step": "accurate mode, full row",
                     **_rate(lambda ts: analyze_texts(ts, mode="accurate"), few)})
    return pd.DataFrame(rows).round(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed-texts", type=int, default=20_000)
    parser.add_argument("--skip-accurate", action="store_true")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}  load average: {os.getloadavg()[0]:.1f}")
    print("\nHeld-out sentiment quality (eval.tsv)")
    print(quality(args.skip_accurate).to_string(index=False))
    print(f"\nSpeed ({args.speed_texts:,} simulated feedback texts)")
    print(speed(args.speed_texts, args.skip_accurate).to_string(index=False))


if __name__ == "__main__":
    main()
