"""``python -m touchlens.cli`` runs the ``touchlens`` command."""

from touchlens.cli import main

main()
