"""The command-line face of touchlens (Typer + Rich); it calls the Workspace only."""

from touchlens.cli.app import app, create_app, main

__all__ = ["app", "create_app", "main"]
