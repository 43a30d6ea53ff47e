"""``python -m bonafides`` runs the CLI (the tests start it this way as a real process)."""

from bonafides.cli import app

app()
