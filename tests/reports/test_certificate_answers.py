"""A check certificate for every answer a check gives, and for every line of a batch.

The certificate a procurement office needs most says "clear"; one for a code the store
does not know says "unknown"; a batch line (``ID.LINE``) is certified like a single
check. Each is printed by ``bonafides certificate`` and verified by the CLI, the portal's
/verify page (by id and by upload) and ``POST /api/v1/reports/verify``. Both stores.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from bonafides.api.app import create_app
from bonafides.cli import app
from bonafides.context import Context
from bonafides.reports.render import extract_envelope
from bonafides.settings import Settings, get_settings
from tests import factories
from tests.reports.conftest import put, record

runner = CliRunner()


@pytest.fixture
def env(settings: Settings, ctx: Context, monkeypatch: pytest.MonkeyPatch) -> Iterator[Context]:
    monkeypatch.setenv("BONAFIDES_DB", settings.db)
    monkeypatch.setenv("BONAFIDES_SECRET_KEY", settings.secret_key.get_secret_value())
    monkeypatch.setenv("BONAFIDES_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BONAFIDES_REPORT_VERIFY_URL", settings.report_verify_url)
    get_settings.cache_clear()
    yield ctx
    get_settings.cache_clear()


@pytest.fixture
def client(settings: Settings, env: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        test_client.cookies.set("bonafides_lang", "en")
        yield test_client


def _clear_firm(ctx: Context) -> str:
    """A firm in the store with a penalty that puts it on no list: its check is clear."""
    firm = factories.org(name="北京清白测试有限公司")
    today = factories.office_today()
    put(
        ctx,
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=today - dt.timedelta(days=30),
            published_until=today + dt.timedelta(days=300),
            content={"violation_type": "虚假宣传"},
        ),
    )
    return firm.code


def _checked(code: str) -> str:
    result = runner.invoke(app, ["check", code, "--action", "procurement.bid"])
    assert result.exit_code == 0, result.output
    found = re.search(r"certificate (\S+)", result.output)
    assert found is not None, result.output
    return found.group(1)


def _certified_everywhere(
    client: TestClient, cert_id: str, tmp_path: Path, status: str, code: str
) -> None:
    """Print the certificate, then verify it by the CLI, the page and the API."""
    out = tmp_path / f"{cert_id}.pdf"
    printed = runner.invoke(app, ["certificate", cert_id, "--out", str(out), "--lang", "en"])
    assert printed.exit_code == 0, printed.output
    assert f"certificate {cert_id} written" in printed.output
    pdf = out.read_bytes()
    signed = extract_envelope(pdf)
    assert signed.document["id"] == cert_id
    assert signed.document["answer"]["status"] == status
    assert signed.document["answer"]["code"] == code
    html = tmp_path / f"{cert_id}.html"
    assert runner.invoke(app, ["certificate", cert_id, "--out", str(html)]).exit_code == 0
    assert code in html.read_text("utf-8")

    by_cli = runner.invoke(app, ["verify-report", str(out)])
    assert by_cli.exit_code == 0, by_cli.output
    assert "authentic: issued by this platform and unaltered" in by_cli.output
    assert "unchanged since issue" in by_cli.output

    by_id = client.get("/verify", params={"certificate": cert_id})
    assert by_id.status_code == 200, by_id.text
    assert "Check certificate" in by_id.text
    assert "Authentic: issued by this platform and unaltered." in by_id.text
    by_form = client.post("/verify", data={"id": cert_id})
    assert by_form.status_code == 200, by_form.text
    assert "Authentic: issued by this platform and unaltered." in by_form.text
    uploaded = client.post("/verify", files={"file": ("c.pdf", pdf, "application/pdf")})
    assert uploaded.status_code == 200, uploaded.text
    assert "Authentic: issued by this platform and unaltered." in uploaded.text

    by_api = client.post(
        "/api/v1/reports/verify", files={"file": ("c.pdf", pdf, "application/pdf")}
    )
    assert by_api.status_code == 200, by_api.text
    verdict = by_api.json()
    assert verdict["authentic"] is True, verdict
    assert verdict["changed_since_issue"] is False


def test_a_clear_answer_is_certified(client: TestClient, env: Context, tmp_path: Path) -> None:
    code = _clear_firm(env)
    cert_id = _checked(code)
    _certified_everywhere(client, cert_id, tmp_path, "clear", code)


def test_an_unknown_answer_is_certified(client: TestClient, tmp_path: Path) -> None:
    code = factories.org().code
    cert_id = _checked(code)
    _certified_everywhere(client, cert_id, tmp_path, "unknown", code)


def test_each_line_of_a_batch_is_certified(
    client: TestClient, env: Context, tmp_path: Path
) -> None:
    clear = _clear_firm(env)
    unknown = factories.org().code
    codes = tmp_path / "codes.csv"
    codes.write_text(f"code\n{clear}\n{unknown}\n", encoding="utf-8")
    screened = runner.invoke(app, ["screen", str(codes), "--action", "procurement.bid"])
    assert screened.exit_code == 0, screened.output
    found = re.search(r"certificate (\S+):", screened.output)
    assert found is not None, screened.output
    batch = found.group(1)
    _certified_everywhere(client, f"{batch}.2", tmp_path, "clear", clear)
    _certified_everywhere(client, f"{batch}.3", tmp_path, "unknown", unknown)

    missing = runner.invoke(app, ["certificate", f"{batch}.9", "--out", str(tmp_path / "x.pdf")])
    assert missing.exit_code == 2
    assert "no line 9" in missing.output
    whole = runner.invoke(app, ["certificate", batch, "--out", str(tmp_path / "x.pdf")])
    assert whole.exit_code == 2
    assert "ID.LINE" in whole.output
    assert client.get("/verify", params={"certificate": f"{batch}.9"}).status_code == 404
