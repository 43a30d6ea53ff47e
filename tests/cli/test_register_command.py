"""``bonafides register load`` as users type it: exit codes 0 / 1 / 2, the JSON report."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bonafides.cli import app
from tests.cli.test_commands import env
from tests.ingest.test_register import company, write_csv

__all__ = ["env"]

runner = CliRunner()


def test_register_load_exit_codes_and_report(env: str, tmp_path: Path) -> None:
    rows = [company(), company(), company(登记状态="不明")]
    path = write_csv(tmp_path / "企业登记.csv", rows)
    report = tmp_path / "load.json"
    first = runner.invoke(
        app,
        ["register", "load", str(path), "--source", "samr", "--report", str(report), "--db", env],
    )
    assert first.exit_code == 1, first.output
    assert "registered or changed" in first.output
    data = json.loads(report.read_text("utf-8"))
    assert data["summary"]["accepted"] == 2
    assert data["rejections"][0]["field"] == "登记状态"

    good = write_csv(tmp_path / "good.csv", rows[:2])
    again = runner.invoke(app, ["register", "load", str(good), "--db", env])
    assert again.exit_code == 0, again.output
    assert "unchanged" in again.output


def test_register_load_unusable_input_exit_2(env: str, tmp_path: Path) -> None:
    missing = runner.invoke(app, ["register", "load", str(tmp_path / "nope.csv"), "--db", env])
    assert missing.exit_code == 2
    no_code = tmp_path / "names.csv"
    no_code.write_text("名称\n北京某公司\n", encoding="utf-8")
    refused = runner.invoke(app, ["register", "load", str(no_code), "--db", env])
    assert refused.exit_code == 2
    assert "统一社会信用代码" in refused.output
    unknown = runner.invoke(
        app,
        [
            "register",
            "load",
            str(write_csv(tmp_path / "ok.csv", [company()])),
            "--source",
            "x",
            "--db",
            env,
        ],
    )
    assert unknown.exit_code == 2
    assert "unknown department" in unknown.output
