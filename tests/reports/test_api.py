"""The reports API: issue, fetch as JSON, PDF and HTML, verify, and the published keys."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from bonafides.api.app import create_app
from bonafides.context import Context
from bonafides.reports.model import View
from bonafides.reports.render import extract_envelope
from bonafides.security.signing import FileKeyStore, file_key_store, keys_dir
from bonafides.settings import Settings
from tests import factories
from tests.reports.conftest import issue, put, record


@pytest.fixture
def client(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def firm(ctx: Context) -> str:
    subject = factories.org()
    today = factories.office_today()
    put(
        ctx,
        record(
            subject,
            "market.penalty",
            source="samr",
            decided=today - dt.timedelta(days=10),
            published_until=today + dt.timedelta(days=300),
            content={"violation_type": "虚假宣传"},
        ),
    )
    return subject.code


def test_issue_then_fetch_a_public_report(client: TestClient, firm: str) -> None:
    issued = client.post("/api/v1/reports", json={"code": firm, "fields": ["market"]})
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert re.fullmatch(r"[0-9A-Z]{16}", body["id"])
    assert body["view"] == "public"
    assert body["verify_url"].endswith(f"?report={body['id']}")

    signed = client.get(body["json_url"]).json()
    assert signed["document"]["subject"]["code"] == firm
    assert signed["verification_code"] == body["verification_code"]
    keys = client.get("/api/v1/keys").json()["keys"]
    [current] = [k for k in keys if k["current"]]
    assert current["key_id"] == signed["key_id"]
    raw = base64.b64decode(current["public_key_raw_b64"])
    assert hashlib.sha256(raw).hexdigest()[:16] == current["key_id"]
    # Anyone can check the signature with nothing but the published key.
    Ed25519PublicKey.from_public_bytes(raw).verify(
        base64.b64decode(signed["signature"]), signed["payload"].encode()
    )


def test_pdf_and_html_renderings(client: TestClient, firm: str) -> None:
    report_id = client.post("/api/v1/reports", json={"code": firm}).json()["id"]
    pdf = client.get(f"/api/v1/reports/{report_id}.pdf", params={"lang": "en"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert extract_envelope(pdf.content).report_id == report_id

    page = client.get(f"/api/v1/reports/{report_id}.html")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    style = re.search(r"<style>(.*?)</style>", page.text, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in policy
    assert "img-src data:" in policy
    assert "script-src 'self'" in policy
    assert "default-src 'none'" in policy
    assert client.get(f"/api/v1/reports/{report_id}.html", params={"lang": "fr"}).status_code == 422


def test_verify_an_uploaded_pdf_or_an_id(client: TestClient, firm: str) -> None:
    report_id = client.post("/api/v1/reports", json={"code": firm}).json()["id"]
    pdf = client.get(f"/api/v1/reports/{report_id}.pdf").content
    by_file = client.post(
        "/api/v1/reports/verify", files={"file": ("report.pdf", pdf, "application/pdf")}
    )
    assert by_file.status_code == 200, by_file.text
    result = by_file.json()
    assert result["authentic"] is True
    assert result["changed_since_issue"] is False
    code = result["verification_code"]
    by_id = client.post("/api/v1/reports/verify", data={"id": report_id, "code": code}).json()
    assert by_id["authentic"] is True
    assert by_id["code_matches"] is True
    assert by_id["verification_code"] is None

    wrong = client.post("/api/v1/reports/verify", data={"id": report_id, "code": "ZZZZZ-ZZZZZ"})
    assert wrong.json()["authentic"] is False
    junk = client.post(
        "/api/v1/reports/verify", files={"file": ("x.pdf", b"%PDF-1.7 nonsense", "application/pdf")}
    )
    assert junk.status_code == 422
    assert junk.headers["content-type"] == "application/problem+json"
    assert client.post("/api/v1/reports/verify", data={}).status_code == 422
    assert client.post("/api/v1/reports/verify", data={"id": "0000000000000000"}).status_code == 404


def test_full_reports_are_not_served_to_the_public(
    client: TestClient, ctx: Context, firm: str, settings: Settings
) -> None:
    refused = client.post("/api/v1/reports", json={"code": firm, "view": "full"})
    assert refused.status_code == 401, "a full report needs a signed-in reader"
    keys = file_key_store(keys_dir(settings.data_dir).resolve())
    full = issue(ctx, keys, firm, view=View.FULL)
    for suffix in ("", ".pdf", ".html"):
        assert client.get(f"/api/v1/reports/{full.report_id}{suffix}").status_code == 401
    check = client.post("/api/v1/reports/verify", data={"id": full.report_id}).json()
    assert check["signature_valid"] is True
    assert "document" not in check


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"code": "91110105MA00000000"}, 422),
        ({"code": "<script>"}, 422),
        ({"code": "x", "from": "2010-01-01"}, 422),
        ({"code": "x", "fields": ["speech"]}, 422),
    ],
)
def test_bad_requests_are_problems(
    client: TestClient, firm: str, body: dict[str, object], status: int
) -> None:
    if body["code"] == "x":
        body = {**body, "code": firm}
    answer = client.post("/api/v1/reports", json=body)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"


def test_unknown_subjects_and_reports_are_404(client: TestClient, ctx: Context) -> None:
    assert client.post("/api/v1/reports", json={"code": factories.org().code}).status_code == 404
    assert client.get("/api/v1/reports/0000000000000000").status_code == 404
    assert client.get("/api/v1/reports/not-an-id").status_code == 422


def test_keys_are_published_before_any_report(client: TestClient, settings: Settings) -> None:
    keys = client.get("/api/v1/keys").json()["keys"]
    assert len(keys) == 1
    assert keys[0]["algorithm"] == "Ed25519"
    assert keys[0]["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    assert FileKeyStore(keys_dir(settings.data_dir)).ensure() == keys[0]["key_id"]


def test_the_certificate_that_signs_pdfs_is_published_beside_its_key(
    client: TestClient, firm: str
) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader

    report_id = client.post("/api/v1/reports", json={"code": firm}).json()["id"]
    pdf = client.get(f"/api/v1/reports/{report_id}.pdf").content
    [current] = [k for k in client.get("/api/v1/keys").json()["keys"] if k["current"]]
    served = client.get(f"/api/v1/keys/{current['key_id']}/certificate.pem")
    assert served.status_code == 200
    assert served.text == current["certificate_pem"]
    cert = x509.load_pem_x509_certificate(served.content)
    raw = cert.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert hashlib.sha256(raw).hexdigest()[:16] == current["key_id"]
    [signature] = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    assert signature.signer_cert.dump() == cert.public_bytes(serialization.Encoding.DER)
    assert client.get("/api/v1/keys/0000000000000000/certificate.pem").status_code == 404
    assert client.get("/api/v1/keys/nothex/certificate.pem").status_code == 422
