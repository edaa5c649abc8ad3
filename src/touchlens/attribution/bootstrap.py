"""Bootstrap over journeys, done on aggregated cells with multinomial weights.

Resampling N journeys with replacement is the same as drawing, for the cells "journeys of
path (or coalition, or feature pattern) i that converted" and "… that did not", counts from
Multinomial(N, counts / N) — so a replicate never touches the raw journeys. A cell's revenue
follows its conversions at the cell's mean value per conversion. Intervals are percentile
intervals of the replicated credits (default 95 %).
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from touchlens.errors import ConfigError


def check_bootstrap(n: int) -> int:
    if not isinstance(n, int | np.integer) or n < 0:
        raise ConfigError(f"bootstrap must be a whole number >= 0, got {n!r}")
    if 0 < n < 20:
        raise ConfigError(f"use at least 20 bootstrap replicates for an interval, got {n}")
    return int(n)


def replicates(conversions: np.ndarray, nulls: np.ndarray, n: int, seed: int = 0
               ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``n`` resampled (conversions, nulls) pairs of arrays shaped like the inputs."""
    conversions = np.asarray(conversions, dtype=float)
    nulls = np.asarray(nulls, dtype=float)
    cells = np.concatenate([conversions, nulls])
    total = cells.sum()
    if total <= 0:
        for _ in range(n):
            yield conversions.copy(), nulls.copy()
        return
    size = max(round(total), 1)
    p = cells / total
    rng = np.random.default_rng(seed)
    k = len(conversions)
    for _ in range(n):
        draw = rng.multinomial(size, p).astype(float)
        yield draw[:k], draw[k:]


def scaled_revenue(revenue: np.ndarray, conversions: np.ndarray, resampled: np.ndarray
                   ) -> np.ndarray:
    """Revenue of resampled conversions at each cell's mean value per conversion."""
    conversions = np.asarray(conversions, dtype=float)
    mean = np.divide(revenue, conversions, out=np.zeros_like(conversions),
                     where=conversions > 0)
    return mean * resampled


def interval(samples: np.ndarray, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval per column of ``samples`` (replicates × labels)."""
    if not 0 < confidence < 1:
        raise ConfigError(f"confidence must be in (0, 1), got {confidence!r}")
    alpha = (1 - confidence) / 2
    low, high = np.quantile(np.asarray(samples, dtype=float), [alpha, 1 - alpha], axis=0)
    return low, high
