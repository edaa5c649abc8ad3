"""CUSUM detector on synthetic KPI grids with known change points (no workspace needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchlens.errors import ConfigError
from touchlens.monitoring import Detector, detect
from touchlens.monitoring.anomalies import _episodes, arl0, cusum, threshold_for

START = pd.Timestamp("2026-01-05", tz="UTC")  # a Monday
VOLUME = Detector(metrics=("volume",), h=6.0)  # fixed h: ARL₀ ≈ 4e5 days per series


def volume_grid(seed: int, *, days: int = 140, weeks: int = 4,
                change: dict[str, tuple[int, float, int | None]] | None = None) -> pd.DataFrame:
    """Poisson daily counts with a weekday pattern for touchpoints a, b, c (means 60, 120, 240),
    optionally × factor on days [start, end); baselines as in kpis.py."""
    rng = np.random.default_rng(seed)
    weekday = np.array([1.0, 1.1, 1.1, 1.0, 0.9, 0.6, 0.5])
    rows = []
    for tp, mean in (("a", 60), ("b", 120), ("c", 240)):
        lam = mean * weekday[np.arange(days) % 7]
        if change and tp in change:
            day, factor, end = change[tp]
            lam[day:end] *= factor
        counts = rng.poisson(lam)
        frame = pd.DataFrame({"touchpoint": tp, "period_start": START + pd.to_timedelta(
            np.arange(days), unit="D"), "n_events": counts})
        slot = frame.groupby(np.arange(days) % 7)["n_events"]
        frame["n_events_base"] = slot.transform(lambda s: s.shift(1).rolling(weeks, 1).sum())
        frame["baseline_n"] = slot.transform(lambda s: s.shift(1).rolling(weeks, 1).count())
        frame["volume_expected"] = frame["n_events_base"] / frame["baseline_n"]
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def test_a_step_change_is_found_with_its_change_point() -> None:
    grid = volume_grid(1, change={"b": (125, 0.6, None)})
    alerts = detect(grid, VOLUME, grain="day")
    assert len(alerts) == 1
    a = alerts.iloc[0]
    assert (a.touchpoint, a.metric, a.direction) == ("b", "volume", "down")
    assert a.since == START + pd.Timedelta(days=125)
    assert a.detected_at <= START + pd.Timedelta(days=129)
    assert a.band_low < a.expected < a.band_high and a.observed < a.expected
    assert a.statistic > a.threshold and bool(a.active)


def test_an_old_level_shift_becomes_the_new_normal() -> None:
    # after the baseline weeks have seen the new level, the episode closes (active = False)
    grid = volume_grid(1, change={"b": (90, 0.6, None)})
    alerts = detect(grid, VOLUME, grain="day")
    assert len(alerts) == 1 and not bool(alerts.iloc[0].active)
    assert alerts.iloc[0].since == START + pd.Timedelta(days=90)


def test_a_spike_is_found_and_ends() -> None:
    grid = volume_grid(2, change={"c": (90, 1.5, 93)})  # +50 % for three days
    alerts = detect(grid, VOLUME, grain="day")
    up = alerts[(alerts.touchpoint == "c") & (alerts.direction == "up")]
    assert len(up) == 1 and up.iloc[0].since == START + pd.Timedelta(days=90)
    assert up.iloc[0].detected_at <= START + pd.Timedelta(days=91)
    assert not bool(up.iloc[0].active)


@pytest.mark.parametrize("seed", range(5))
def test_no_alerts_on_stable_series(seed: int) -> None:
    assert detect(volume_grid(10 + seed), VOLUME, grain="day").empty


def test_siegmund_arl_matches_simulation_and_threshold_inverts_it() -> None:
    # one-sided CUSUM, k = 0.5, h = 4: tabulated in-control ARL ≈ 336
    assert arl0(4.0, 0.5) == pytest.approx(336, rel=0.02)
    rng = np.random.default_rng(0)
    chains, steps = 2000, 4000
    s = np.zeros(chains)
    run = np.full(chains, steps)
    for t in range(steps):
        s = np.maximum(0, s + rng.standard_normal(chains) - 0.5)
        hit = (s > 4.0) & (run == steps)
        run[hit] = t + 1
    assert run.mean() == pytest.approx(336, rel=0.1)
    h = threshold_for(100, 0.02, 1.0)
    assert arl0(h, 1.0) / 2 == pytest.approx(100 / 0.02, rel=1e-9)


@given(st.lists(st.floats(-6, 6), min_size=1, max_size=60), st.floats(0.1, 2.0))
@settings(max_examples=100, deadline=None)
def test_cusum_equals_a_plain_loop(z: list[float], k: float) -> None:
    up, down = cusum(np.array([z]), k)
    su = sd = 0.0
    for t, v in enumerate(z):
        su, sd = max(0.0, su + v - k), max(0.0, sd - v - k)
        assert up[0, t] == pytest.approx(su) and down[0, t] == pytest.approx(sd)


def test_an_episode_dipping_under_h_stays_one_alert() -> None:
    stat = np.array([[0, 2, 6, 4, 7, 0, 0, 6]], dtype=float)
    # crosses h = 5 at t = 2 and again at t = 4 without returning to 0: one episode from t = 1
    assert _episodes(stat, 5.0) == [(0, 1, 2, False), (0, 7, 7, True)]


def test_detector_settings_are_validated() -> None:
    grid = volume_grid(3)
    with pytest.raises(ConfigError, match="unknown metric"):
        detect(grid, Detector(metrics=("ctr",)))
    with pytest.raises(ConfigError, match="k must be positive"):
        detect(grid, Detector(k=0, metrics=("volume",)))
    assert detect(grid.iloc[:0], VOLUME).empty
