"""Long commands under a runner that is not a terminal: their usual output, no bar."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from bonafides.cli import app

runner = CliRunner()


def test_synth_prints_its_summary_and_draws_no_bar_outside_a_terminal(tmp_path: Path) -> None:
    result = runner.invoke(app, ["synth", "--subjects", "30", "--out", str(tmp_path / "data")])
    assert result.exit_code == 0, result.output
    assert "subjects.csv" in result.stdout
    assert result.stderr == ""
