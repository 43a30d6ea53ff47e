"""Rendered PDFs kept for a document fetched again (issue 21, item 3).

The cache saves layout only: every file handed out is still PDF-signed afresh and its
digest registered, a report of changed data (or a new report of the same data) is never
given another report's pages, and a change of templates makes a new key. Both stores.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from bonafides.app.reports import issue_pdf, verify_pdf
from bonafides.context import Context
from bonafides.records import RecordInput, SubjectRef
from bonafides.reports import render, rendered
from bonafides.reports.rendered import RENDERED, RenderedPdfs, cache_key, template_version
from bonafides.security.signing import FileKeyStore
from bonafides.store.tables import IssuedFile
from tests import factories
from tests.reports.conftest import NOW, issue, put, record

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (scripts/system-packages.sh)"
)


def _penalty(firm: SubjectRef, decision_no: str, days_ago: int = 30) -> RecordInput:
    return record(
        firm,
        "market.penalty",
        source="samr",
        decided=NOW.date() - dt.timedelta(days=days_ago),
        published_until=NOW.date() + dt.timedelta(days=300),
        decision_no=decision_no,
        content={"violation_type": "虚假宣传"},
    )


def _firm(ctx: Context, decision_no: str) -> str:
    firm = factories.org(name="北京渲染缓存测试有限公司")
    put(ctx, _penalty(firm, decision_no))
    return firm.code


def _text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "page.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    )
    return done.stdout


def _counts() -> tuple[int, int]:
    return RENDERED.misses, RENDERED.hits


def test_a_report_fetched_again_is_signed_and_registered_without_layout(
    ctx: Context, keys: FileKeyStore
) -> None:
    signed = issue(ctx, keys, _firm(ctx, "CACHE-0001"))
    misses, hits = _counts()

    first = issue_pdf(ctx, signed, "zh", keys=keys)
    second = issue_pdf(ctx, signed, "zh", keys=keys)

    assert _counts() == (misses + 1, hits + 1)
    assert first != second, "each download is signed afresh"
    with ctx.sessions() as session:
        registered = set(
            session.scalars(
                select(IssuedFile.sha256).where(IssuedFile.document_id == signed.report_id)
            )
        )
    assert registered == {hashlib.sha256(pdf).hexdigest() for pdf in (first, second)}
    for pdf in (first, second):
        verified = verify_pdf(ctx, pdf, actor="test", keys=keys)
        assert verified.authentic, verified.problem
        assert [step.passed for step in verified.file_checks] == [True, True]

    issue_pdf(ctx, signed, "en", keys=keys)
    assert _counts() == (misses + 2, hits + 1), "each language is its own render"


def test_a_report_of_changed_data_gets_its_own_pages(
    ctx: Context, keys: FileKeyStore, tmp_path: Path
) -> None:
    firm = factories.org(name="北京渲染缓存测试有限公司")
    put(ctx, _penalty(firm, "CACHE-0002"))
    before = issue(ctx, keys, firm.code)
    assert "CACHE-0002" in _text(issue_pdf(ctx, before, "zh", keys=keys), tmp_path)

    put(ctx, _penalty(firm, "CACHE-0003", days_ago=5))
    after = issue(ctx, keys, firm.code)
    assert after.document["data_digest"] != before.document["data_digest"]
    misses = RENDERED.misses

    text = _text(issue_pdf(ctx, after, "zh", keys=keys), tmp_path)

    assert RENDERED.misses == misses + 1
    assert "CACHE-0003" in text
    assert after.report_id is not None
    assert after.report_id in text


def test_a_new_report_of_unchanged_data_prints_its_own_id_and_code(
    ctx: Context, keys: FileKeyStore, tmp_path: Path
) -> None:
    code = _firm(ctx, "CACHE-0004")
    first = issue(ctx, keys, code)
    second = issue(ctx, keys, code)
    assert first.document["data_digest"] == second.document["data_digest"]
    issue_pdf(ctx, first, "zh", keys=keys)

    text = _text(issue_pdf(ctx, second, "zh", keys=keys), tmp_path)

    assert second.report_id is not None
    assert second.report_id in text
    assert second.printed_code in text
    assert first.printed_code not in text


def test_a_cached_render_is_the_render(ctx: Context, keys: FileKeyStore) -> None:
    signed = issue(ctx, keys, _firm(ctx, "CACHE-0005"))
    cache = RenderedPdfs()

    kept = cache.pdf(signed, "zh")

    assert cache.pdf(signed, "zh") is kept
    assert (cache.misses, cache.hits, len(cache)) == (1, 1, 1)
    fresh = render.render_pdf(signed, "zh")
    assert len(fresh) == len(kept)  # only the attachment's creation time may differ


def test_the_cache_keeps_to_its_byte_bound(ctx: Context, keys: FileKeyStore) -> None:
    signed = issue(ctx, keys, _firm(ctx, "CACHE-0006"))
    size = len(render.render_pdf(signed, "zh"))
    cache = RenderedPdfs(max_bytes=size + size // 2)

    cache.pdf(signed, "zh")
    cache.pdf(signed, "en")  # pushes the Chinese render out
    cache.pdf(signed, "zh")

    assert (cache.misses, cache.hits, len(cache)) == (3, 0, 1)


def test_a_change_of_templates_changes_the_key(
    ctx: Context, keys: FileKeyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    signed = issue(ctx, keys, _firm(ctx, "CACHE-0007"))
    key = cache_key(signed, "zh")
    templates = tmp_path / "templates"
    shutil.copytree(render.TEMPLATES, templates)
    css = templates / "report.css"
    css.write_text(css.read_text("utf-8") + "h1 { letter-spacing: 0.05em; }\n", "utf-8")
    monkeypatch.setattr(render, "TEMPLATES", templates)
    template_version.cache_clear()
    try:
        assert cache_key(signed, "zh") != key
    finally:
        monkeypatch.undo()
        template_version.cache_clear()
    assert cache_key(signed, "zh") == key
    assert rendered.template_version() == template_version()
