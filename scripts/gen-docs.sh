#!/usr/bin/env bash
# Regenerate the CLI reference; tests/test_docs.py fails when it is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/typer bonafides.cli utils docs --name bonafides --title "bonafides command reference" --output docs/cli.md >/dev/null
echo "docs/cli.md regenerated"
