"""Forged report and certificate PDFs are refused by the CLI, the API and the /verify page
(issue 13, item 1): each forgery keeps the genuine signed attachment, so only a check of
the file's own bytes (its PDF signature, the registry's digest) can tell. Both stores."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from typer.testing import CliRunner

from bonafides.api.app import create_app
from bonafides.app.screening import check
from bonafides.cli import app
from bonafides.context import Context
from bonafides.settings import Settings
from tests import factories
from tests.reports.conftest import put, record
from tests.reports.forgeries import FORGERIES, pages_dropped

runner = CliRunner()
#: Forgeries that work on a one-page document too (a check certificate is one page).
ONE_PAGE = [name for name, forge in FORGERIES.items() if forge is not pages_dropped]


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        test_client.cookies.set("bonafides_lang", "en")
        yield test_client


def _busy_firm(ctx: Context) -> str:
    """A firm with enough public penalties for a report of several pages."""
    firm = factories.org(name="北京伪造测试有限公司")
    today = factories.office_today()
    put(
        ctx,
        *(
            record(
                firm,
                "market.penalty",
                source="samr",
                decided=today - dt.timedelta(days=10 + n),
                published_until=today + dt.timedelta(days=300),
                decision_no=f"京市监罚〔2026〕{100 + n}号",
                content={"violation_type": "虚假宣传" * 8},
            )
            for n in range(40)
        ),
    )
    return firm.code


def _defaulter_check(ctx: Context) -> str:
    firm = factories.org(name="北京失信伪造测试有限公司")
    today = factories.office_today()
    put(
        ctx,
        record(
            firm,
            "courts.defaulter",
            source="spc",
            decided=today - dt.timedelta(days=20),
            published_until=today + dt.timedelta(days=1000),
            content={
                "enforcement_court": "北京市朝阳区人民法院",
                "basis_document_no": "（2025）1号",
            },
        ),
    )
    answered = check(ctx, firm.code, "procurement.bid", inquirer="test", purpose="tender 2026-9")
    return answered.cert_id


def _cli_report(ctx: Context, tmp_path: Path) -> bytes:
    out = tmp_path / "genuine.pdf"
    issued = runner.invoke(app, ["report", _busy_firm(ctx), "--out", str(out)])
    assert issued.exit_code == 0, issued.output
    assert len(PdfReader(io.BytesIO(out.read_bytes())).pages) > 1
    return out.read_bytes()


def _cli_certificate(ctx: Context, tmp_path: Path) -> bytes:
    out = tmp_path / "genuine.pdf"
    issued = runner.invoke(app, ["certificate", _defaulter_check(ctx), "--out", str(out)])
    assert issued.exit_code == 0, issued.output
    return out.read_bytes()


@pytest.mark.parametrize("forgery", FORGERIES)
def test_the_cli_refuses_each_forged_report(
    env: Settings, ctx: Context, tmp_path: Path, forgery: str
) -> None:
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(_cli_report(ctx, tmp_path))
    good = runner.invoke(app, ["verify-report", str(genuine)])
    assert good.exit_code == 0, good.output
    assert "PDF signature: passed" in good.output
    assert "registry digest: passed" in good.output

    forged = tmp_path / "forged.pdf"
    forged.write_bytes(FORGERIES[forgery](genuine.read_bytes()))
    for command in ("verify-report", "verify"):
        result = runner.invoke(app, [command, str(forged)])
        assert result.exit_code == 1, result.output
        assert "not authentic" in result.output
        assert "authentic: issued by this platform" not in result.output
        assert "registry digest: FAILED" in result.output


@pytest.mark.parametrize("forgery", ONE_PAGE)
def test_the_cli_refuses_each_forged_certificate(
    env: Settings, ctx: Context, tmp_path: Path, forgery: str
) -> None:
    genuine = tmp_path / "genuine.pdf"
    genuine.write_bytes(_cli_certificate(ctx, tmp_path))
    good = runner.invoke(app, ["verify-report", str(genuine)])
    assert good.exit_code == 0, good.output
    assert "PDF signature: passed" in good.output
    forged = tmp_path / "forged.pdf"
    forged.write_bytes(FORGERIES[forgery](genuine.read_bytes()))
    result = runner.invoke(app, ["verify-report", str(forged)])
    assert result.exit_code == 1, result.output
    assert "not authentic" in result.output


@pytest.mark.parametrize("forgery", FORGERIES)
def test_the_api_refuses_each_forged_report(client: TestClient, ctx: Context, forgery: str) -> None:
    report_id = client.post("/api/v1/reports", json={"code": _busy_firm(ctx)}).json()["id"]
    pdf = client.get(f"/api/v1/reports/{report_id}.pdf").content
    good = client.post("/api/v1/reports/verify", files={"file": ("r.pdf", pdf)}).json()
    assert good["authentic"] is True, good
    assert {c["name"]: c["passed"] for c in good["checks"]} == {
        "pdf_signature": True,
        "registry_digest": True,
        "data_signature": True,
        "issued_here": True,
        "data_unchanged": True,
    }
    forged = FORGERIES[forgery](pdf)
    answer = client.post("/api/v1/reports/verify", files={"file": ("r.pdf", forged)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["authentic"] is False
    failed = {c["name"] for c in body["checks"] if not c["passed"]}
    assert "registry_digest" in failed
    assert "pdf_signature" in failed
    assert body["problem"]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_the_verify_page_refuses_each_forged_report(
    client: TestClient, ctx: Context, forgery: str
) -> None:
    report_id = client.post("/api/v1/reports", json={"code": _busy_firm(ctx)}).json()["id"]
    pdf = client.get(f"/api/v1/reports/{report_id}.pdf").content
    good = client.post("/verify", files={"file": ("r.pdf", pdf, "application/pdf")})
    assert "Authentic: issued by this platform and unaltered." in good.text
    assert "PDF signature" in good.text
    forged = FORGERIES[forgery](pdf)
    page = client.post("/verify", files={"file": ("r.pdf", forged, "application/pdf")})
    assert page.status_code == 200
    assert "Not authentic." in page.text
    assert "Authentic: issued by this platform" not in page.text


def test_a_forged_certificate_is_refused_by_the_api_and_the_page(
    env: Settings, client: TestClient, ctx: Context, tmp_path: Path
) -> None:
    genuine = _cli_certificate(ctx, tmp_path)
    assert client.post("/api/v1/reports/verify", files={"file": ("c.pdf", genuine)}).json()[
        "authentic"
    ]
    for name in ONE_PAGE:
        forged = FORGERIES[name](genuine)
        body = client.post("/api/v1/reports/verify", files={"file": ("c.pdf", forged)}).json()
        assert body["authentic"] is False, name
        page = client.post("/verify", files={"file": ("c.pdf", forged, "application/pdf")})
        assert "Not authentic." in page.text, name
