"""Child process for the crash drills: ingest, stop at a named point, wait to be killed.

Usage: python crash_child.py DB POINT FILE [FILE ...]

POINT is where the child announces ``READY`` on stdout and then blocks on stdin (the parent
kills it with SIGKILL there):

- ``before-commit:N`` — inside the transaction of the N-th file (1-based), after its rows
  and quarantine rows were written, just before the ingest log row and the commit;
- ``after-commit`` — after every file was ingested and committed;
- ``hold`` — right after opening the workspace (to keep the file locked).
- ``fsize:BYTES`` — no stop: open and ingest with the process's file size limit set to BYTES
  (a full disk) and print the outcome as JSON ``{ok, type, module, message}``.
"""

from __future__ import annotations

import json
import resource
import signal
import sys


def _ready() -> None:
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    sys.stdin.read()  # blocks until the parent kills us


def main() -> None:
    db, point, *files = sys.argv[1:]
    from touchlens import Workspace
    from touchlens.store import Store

    if point.startswith("fsize:"):
        limit = int(point.split(":")[1])
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a failed write, not a killed process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        try:
            with Workspace.open(db) as ws:
                ws.ingest(files, "events")
            print(json.dumps({"ok": True}))
        except Exception as exc:  # reported to the parent, which asserts on it
            print(json.dumps({"ok": False, "type": type(exc).__name__,
                              "module": type(exc).__module__, "message": str(exc)}))
        return
    ws = Workspace.open(db)
    if point == "hold":
        _ready()
    if point.startswith("before-commit:"):
        target = int(point.split(":")[1])
        seen = {"n": 0}
        append = Store.append

        def stopping_append(self, name, table):
            if name == "ingest_log":
                seen["n"] += 1
                if seen["n"] == target:
                    _ready()
            return append(self, name, table)

        Store.append = stopping_append  # type: ignore[method-assign]
    ws.ingest(files, "events")
    if point == "after-commit":
        _ready()


if __name__ == "__main__":
    main()
