"""``touchlens serve``, ``touchlens keys …`` and ``touchlens report``: the web face's commands.

DuckDB lets one process hold a workspace file: manage keys (``keys create|list|revoke``)
while the server is stopped.
"""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from touchlens.cli.deps import DbOption, open_workspace, resolve_db
from touchlens.cli.output import err_console, out_console
from touchlens.errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")

keys_app = typer.Typer(help="API keys of the workspace (stored hashed).", no_args_is_help=True)


def serve(
    ctx: typer.Context,
    db: DbOption = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8765,
    token: Annotated[bool, typer.Option(
        "--token/--no-token", help="Print a one-time dashboard link (default) or not.")] = True,
    cors: Annotated[list[str] | None, typer.Option(
        "--cors-origin", help="Allow this browser origin (repeatable). Default: CORS off.")
    ] = None,
    max_lag: Annotated[float, typer.Option(
        "--max-lag", min=0, max=3600,
        help="Seconds the dashboard may lag behind events streaming into the collector "
             "(results are reused meanwhile); 0 = recompute after every commit.")] = 10.0,
) -> None:
    """Serve the API (/v1, docs at /docs), the collector and the dashboard (/)."""
    run_server(resolve_db(ctx, db), host=host, port=port, token=token, cors=cors,
               max_lag=max_lag)


def run_server(path: Path, *, host: str = "127.0.0.1", port: int = 8765, token: bool = True,
               cors: list[str] | None = None, max_lag: float = 10.0) -> None:
    """Serve ``path`` until Ctrl+C, printing the one-time dashboard link (also used by
    ``touchlens demo``)."""
    import uvicorn

    from touchlens.api import ApiSettings, create_app

    login_token = secrets.token_urlsafe(24) if token else None
    settings = ApiSettings(db=path, login_token=login_token, cors_origins=cors or [],
                           max_lag_s=max_lag)
    app = create_app(settings, warm=True)
    log = err_console()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    base = f"http://{'[' + shown + ']' if ':' in shown else shown}:{port}"
    log.print(f"touchlens serving {escape(str(path))} on {base}", highlight=False)
    if host not in LOOPBACK:
        log.print("warning: listening beyond this machine; put HTTPS in front of it",
                  style="yellow")
    if login_token:
        log.print(f"Dashboard (one-time link): {base}/?token={login_token}", highlight=False,
                  soft_wrap=True)
    log.print(f"API docs: {base}/docs · stop with Ctrl+C", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning")


@keys_app.command("create")
def keys_create(
    ctx: typer.Context,
    scope: Annotated[str, typer.Option(
        "--scope", help="write (collector), read (analytics) or admin (erase over the API).")],
    label: Annotated[str | None, typer.Option("--label", help="What the key is for.")] = None,
    db: DbOption = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from touchlens.api.security import SCOPES, create_key

    if scope not in SCOPES:
        raise ConfigError(f"--scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    with open_workspace(resolve_db(ctx, db), must_exist=False) as ws:
        plain, info = create_key(ws, scope, label)
    err_console().print(f"created {info.scope} key {info.key_id}; it is shown once, keep it:",
                        highlight=False)
    out_console().print(plain, markup=False, highlight=False, soft_wrap=True)


@keys_app.command("list")
def keys_list(ctx: typer.Context, db: DbOption = None) -> None:
    """List keys (id, scope, label, created, revoked); secrets are never shown."""
    from touchlens.api.security import list_keys

    with open_workspace(resolve_db(ctx, db)) as ws:
        frame = list_keys(ws)
    out = out_console()
    if frame.empty:
        err_console().print("no keys yet: touchlens keys create --scope read|write|admin")
        return
    for row in frame.itertuples():
        revoked = "" if row.revoked_at is None or str(row.revoked_at) in ("NaT", "None") \
            else f"  revoked {row.revoked_at:%Y-%m-%d %H:%M}"
        label = "" if row.label is None or row.label != row.label else f"  {row.label}"
        out.print(f"{row.key_id}  {row.scope:<5}  created {row.created_at:%Y-%m-%d %H:%M}"
                  f"{revoked}{label}", markup=False, highlight=False)


@keys_app.command("revoke")
def keys_revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="Key id.")],
                db: DbOption = None) -> None:
    """Revoke a key: it stops working at the next server start (or at once if stopped)."""
    from touchlens.api.security import revoke_key

    with open_workspace(resolve_db(ctx, db)) as ws:
        done = revoke_key(ws, key_id)
    if not done:
        raise ConfigError(f"no active key {key_id!r} (see `touchlens keys list`)")
    err_console().print(f"revoked {key_id}", highlight=False)


def report(
    ctx: typer.Context,
    output: Annotated[Path, typer.Option("--output", "-o", dir_okay=False,
                                         help="HTML file to write.")],
    period: Annotated[str | None, typer.Option(
        "--period", help="all, last<N>d, YYYY, YYYYQn (e.g. 2026Q1) or YYYY-MM.")] = None,
    start: Annotated[str | None, typer.Option("--start", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day, YYYY-MM-DD.")] = None,
    channel: Annotated[str | None, typer.Option("--channel", help="Only this channel.")] = None,
    segment: Annotated[str | None, typer.Option(
        "--segment", help="Only this RFM segment's customers (as in `touchlens rfm`; "
                          "prospect = no purchase).")] = None,
    db: DbOption = None,
) -> None:
    """Write a self-contained HTML touchpoint review (charts inlined; opens offline)."""
    from touchlens.api.scope import make_scope, narrow_to_segment
    from touchlens.charts.data import segment_members
    from touchlens.report import write_report

    with open_workspace(resolve_db(ctx, db)) as ws:
        latest = None
        if period and period.startswith("last"):
            ev = ws.store.table("events")
            value = ws.store.execute(ev.occurred_at.max().name("m").as_table())["m"].iloc[0]
            latest = None if value != value or value is None else value.to_pydatetime()
        scope = make_scope(period=period, start=_day(start, "--start"),
                           end=_day(end, "--end"), channel=channel, latest=latest)
        if segment is not None and segment.strip():
            scope = narrow_to_segment(scope, segment, segment_members(ws))
        path = write_report(ws, output, scope)
    err_console().print(f"wrote {escape(str(path))} ({path.stat().st_size / 1e6:.1f} MB, "
                        f"{escape(scope.label())})", highlight=False)


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ConfigError(f"{option} must be a date YYYY-MM-DD, not {text!r}") from exc
