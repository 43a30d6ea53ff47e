"""Screening check certificates signed, rendered and verified like reports."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pytest
from sqlalchemy import update

from bonafides.app.reports import verify_document
from bonafides.app.screening import check
from bonafides.context import Context
from bonafides.records import RecordStatus
from bonafides.reports import render
from bonafides.reports.certificates import (
    CertificateError,
    sign_certificate,
)
from bonafides.reports.envelope import SignedReport
from bonafides.reports.render import extract_envelope, render_html, render_pdf
from bonafides.rules.records import change_status
from bonafides.security.signing import FileKeyStore
from bonafides.store.tables import Check
from tests import factories
from tests.reports.conftest import pdf_with_full_ua_sheet, put, record, same_render


def _defaulter(ctx: Context) -> str:
    firm = factories.org(name="北京失信测试有限公司")
    today = factories.office_today()
    put(
        ctx,
        record(
            firm,
            "courts.defaulter",
            source="spc",
            decided=today - dt.timedelta(days=20),
            published_until=today + dt.timedelta(days=1000),
            decision_no="C-CERT",
            content={
                "enforcement_court": "北京市朝阳区人民法院",
                "basis_document_no": "（2025）1号",
            },
        ),
    )
    return firm.code


def test_a_check_certificate_signs_renders_and_verifies(
    ctx: Context, keys: FileKeyStore, tmp_path: Path
) -> None:
    code = _defaulter(ctx)
    answered = check(ctx, code, "procurement.bid", inquirer="test:buyer", purpose="tender 2026-17")
    assert answered.status == "measures_apply"
    signed = sign_certificate(ctx, answered.cert_id, keys)
    assert sign_certificate(ctx, answered.cert_id, keys) == signed, "deterministic"
    doc = signed.document
    assert doc["answer"] == answered.answer
    assert doc["action_zh"] != "procurement.bid"
    assert doc["verify_url"].endswith(f"?certificate={answered.cert_id}")

    result = verify_document(ctx, signed, keys=keys, actor="test")
    assert result.authentic
    assert result.view == "check"
    assert result.changed_since_issue is False

    pdf = render_pdf(signed, "zh")
    assert extract_envelope(pdf) == signed
    if shutil.which("pdftotext"):
        path = tmp_path / "certificate.pdf"
        path.write_bytes(pdf)
        text = subprocess.run(
            ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
        ).stdout.replace("\n", "")
        assert "信用核查证明" in text
        assert "北京失信测试有限公司" in text
        assert "禁止" in text
        assert signed.printed_code in text

    with ctx.sessions.begin() as session:
        change_status(
            session,
            source="spc",
            decision_no="C-CERT",
            status=RecordStatus.REVOKED,
            actor="test",
            reason="revoked",
        )
    later = verify_document(ctx, signed, keys=keys, actor="test")
    assert later.authentic, "the certificate is still the one issued"
    assert later.changed_since_issue is True


def test_a_tampered_certificate_fails(ctx: Context, keys: FileKeyStore) -> None:
    code = _defaulter(ctx)
    answered = check(ctx, code, "procurement.bid", inquirer="test:buyer", purpose="tender")
    signed = sign_certificate(ctx, answered.cert_id, keys)
    edited = signed.payload.replace('"measures_apply"', '"clear"')
    assert edited != signed.payload
    forged = SignedReport.of(edited, signed.signature, signed.key_id)
    assert not verify_document(ctx, forged, keys=keys, actor="test").signature_valid

    with ctx.sessions.begin() as session:
        session.execute(
            update(Check).where(Check.cert_id == answered.cert_id).values(digest="0" * 64)
        )
    result = verify_document(ctx, signed, keys=keys, actor="test")
    assert result.signature_valid
    assert not result.authentic
    assert result.problem == "the certificate differs from the check answered under this id"


def test_unknown_and_batch_certificates_are_refused(ctx: Context, keys: FileKeyStore) -> None:
    with pytest.raises(CertificateError, match="no check certificate"):
        sign_certificate(ctx, "A" * 24, keys)
    with pytest.raises(CertificateError, match="no check certificate"):
        sign_certificate(ctx, "../../etc", keys)


def test_the_certificate_user_agent_sheet_renders_what_weasyprints_own_renders(
    ctx: Context, keys: FileKeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Certificate pages too are made of the elements ``ua.css`` covers, and render as
    with WeasyPrint's whole user-agent sheet."""
    code = _defaulter(ctx)
    answered = check(ctx, code, "procurement.bid", inquirer="test:buyer", purpose="tender")
    signed = sign_certificate(ctx, answered.cert_id, keys)
    for lang in ("zh", "en"):
        page = ElementTree.fromstring(render_html(signed, lang))
        assert render._ua_sheet_covers(page)
        full = pdf_with_full_ua_sheet(monkeypatch, signed, lang)
        assert same_render(render_pdf(signed, lang)) == same_render(full)
