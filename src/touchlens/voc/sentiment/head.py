"""A multinomial logistic-regression head (numpy only): trained once by the authors, its
weights shipped in ``data/sentiment_head.npz`` so prediction needs no training at run time.

p(class | x) = softmax(((x − mean) / scale) · W + b); fitted by full-batch gradient descent
with Nesterov momentum on the mean cross-entropy + ``l2`` · ‖W‖² / 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

LABELS = ("negative", "neutral", "positive")


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


@dataclass
class SoftmaxHead:
    """Standardisation + linear layer + softmax over :data:`LABELS`."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # (n_features, 3)
    bias: np.ndarray  # (3,)
    meta: dict[str, Any]

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, *, l2: float = 1e-2, steps: int = 3000,
            lr: float = 0.5, sample_weight: np.ndarray | None = None,
            meta: dict[str, Any] | None = None) -> SoftmaxHead:
        """Fit on features ``x`` (n × d) and class indices ``y`` (0 neg, 1 neu, 2 pos)."""
        x = np.asarray(x, dtype=np.float64)
        mean = x.mean(axis=0)
        scale = x.std(axis=0) + 1e-6
        z = (x - mean) / scale
        n, d = z.shape
        onehot = np.eye(len(LABELS))[y]
        sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
        sw = sw / sw.sum()
        w = np.zeros((d, len(LABELS)))
        b = np.zeros(len(LABELS))
        vw, vb = np.zeros_like(w), np.zeros_like(b)
        for _ in range(steps):
            lw, lb = w + 0.9 * vw, b + 0.9 * vb
            g = (softmax(z @ lw + lb) - onehot) * sw[:, None]
            vw = 0.9 * vw - lr * (z.T @ g + l2 * lw)
            vb = 0.9 * vb - lr * g.sum(axis=0)
            w, b = w + vw, b + vb
        return cls(mean, scale, w, b, dict(meta or {}))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, dtype=np.float64) - self.mean) / self.scale
        return softmax(z @ self.weights + self.bias)

    def save(self, path: str | Path) -> None:
        meta = np.array([f"{k}={v}" for k, v in self.meta.items()])
        np.savez_compressed(path, mean=self.mean.astype(np.float32),
                            scale=self.scale.astype(np.float32),
                            weights=self.weights.astype(np.float32),
                            bias=self.bias.astype(np.float32), meta=meta)

    @classmethod
    def load(cls, source: Any) -> SoftmaxHead:
        with np.load(source, allow_pickle=False) as f:
            meta = dict(str(m).split("=", 1) for m in f["meta"])
            return cls(f["mean"].astype(np.float64), f["scale"].astype(np.float64),
                       f["weights"].astype(np.float64), f["bias"].astype(np.float64), meta)
