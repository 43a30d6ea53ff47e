"""The /verify page a report's QR code opens: by id (report or check certificate), by
uploaded PDF, and whether the subject's data changed since issue. Both stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.app.screening import check
from bonafides.context import Context
from bonafides.records import RecordInput, SubjectRef
from bonafides.settings import Settings
from tests import factories
from tests.reports.conftest import put, record


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        test_client.cookies.set("bonafides_lang", "en")
        yield test_client


def _penalty(code_of: SubjectRef, days_ago: int, number: str) -> RecordInput:
    today = factories.office_today()
    return record(
        code_of,
        "market.penalty",
        source="samr",
        decided=today - dt.timedelta(days=days_ago),
        published_until=today + dt.timedelta(days=300),
        content={"violation_type": "虚假宣传"},
        decision_no=number,
    )


def test_the_qr_target_shows_the_verdict_and_changes_since_issue(
    client: TestClient, ctx: Context
) -> None:
    firm = factories.org()
    put(ctx, _penalty(firm, 10, "京市监罚〔2026〕1号"))
    report_id = client.post("/api/v1/reports", json={"code": firm.code}).json()["id"]
    page = client.get(f"/verify?report={report_id}")
    assert page.status_code == 200
    assert "Authentic: issued by this platform and unaltered." in page.text
    assert firm.code in page.text
    assert "Data changed since issue</dt><dd>no" in page.text
    put(ctx, _penalty(firm, 2, "京市监罚〔2026〕2号"))
    again = client.get(f"/verify?report={report_id}").text
    assert "yes: the subject's data has changed since" in again
    unknown = client.get("/verify?report=0000000000000000")
    assert unknown.status_code == 404
    assert "No report or certificate" in unknown.text
    hostile = client.get("/verify", params={"report": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in hostile.text
    assert client.get("/verify").status_code == 200


def test_an_uploaded_pdf_is_checked_and_a_flipped_byte_fails(
    client: TestClient, ctx: Context
) -> None:
    firm = factories.org()
    put(ctx, _penalty(firm, 10, "京市监罚〔2026〕3号"))
    report_id = client.post("/api/v1/reports", json={"code": firm.code}).json()["id"]
    pdf = client.get(f"/api/v1/reports/{report_id}.pdf").content
    good = client.post("/verify", files={"file": ("r.pdf", pdf, "application/pdf")})
    assert good.status_code == 200
    assert "Authentic" in good.text
    by_id = client.post("/verify", data={"id": report_id})
    assert "Authentic" in by_id.text
    junk = client.post("/verify", files={"file": ("r.pdf", b"%PDF-1.7 junk", "application/pdf")})
    assert junk.status_code == 422
    assert client.post("/verify", data={}).status_code == 422


def test_a_check_certificate_is_verified_by_its_id(client: TestClient, ctx: Context) -> None:
    firm = factories.org()
    put(ctx, _penalty(firm, 10, "京市监罚〔2026〕4号"))
    result = check(ctx, firm.code, "procurement.bid", inquirer="test", purpose="tender 2026-3")
    page = client.get(f"/verify?certificate={result.cert_id}")
    assert page.status_code == 200, page.text
    assert "Check certificate" in page.text
    assert "Authentic" in page.text
