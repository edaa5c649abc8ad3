"""The true conversion model of the demo world, and the incremental conversions it implies.

A journey with base propensity ``b`` and ``n_tp`` contacts with each marketing touchpoint
converts with probability

    P = 1 − (1 − b) · Π_tp (1 − effect_tp · s_tp(n_tp)),   s_tp(n) = 1 − exp(−n / κ_tp)

(no interaction terms: touchpoints combine as independent chances to convince). ``effect_tp``
is the lift at saturation; one contact gives ``effect_tp · (1 − e^{−1/κ_tp})``. Touchpoints
outside the exposure table (funnel, service, advocacy) have effect 0.

Ground truth of a touchpoint = Σ over journeys decided inside the window (censored ones,
ending past the horizon, are left out) of (P_full − P_without_tp): the expected
conversions lost when all its contacts are removed. ``true_share`` normalises these to sum 1
over touchpoints (the removal effects themselves do not add up to the incremental total,
because P is not additive). The channel table removes a channel's touchpoints jointly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from touchlens.simulate.spec import (
    ADVOCACY,
    EXPOSURES,
    FUNNEL,
    SERVICE,
    Exposure,
    channel_of,
)

TRUTH_COLUMNS = ["touchpoint", "channel", "role", "true_effect", "true_incremental_conversions",
                 "true_share"]


def saturation(n: np.ndarray | float, kappa: np.ndarray | float) -> np.ndarray | float:
    """s(n) = 1 − exp(−n / κ): share of a touchpoint's maximal effect reached after n contacts."""
    return 1.0 - np.exp(-np.asarray(n, dtype=float) / kappa)


def _factors(counts: np.ndarray, effect: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """q[j, k] = 1 − effect_k · s_k(n_jk): chance touchpoint k fails to convince journey j."""
    return 1.0 - effect[None, :] * saturation(counts, kappa[None, :])


def conversion_probability(counts: np.ndarray, base: np.ndarray, effect: np.ndarray,
                           kappa: np.ndarray) -> np.ndarray:
    """P per journey for a (journeys × touchpoints) matrix of contact counts."""
    q = _factors(np.asarray(counts, dtype=float), effect, kappa)
    return 1.0 - (1.0 - np.asarray(base, dtype=float)) * q.prod(axis=1)


def true_conversion_probability(touches: Mapping[str, int], base: float, *,
                                exposures: Sequence[Exposure] = EXPOSURES) -> float:
    """P(conversion) of one journey with ``touches`` = {touchpoint: number of contacts}.

    Touchpoints without a causal effect (or unknown ones) leave P unchanged.
    """
    if not 0.0 <= base <= 1.0:
        raise ValueError(f"base must be a probability in [0, 1], got {base!r}")
    by_name = {e.touchpoint: e for e in exposures}
    p_fail = 1.0 - base
    for tp, n in touches.items():
        if n < 0:
            raise ValueError(f"number of contacts must be >= 0, got {tp}={n!r}")
        e = by_name.get(tp)
        if e is not None:
            p_fail *= 1.0 - e.effect * float(saturation(n, e.kappa))
    return 1.0 - p_fail


def removal_effects(counts: np.ndarray, base: np.ndarray, effect: np.ndarray,
                    kappa: np.ndarray) -> np.ndarray:
    """P_full − P_without_k for each journey j and touchpoint k (journeys × touchpoints).

    With Q = Π_k q_k: P_full − P_without_k = (1 − b) · Q · (1/q_k − 1).
    """
    q = _factors(np.asarray(counts, dtype=float), effect, kappa)
    keep = (1.0 - np.asarray(base, dtype=float)) * q.prod(axis=1)
    return keep[:, None] * (1.0 / q - 1.0)


def channel_removal_effects(counts: np.ndarray, base: np.ndarray, effect: np.ndarray,
                            kappa: np.ndarray, channels: Sequence[str]) -> dict[str, float]:
    """Σ_j (P_full − P_without_channel): all touchpoints of a channel removed together."""
    q = _factors(np.asarray(counts, dtype=float), effect, kappa)
    keep = (1.0 - np.asarray(base, dtype=float)) * q.prod(axis=1)
    out: dict[str, float] = {}
    names = np.asarray(channels)
    for ch in dict.fromkeys(channels):
        q_ch = q[:, names == ch].prod(axis=1)
        out[ch] = float((keep * (1.0 / q_ch - 1.0)).sum())
    return out


def role_of(touchpoint: str) -> str:
    """``marketing`` (randomised exposure), ``funnel``, ``service`` or ``advocacy``."""
    if touchpoint in FUNNEL:
        return "funnel"
    if touchpoint in SERVICE:
        return "service"
    if touchpoint in ADVOCACY:
        return "advocacy"
    return "marketing"


def truth_table(incremental: Mapping[str, float], exposures: Sequence[Exposure],
                seen: Sequence[str]) -> pd.DataFrame:
    """One row per touchpoint (marketing ones, then any other touchpoint seen in events).

    ``incremental`` maps marketing touchpoints to summed removal effects (expected conversions).
    """
    effects = {e.touchpoint: e.effect for e in exposures}
    names = [e.touchpoint for e in exposures] + sorted(set(seen) - set(effects))
    inc = np.array([float(incremental.get(tp, 0.0)) for tp in names])
    total = inc.sum()
    frame = pd.DataFrame({
        "touchpoint": names,
        "channel": [channel_of(tp) for tp in names],
        "role": [role_of(tp) for tp in names],
        "true_effect": [effects.get(tp, 0.0) for tp in names],
        "true_incremental_conversions": inc,
        "true_share": inc / total if total > 0 else np.zeros_like(inc),
    })
    return frame.sort_values(["true_share", "touchpoint"], ascending=[False, True],
                             ignore_index=True)[TRUTH_COLUMNS]


def channel_truth_table(incremental: Mapping[str, float]) -> pd.DataFrame:
    """channel, true_incremental_conversions (joint removal), true_share (normalised to 1)."""
    names = sorted(incremental)
    inc = np.array([incremental[c] for c in names], dtype=float)
    total = inc.sum()
    frame = pd.DataFrame({"channel": names, "true_incremental_conversions": inc,
                          "true_share": inc / total if total > 0 else np.zeros_like(inc)})
    return frame.sort_values(["true_share", "channel"], ascending=[False, True],
                             ignore_index=True)
