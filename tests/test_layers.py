"""The layering holds: import-linter's contracts pass, and nothing below the application
layer commits a transaction (issue 18: one unit of work per request or command)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "bonafides"

#: A transaction committed or begun (``with sessions.begin()`` commits on leaving).
_COMMITS = re.compile(r"\.commit\(\)|\b(?:sessions|factory|engine|conn)\.begin\(\)")

#: Where committing is the job: the unit of work and the use cases, restore (which
#: replaces a whole store) and the migration environment.
_ALLOWED = ("app/", "store/migrations/")


def _committing() -> set[str]:
    found = set()
    for path in PACKAGE.rglob("*.py"):
        name = path.relative_to(PACKAGE).as_posix()
        if name.startswith(_ALLOWED):
            continue
        if _COMMITS.search(path.read_text(encoding="utf-8")):
            found.add(name)
    return found


def test_nothing_below_the_application_layer_commits() -> None:
    stray = _committing()
    assert not stray, f"these commit outside a unit of work (bonafides.app): {sorted(stray)}"


@pytest.mark.parametrize(
    "service", ["reports/service.py", "screening/service.py", "ingest/service.py"]
)
def test_the_services_that_used_to_commit_do_not(service: str) -> None:
    assert not _COMMITS.search((PACKAGE / service).read_text(encoding="utf-8"))


def test_import_linter_contracts_are_kept() -> None:
    """The same check as ``make lint``; run here too so a plain pytest run catches it."""
    done = subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
