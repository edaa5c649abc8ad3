"""Collector benchmark: a bounded load generator against ``touchlens serve`` on loopback.

    python benchmarks/collector.py [--requests 600] [--batch 100] [--concurrency 4]
                                   [--rate 0] [--bad 0.01] [--dup 0.01] [--seed 0] [--db PATH]

Starts the server in a child process on 127.0.0.1 (a free port) over a fresh workspace (or a
copy of ``--db``, e.g. the demo's), sends exactly ``--requests`` batches of ``--batch``
events (a fraction ``--bad`` of items invalid, ``--dup`` resent), then stops the server and
checks that nothing was lost. Two ways of sending:

- closed loop (default): ``--concurrency`` workers, each sending its next batch when the
  previous one is answered. Throughput and latency are tied: latency = concurrency /
  request rate, so this measures how fast the server can go;
- open loop (``--rate R``): batch *i* is sent at start + *i*/R seconds whatever the answers
  (as independent clients do), and its latency is counted from that scheduled time, so a
  server falling behind shows up in the latency (no coordinated omission). This measures
  the latency at a given load, e.g. ``--rate 50 --batch 100`` = 5,000 events/s.

The loss check:

    items sent = accepted + duplicates + rejected (answers)
    accepted   = new rows in ``events``;  rejected = new rows in ``quarantine``

Before the measured batches, ``--warmup`` batches (default 100) are sent and answered: the
first requests of a fresh server pay one-off costs (imports, first queries; ~0.5 s), which
are not the sustained rate. They are counted in the loss check, not in the timings. While it
times requests the load generator does not collect garbage (its full collections took
100–150 ms, which counted as server latency).

Prints events/s (accepted + duplicates + rejected per wall second, while sending) and the
p50/p99 request latency. Goal (issue 7): >= 5,000 events/s, p99 < 50 ms, on 2 cores.

``--rebuild``: as the timed batches start, another client reads the journeys
(``GET /v1/journeys``), which rebuilds the identity map and the journey cache for the
warm-up's events — over a minute on a 10M-event workspace (``--db``). The table adds how
long that read took and the p99 of the requests sent while it ran: the collector should not
wait for it.

Also printed: the server process's CPU per request while sending (all its threads, from
``/proc``), and the writer thread's own account (commits, requests per commit, CPU and wall
ms per commit, over the whole run including the warm-up), which the server logs at shutdown.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

from touchlens import Workspace
from touchlens.api.security import create_key

CHANNELS = [("email", "newsletter", "open"), ("web", "product_page", "page_view"),
            ("paid_search", "search_ad", "click"), ("social_paid", "social_ad", "impression"),
            ("web", "cart", "add_to_cart"), ("web", "checkout", "purchase")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _batches(n_requests: int, size: int, bad: float, dup: float, seed: int) -> list[list[dict]]:
    rng = random.Random(seed)
    start = datetime(2026, 4, 1, tzinfo=UTC)
    sent: list[str] = []
    out = []
    for r in range(n_requests):
        batch = []
        for i in range(size):
            if sent and rng.random() < dup:
                event_id = rng.choice(sent)
            else:
                event_id = f"bench-{seed}-{r}-{i}"
                sent.append(event_id)
            channel, touchpoint, event_type = rng.choice(CHANNELS)
            item = {"event_id": event_id,
                    "occurred_at": (start + timedelta(seconds=r * size + i)).isoformat(),
                    "customer_id": f"B{rng.randrange(5000):05d}", "channel": channel,
                    "touchpoint": touchpoint, "event_type": event_type}
            if event_type == "purchase":
                item["revenue"] = round(rng.uniform(10, 300), 2)
            if rng.random() < bad:
                item["event_type"] = "not_a_type"
            batch.append(item)
        out.append(batch)
    return out


async def _send(url: str, key: str, batches: list[list[dict]], concurrency: int
                ) -> tuple[list[float], list[dict], float, list[float]]:
    queue: asyncio.Queue = asyncio.Queue()
    for b in batches:  # encoded up front: the generator shares the 2 cores with the server
        queue.put_nowait(json.dumps(b).encode())
    latencies: list[float] = []
    sent_at: list[float] = []
    answers: list[dict] = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                 timeout=60) as client:
        async def worker() -> None:
            while not queue.empty():
                batch = queue.get_nowait()
                t0 = time.perf_counter()
                r = await _post(client, batch)
                latencies.append(time.perf_counter() - t0)
                sent_at.append(t0)
                r.raise_for_status()
                answers.append(r.json())

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return latencies, answers, wall, sent_at


async def _post(client: httpx.AsyncClient, body: bytes) -> httpx.Response:
    """POST one batch; 503 = the writer's queue is full: back off and retry (20 tries)."""
    for _attempt in range(20):
        r = await client.post("/v1/events", content=body)
        if r.status_code != 503:
            break
        await asyncio.sleep(0.05)
    return r


async def _send_open(url: str, key: str, batches: list[list[dict]], rate: float
                     ) -> tuple[list[float], list[dict], float, list[float]]:
    """Batch i sent at start + i / rate (open loop); latency from that scheduled time."""
    bodies = [json.dumps(b).encode() for b in batches]
    latencies: list[float] = []
    sent_at: list[float] = []
    answers: list[dict] = []
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits,
                                 timeout=60) as client:
        started = time.perf_counter()

        async def one(i: int, body: bytes) -> None:
            due = started + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            r = await _post(client, body)
            latencies.append(time.perf_counter() - due)
            sent_at.append(due)
            r.raise_for_status()
            answers.append(r.json())

        await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies)))
        wall = time.perf_counter() - started
    return latencies, answers, wall, sent_at


def _counts(db: Path) -> tuple[int, int]:
    with Workspace.open(db) as ws:
        return ws.store.count("events"), ws.store.count("quarantine")


def _wait_ready(url: str, proc: subprocess.Popen) -> None:
    for _ in range(600):  # at most ~60 s for the server to open the workspace
        if proc.poll() is not None:
            raise RuntimeError("the server exited early; see its output above")
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


# the server, with the writer's INFO line (its account at shutdown) on stderr
_SERVE = ("import logging, sys; logging.basicConfig(format='%(message)s'); "
          "logging.getLogger('touchlens.api.writer').setLevel(logging.INFO); "
          "from touchlens.cli import main; sys.argv[0] = 'touchlens'; main()")
_WRITER = re.compile(r"writer: (\d+) commits, (\d+) requests, \d+ rows; per commit "
                     r"([\d.]+) ms CPU \(writer thread\), ([\d.]+) ms wall")


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def _writer_account(stderr: str) -> tuple[str, str, str]:
    """(requests per commit, CPU ms per commit, wall ms per commit) from the server's log."""
    found = _WRITER.search(stderr)
    if not found:
        return "n/a", "n/a", "n/a"
    commits, requests, cpu, wall = found.groups()
    return f"{int(requests) / max(int(commits), 1):.2f}", cpu, wall


@contextlib.contextmanager
def _client_gc_paused() -> Iterator[None]:
    """No garbage collection in the load generator while it times requests: a full
    collection of its heap (the batches, httpx, rich…) took 100–150 ms (measured with
    ``gc.callbacks``), and a request due meanwhile was counted that much later. The heap is
    frozen first; what the timed part leaves is collected afterwards."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


class Rebuild:
    """A journeys read in a thread, timed (it rebuilds the derived tables first)."""

    def __init__(self, url: str, key: str) -> None:
        self.started = self.ended = 0.0
        self.status: int | None = None
        self._thread = threading.Thread(target=self._run, args=(url, key), daemon=True)

    def _run(self, url: str, key: str) -> None:
        self.started = time.perf_counter()
        try:
            r = httpx.get(url + "/v1/journeys", params={"limit": 1}, timeout=900,
                          headers={"Authorization": f"Bearer {key}"})
            self.status = r.status_code
        finally:
            self.ended = time.perf_counter()

    def start(self) -> Rebuild:
        self._thread.start()
        while not self.started:
            time.sleep(0.001)
        return self

    def join(self) -> None:
        self._thread.join()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=0.0,
                        help="open loop: requests per second (0 = closed loop)")
    parser.add_argument("--bad", type=float, default=0.01)
    parser.add_argument("--dup", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--db", type=Path, help="start from a copy of this workspace")
    parser.add_argument("--rebuild", action="store_true",
                        help="rebuild the journeys (another client's read) while sending")
    args = parser.parse_args()
    every = _batches(args.warmup + args.requests, args.batch, args.bad, args.dup, args.seed)
    warm, batches = every[:args.warmup], every[args.warmup:]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        if args.db:
            shutil.copy(args.db, db)
        with Workspace.open(db) as ws:
            key, _ = create_key(ws, "write", "benchmark")
            read_key, _ = create_key(ws, "read", "benchmark")
        events_before, quarantine_before = _counts(db)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = Path(tmp) / "server.log"
        with log_path.open("w") as server_log:
            proc = subprocess.Popen([sys.executable, "-c", _SERVE, "serve", "--db", str(db),
                                     "--host", "127.0.0.1", "--port", str(port), "--no-token"],
                                    stderr=server_log)
            try:
                _wait_ready(url, proc)
                _, warm_answers, _, _ = asyncio.run(_send(url, key, warm, args.concurrency))
                cpu_before = _cpu_s(proc.pid)
                rebuild = Rebuild(url, read_key).start() if args.rebuild else None
                with _client_gc_paused():
                    latencies, answers, wall, sent_at = asyncio.run(
                        _send_open(url, key, batches, args.rate) if args.rate > 0
                        else _send(url, key, batches, args.concurrency))
                cpu_after = _cpu_s(proc.pid)
                if rebuild is not None:
                    rebuild.join()
                answers += warm_answers
            finally:
                proc.terminate()
                proc.wait(60)
        server_stderr = log_path.read_text()
        events_after, quarantine_after = _counts(db)
    sent = sum(len(b) for b in every)
    accepted = sum(a["accepted"] for a in answers)
    duplicates = sum(a["duplicates"] for a in answers)
    rejected = sum(a["rejected"] for a in answers)
    checks = {
        "sent = accepted + duplicates + rejected": sent == accepted + duplicates + rejected,
        "accepted = new events stored": accepted == events_after - events_before,
        "rejected = new quarantine rows": rejected == quarantine_after - quarantine_before,
    }
    how = (f"open loop at {args.rate:g} requests/s" if args.rate > 0
           else f"{args.concurrency} concurrent")
    table = Table(title=f"Collector: {args.requests} requests × {args.batch} events "
                        f"(+{args.warmup} warm-up), {how}, loopback")
    for col in ("events sent", "accepted", "duplicates", "rejected", "wall s", "events/s",
                "p50 ms", "p99 ms", "max ms", "server CPU ms/req", "req/commit",
                "writer CPU ms/commit", "writer wall ms/commit"):
        table.add_column(col, justify="right")
    timed = sum(len(b) for b in batches)
    server_cpu = ("n/a" if cpu_before is None or cpu_after is None
                  else f"{1000 * (cpu_after - cpu_before) / len(batches):.1f}")
    table.add_row(f"{sent:,}", f"{accepted:,}", f"{duplicates:,}", f"{rejected:,}",
                  f"{wall:.2f}", f"{timed / wall:,.0f}", f"{1000 * _pct(latencies, 0.5):.1f}",
                  f"{1000 * _pct(latencies, 0.99):.1f}", f"{1000 * max(latencies):.1f}",
                  server_cpu, *_writer_account(server_stderr))
    console = Console(width=200)
    console.print(table)
    if rebuild is not None:
        during = [lat for lat, t in zip(latencies, sent_at, strict=True)
                  if rebuild.started <= t <= rebuild.ended]
        console.print(
            f"journeys read (rebuild): {rebuild.ended - rebuild.started:.1f} s, HTTP "
            f"{rebuild.status}; {len(during)} of {len(batches)} requests due while it ran"
            + (f": p50 {1000 * _pct(during, 0.5):.1f} ms, p99 {1000 * _pct(during, 0.99):.1f}"
               f" ms, max {1000 * max(during):.1f} ms" if during else ""))
    if proc.returncode not in (0, -15):  # -15: stopped by our SIGTERM
        console.print(server_stderr[-3000:], markup=False, highlight=False)
    for name, ok in checks.items():
        console.print(f"{'✓' if ok else '✗'} {name}", style="green" if ok else "bold red")
    if not all(checks.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
