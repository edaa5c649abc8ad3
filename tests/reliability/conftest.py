"""Fixtures for the reliability drills: event files, a child process stopped on cue, kill -9.

The drills run on DuckDB only: they are about what reaches the workspace file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("crash_child.py")
HEADER = "event_id,occurred_at,customer_id,channel,touchpoint,event_type,revenue\n"


def _write_events(path: Path, n: int, *, prefix: str = "e", bad_every: int = 0) -> Path:
    """``n`` events (ids ``{prefix}{i}``); every ``bad_every``-th has an unknown event type."""
    with path.open("w", encoding="utf-8") as fh:
        fh.write(HEADER)
        for i in range(n):
            kind = "teleport" if bad_every and i % bad_every == 0 else "page_view"
            fh.write(f"{prefix}{i},2026-01-{1 + i % 28:02d}T10:00:00Z,c{i % 997},web,"
                     f"page_{i % 40},{kind},\n")
    return path


def child_env() -> dict[str, str]:
    src = str(Path(__file__).resolve().parents[2] / "src")
    return {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}


@pytest.fixture
def stopped_child() -> Iterator[Callable[..., subprocess.Popen]]:
    """``stopped_child(db, point, *files)``: start the child and return once it is READY."""
    started: list[subprocess.Popen] = []

    def start(db: Path, point: str, *files: Path) -> subprocess.Popen:
        proc = subprocess.Popen(
            [sys.executable, str(CHILD), str(db), point, *map(str, files)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=child_env())
        started.append(proc)
        line = proc.stdout.readline()  # blocks until the child reaches its stop point
        if line.strip() != "READY":
            proc.kill()
            _, err = proc.communicate(timeout=60)
            pytest.fail(f"child did not reach {point}: {line!r}\n{err[-3000:]}")
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def _kill9(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


@pytest.fixture
def write_events() -> Callable[..., Path]:
    """``write_events(path, n, prefix="e", bad_every=0)``: a CSV of ``n`` events (ids
    ``{prefix}{i}``); every ``bad_every``-th row has an unknown event type (quarantined)."""
    return _write_events


@pytest.fixture
def kill9() -> Callable[[subprocess.Popen], None]:
    """SIGKILL a child: no cleanup, no atexit, no rollback by the process itself."""
    return _kill9
