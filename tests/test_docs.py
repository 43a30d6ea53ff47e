"""Docs that tests keep honest: every setting and CLI command is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bonafides.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    variable = f"BONAFIDES_{name.upper()}"
    assert variable in (DOCS / "configuration.md").read_text("utf-8"), variable


def test_cli_reference_is_current(tmp_path: Path) -> None:
    generated = tmp_path / "cli.md"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "typer",
            "bonafides.cli",
            "utils",
            "docs",
            "--name",
            "bonafides",
            "--title",
            "bonafides command reference",
            "--output",
            str(generated),
        ],
        check=True,
        capture_output=True,
    )
    current = (DOCS / "cli.md").read_text("utf-8")
    assert generated.read_text("utf-8") == current, "run scripts/gen-docs.sh"
