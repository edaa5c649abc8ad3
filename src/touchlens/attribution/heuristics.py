"""Rule-based attribution: every rule's credit in one Ibis aggregation over the touches.

Each rule gives every step of a converting path a weight w (weights of a path sum to 1); a
label's credit is Σ w · conversions and Σ w · revenue over the steps it holds. With n steps
in the path and s the 0-based step (DOMAIN.md; Adobe Customer Journey Analytics rule list):

- ``first``: w = 1 at s = 0.   ``last``: w = 1 at s = n − 1.
- ``last_non_direct``: w = 1 at the last step that is not a direct touch (channel
  ``direct``); the last step when every step is direct.
- ``linear``: w = 1/n.
- ``participation``: w = 1 at the first occurrence of each distinct label (a reach view:
  credits sum to more than the conversions; ``share`` is normalised over labels).
- position-based with weights (first f, middle m, last l), f + m + l = 1: n = 1 → 1;
  n = 2 → f/(f+l) and l/(f+l); n ≥ 3 → f, l, and m/(n − 2) to each middle step.
  ``position`` (U-shaped) 0.4/0.2/0.4, ``j_curve`` 0.2/0.2/0.6, ``inverse_j`` 0.6/0.2/0.2,
  ``custom`` the caller's weights.
- ``w_shaped``: 0.3 first, 0.3 last, 0.3 to the middle step s = ⌊(n − 1)/2⌋ (standing in for
  the lead-creation touch), 0.1 split over the other steps; n = 2 → ½ each, n = 3 → ⅓ each.
- ``time_decay``: w ∝ 2^(−Δt / half_life_days), Δt = days from the step's last event to the
  conversion; needs timestamps (workspace journeys, not path tables).
"""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import ibis.expr.types as ir
import pandas as pd

from touchlens.attribution.paths import NONE, PathSource
from touchlens.errors import ConfigError

POSITION_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "position": (0.4, 0.2, 0.4),
    "j_curve": (0.2, 0.2, 0.6),
    "inverse_j": (0.6, 0.2, 0.2),
}
RULES: tuple[str, ...] = ("first", "last", "last_non_direct", "linear", "participation",
                          "position", "j_curve", "inverse_j", "w_shaped", "time_decay",
                          "custom")
TIMED_RULES = ("time_decay",)


def check_weights(weights: Sequence[float]) -> tuple[float, float, float]:
    """(first, middle, last) weights: three non-negative numbers summing to 1."""
    try:
        f, m, last = (float(x) for x in weights)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"position weights must be three numbers (first, middle, last), "
                          f"got {weights!r}") from exc
    if min(f, m, last) < 0 or abs(f + m + last - 1.0) > 1e-9:
        raise ConfigError(f"position weights must be >= 0 and sum to 1, got {weights!r}")
    return f, m, last


def _position(t: ir.Table, f: float, m: float, last: float) -> ir.Value:
    n, s = t.n_steps, t.step
    ends = f + last
    f2, l2 = (f / ends, last / ends) if ends > 0 else (0.5, 0.5)
    middle = m / ibis.greatest(n - 2, 1).cast("float64")
    return ibis.cases(
        (n == 1, 1.0),
        (n == 2, ibis.ifelse(s == 0, f2, l2)),
        (s == 0, f),
        (s == n - 1, last),
        else_=middle,
    )


def _w_shaped(t: ir.Table) -> ir.Value:
    n, s = t.n_steps, t.step
    key = (n - 1) // 2
    rest = 0.1 / ibis.greatest(n - 3, 1).cast("float64")
    return ibis.cases(
        (n == 1, 1.0),
        (n == 2, 0.5),
        (n == 3, 1.0 / 3.0),
        ((s == 0) | (s == n - 1) | (s == key), 0.3),
        else_=rest,
    )


def rule_weights(t: ir.Table, rules: Sequence[str], *, half_life_days: float = 7.0,
                 custom: Sequence[float] | None = None) -> dict[str, ir.Value]:
    """Ibis expressions of w for each rule over the touch table ``t``."""
    path = ibis.window(group_by=t.path_key)
    w: dict[str, ir.Value] = {}
    for rule in rules:
        if rule == "first":
            w[rule] = ibis.ifelse(t.step == 0, 1.0, 0.0)
        elif rule == "last":
            w[rule] = ibis.ifelse(t.step == t.n_steps - 1, 1.0, 0.0)
        elif rule == "last_non_direct":
            lnd = t.step.max(where=~t.is_direct).over(path).coalesce(t.n_steps - 1)
            w[rule] = ibis.ifelse(t.step == lnd, 1.0, 0.0)
        elif rule == "linear":
            w[rule] = 1.0 / t.n_steps.cast("float64")
        elif rule == "participation":
            first_seen = t.step.min().over(ibis.window(group_by=[t.path_key, t.label]))
            w[rule] = ibis.ifelse(t.step == first_seen, 1.0, 0.0)
        elif rule in POSITION_WEIGHTS:
            w[rule] = _position(t, *POSITION_WEIGHTS[rule])
        elif rule == "custom":
            if custom is None:
                raise ConfigError("the custom rule needs position weights (first, middle, last)")
            w[rule] = _position(t, *check_weights(custom))
        elif rule == "w_shaped":
            w[rule] = _w_shaped(t)
        elif rule == "time_decay":
            if not half_life_days > 0:
                raise ConfigError(f"half_life_days must be > 0, got {half_life_days!r}")
            raw = (-(t.days_before.fill_null(0.0)) * (0.6931471805599453 / half_life_days)).exp()
            w[rule] = raw / raw.sum().over(path)
        else:
            raise ConfigError(f"unknown rule {rule!r}; rules: {', '.join(RULES)}")
    return w


def heuristic_credits(source: PathSource, rules: Sequence[str], *,
                      half_life_days: float = 7.0,
                      custom: Sequence[float] | None = None) -> pd.DataFrame:
    """Long table: model, label, conversions, revenue (one query for all ``rules``).

    Conversions without any touch are credited to the ``"(none)"`` label in every rule.
    """
    rules = list(dict.fromkeys(rules))
    if not source.has_time and any(r in TIMED_RULES for r in rules):
        raise ConfigError("time_decay needs touch timestamps; a path table has none "
                          "(run it on a workspace)")
    t = source.credited_touches()
    weights = rule_weights(t, rules, half_life_days=half_life_days, custom=custom)
    t = t.mutate(**{f"_w_{r}": e for r, e in weights.items()})
    aggs = {}
    for r in rules:
        col = t[f"_w_{r}"]
        aggs[f"c__{r}"] = (col * t.conversions).sum()
        aggs[f"r__{r}"] = (col * t.revenue).sum()
    wide = source.execute(t.group_by("label").agg(**aggs))
    p = source.paths
    empty = p.filter(~p.touched)
    none = source.execute(empty.aggregate(c=empty.conversions.sum(), r=empty.revenue.sum()))
    c0 = float(none["c"].fillna(0).iloc[0]) if len(none) else 0.0
    r0 = float(none["r"].fillna(0).iloc[0]) if len(none) else 0.0
    frames = []
    for r in rules:
        part = pd.DataFrame({"model": r, "label": wide["label"].astype(str),
                             "conversions": wide[f"c__{r}"].astype("float64"),
                             "revenue": wide[f"r__{r}"].astype("float64")})
        if c0 or r0:
            part = pd.concat([part, pd.DataFrame({"model": [r], "label": [NONE],
                                                  "conversions": [c0], "revenue": [r0]})])
        frames.append(part)
    cols = ["model", "label", "conversions", "revenue"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)
