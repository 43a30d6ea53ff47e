"""``bonafides report``, ``verify-report`` and ``report-keys`` as a user types them."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bonafides.cli import app
from bonafides.context import Context
from bonafides.records import RecordStatus
from bonafides.reports.render import extract_envelope
from bonafides.rules.records import change_status
from bonafides.settings import Settings
from tests import factories
from tests.reports.conftest import put, record

runner = CliRunner()


def _firm(ctx: Context) -> str:
    firm = factories.org()
    today = factories.office_today()
    put(
        ctx,
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=today - dt.timedelta(days=30),
            published_until=today + dt.timedelta(days=300),
            decision_no="CLI-1",
            content={"violation_type": "虚假宣传"},
        ),
    )
    return firm.code


def test_report_writes_a_pdf_that_verify_report_accepts(
    env: Settings, ctx: Context, tmp_path: Path
) -> None:
    code = _firm(ctx)
    out = tmp_path / "report.pdf"
    result = runner.invoke(app, ["report", code, "--out", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "verification code" in result.output
    signed = extract_envelope(out.read_bytes())
    assert signed.document["subject"]["code"] == code
    assert signed.printed_code in result.output

    checked = runner.invoke(app, ["verify-report", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "authentic" in checked.output
    assert "unchanged since issue" in checked.output

    by_id = runner.invoke(
        app, ["verify-report", signed.document["id"], "--code", signed.printed_code]
    )
    assert by_id.exit_code == 0, by_id.output
    assert "code given: matches" in by_id.output

    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="samr",
            decision_no="CLI-1",
            status=RecordStatus.REVOKED,
            actor="test",
            reason="revoked",
        )
    changed = runner.invoke(app, ["verify-report", str(out)])
    assert changed.exit_code == 0
    assert "CHANGED since issue" in changed.output


def test_a_tampered_or_foreign_file_exits_1(env: Settings, ctx: Context, tmp_path: Path) -> None:
    code = _firm(ctx)
    out = tmp_path / "report.pdf"
    assert runner.invoke(app, ["report", code, "--out", str(out)]).exit_code == 0
    shutil.rmtree(env.data_dir / "keys")  # the platform's keys are not the ones that signed
    from bonafides.security.signing import file_key_store

    file_key_store.cache_clear()
    result = runner.invoke(app, ["verify-report", str(out)])
    assert result.exit_code == 1
    assert "signature: INVALID" in result.output
    assert runner.invoke(app, ["verify-report", "0000000000000000"]).exit_code == 1


@pytest.mark.parametrize("content", [b"hello", b"%PDF-1.7 junk", b""])
def test_an_unreadable_pdf_is_unusable_input_exit_2(
    env: Settings, ctx: Context, tmp_path: Path, content: bytes
) -> None:
    """docs/cli.md: exit 2 is input that cannot be used; 1 is a readable report that is not
    authentic. A file that is no report at all is the first kind."""
    not_pdf = tmp_path / "notes.pdf"
    not_pdf.write_bytes(content)
    for command in ("verify-report", "verify"):
        result = runner.invoke(app, [command, str(not_pdf)])
        assert result.exit_code == 2, result.output
        assert "notes.pdf" in result.output


def test_full_html_report_and_its_keys(env: Settings, ctx: Context, tmp_path: Path) -> None:
    code = _firm(ctx)
    out = tmp_path / "full.html"
    result = runner.invoke(
        app, ["report", code, "--out", str(out), "--view", "full", "--fields", "market"]
    )
    assert result.exit_code == 0, result.output
    page = out.read_text("utf-8")
    assert "完整版" in page
    assert "查询与变更记录" in page
    keys = runner.invoke(app, ["report-keys"])
    assert keys.exit_code == 0
    assert "current" in keys.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "x.docx"], "must end in .pdf or .html"),
        (["--out", "{tmp}/r.pdf", "--from", "2015-01-01"], "at most 5 years"),
        (["--out", "{tmp}/r.pdf", "--to", "31/01/2026"], "--to must be a date"),
        (["--out", "{tmp}/r.pdf", "--fields", "speech"], "unknown field 'speech'"),
        (["--out", "{tmp}/missing/r.pdf"], "no such directory"),
    ],
)
def test_unusable_arguments_exit_2_with_one_line(
    env: Settings, ctx: Context, tmp_path: Path, args: list[str], message: str
) -> None:
    code = _firm(ctx)
    argv = ["report", code, *(a.replace("{tmp}", str(tmp_path)) for a in args)]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not list(tmp_path.glob("*.pdf"))


def test_an_unknown_subject_exits_2(env: Settings, ctx: Context, tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", factories.org().code, "--out", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2
    assert "no subject" in result.output


def test_plain_verify_takes_a_report_id_or_its_pdf(
    env: Settings, ctx: Context, tmp_path: Path
) -> None:
    """`bonafides verify ID` (DESIGN §6) answers for reports as well as certificates."""
    code = _firm(ctx)
    out = tmp_path / "report.pdf"
    assert runner.invoke(app, ["report", code, "--out", str(out)]).exit_code == 0
    report_id = extract_envelope(out.read_bytes()).document["id"]
    for target in (str(out), report_id):
        checked = runner.invoke(app, ["verify", target])
        assert checked.exit_code == 0, checked.output
        assert "authentic" in checked.output
    unknown = runner.invoke(app, ["verify", "NOSUCHID00000000"])
    assert unknown.exit_code == 2
    assert "no check certificate or credit report" in unknown.output
