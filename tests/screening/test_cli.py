"""``screen``, ``check``, ``verify``, ``lists`` and ``grades`` as a user types them."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bonafides.cli import app
from bonafides.context import Context
from bonafides.settings import get_settings
from tests import factories
from tests.rules.fixtures import Write

runner = CliRunner()


@pytest.fixture
def env(ctx: Context, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    monkeypatch.setenv("BONAFIDES_DB", ctx.settings.db)
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", ctx.settings.secret_key.get_secret_value())
    get_settings.cache_clear()
    yield ctx
    get_settings.cache_clear()


def _codes(path: Path, codes: list[str]) -> Path:
    path.write_text("code\n" + "\n".join(codes) + "\n", encoding="utf-8")
    return path


def test_screen_exit_codes(env: Context, write: Write, tmp_path: Path) -> None:
    firm = factories.org()
    write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    good = _codes(tmp_path / "good.csv", [firm.code, factories.org().code])
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app,
        [
            "screen",
            str(good),
            "--action",
            "procurement.bid",
            "--as-of",
            "2026-01-15",
            "--inquirer",
            "mof",
            "--purpose",
            "tender 9",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "1 measures_apply" in result.output
    lines = [json.loads(x) for x in out.read_text("utf-8").splitlines()]
    assert [x["status"] for x in lines] == ["measures_apply", "unknown"]

    bad = _codes(tmp_path / "bad.csv", [firm.code, "not a code"])
    result = runner.invoke(app, ["screen", str(bad), "--action", "procurement.bid"])
    assert result.exit_code == 1
    assert "line 3:" in result.output

    for args in (
        ["screen", str(good), "--action", "no.such_action"],
        ["screen", str(tmp_path / "missing.csv"), "--action", "procurement.bid"],
        ["screen", str(good), "--action", "procurement.bid", "--as-of", "2026-13-01"],
        ["screen", str(good), "--action", "procurement.bid", "--inquirer", "nobody"],
        ["screen", str(good), "--action", "procurement.bid", "--out", str(tmp_path / "x.txt")],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output


def test_check_then_verify(env: Context, write: Write) -> None:
    firm = factories.org()
    write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    result = runner.invoke(
        app,
        [
            "check",
            firm.code,
            "--action",
            "procurement.bid",
            "--as-of",
            "2026-01-15",
            "--format",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["status"] == "measures_apply"
    verified = runner.invoke(app, ["verify", document["certificate"], "--format", "json"])
    assert verified.exit_code == 0, verified.output
    shown = json.loads(verified.output)
    assert (shown["intact"], shown["same_now"]) == (True, True)
    assert shown["answer"]["measures"] == document["measures"]
    text = runner.invoke(app, ["verify", document["certificate"]])
    assert "gets the same answer now" in text.output
    assert runner.invoke(app, ["verify", "nope"]).exit_code == 2
    assert runner.invoke(app, ["check", "123", "--action", "procurement.bid"]).exit_code == 2


def test_lists_recompute_and_show(env: Context, write: Write) -> None:
    firm = factories.org()
    write("courts.defaulter", firm, dt.date(2025, 6, 1), performance="none")
    result = runner.invoke(app, ["lists", "recompute", "--as-of", "2026-01-15"])
    assert result.exit_code == 0, result.output
    assert re.search(r"lists: 1 entries \(0 new, 0 superseded\)", result.output)
    shown = runner.invoke(app, ["lists", "show", "courts.defaulters", "--as-of", "2026-01-15"])
    assert shown.exit_code == 0, shown.output
    assert firm.code[:10] in shown.output
    assert "1 entries in force on 2026-01-15" in shown.output
    overview = runner.invoke(app, ["lists", "show"])
    assert "tax.a_grade" in overview.output
    assert runner.invoke(app, ["lists", "show", "no.list"]).exit_code == 2


def test_grades_for_an_organisation_and_never_for_a_person(env: Context, write: Write) -> None:
    firm, person = factories.org(), factories.person()
    write("tax.credit_grade", firm, dt.date(2025, 4, 1), source="sta", grade="M")
    write("courts.defaulter", person, dt.date(2025, 4, 1), performance="none")
    result = runner.invoke(app, ["grades", firm.code, "--as-of", "2025-06-01"])
    assert result.exit_code == 0, result.output
    assert "grade:tax#2" in result.output
    assert "│ M" in result.output
    person_result = runner.invoke(app, ["grades", person.code])
    assert person_result.exit_code == 0
    assert "never graded" in person_result.output
