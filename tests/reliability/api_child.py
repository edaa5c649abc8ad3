"""Child process for the API drill: serve a workspace on a loopback port chosen by the OS.

Usage: python api_child.py DB — prints the port on stdout once the socket listens, then
serves until killed. Connections made before uvicorn starts wait in the listen backlog.
"""

from __future__ import annotations

import socket
import sys


def main() -> None:
    import uvicorn

    from touchlens.api import ApiSettings, create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    sys.stdout.write(f"{sock.getsockname()[1]}\n")
    sys.stdout.flush()
    app = create_app(ApiSettings(db=sys.argv[1], writer_max_rows=2_000))
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])


if __name__ == "__main__":
    main()
