"""A new report of unchanged data stamped on the pages laid out for the last one (issue 21,
item 3): the file is the file a fresh layout gives, byte for byte (apart from the
attachment's timestamps), in both languages and back again; changed data, another
subject or view, and a value that would not lay out the same get a fresh layout. Both
stores.
"""

from __future__ import annotations

import datetime as dt
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bonafides.app.reports import issue_report
from bonafides.context import Context
from bonafides.records import SubjectRef, canonical_json
from bonafides.reports.envelope import SignedReport
from bonafides.reports.messages import LANGS
from bonafides.reports.model import ReportRequest, View
from bonafides.reports.render import extract_envelope, render_pdf
from bonafides.reports.stamp import LaidOutReports, layout_key
from bonafides.security.signing import FileKeyStore, sign
from tests import factories
from tests.reports.conftest import NOW, put, record, same_render

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (scripts/system-packages.sh)"
)

#: Enough records for the report to run over several pages, each with its footer.
RECORDS = 24


def _firm(ctx: Context, name: str = "北京盖章测试科技有限公司") -> SubjectRef:
    firm = factories.org(name=name)
    put(
        ctx,
        *(
            record(
                firm,
                "market.penalty",
                source="samr",
                decided=NOW.date() - dt.timedelta(days=11 * n + 1),
                published_until=NOW.date() + dt.timedelta(days=300),
                decision_no=f"京市监罚〔2026〕STAMP-{name[-4:]}-{n:03d}号",
                content={"violation_type": "虚假宣传", "violation_facts": "经查，事实清楚。" * 6},
            )
            for n in range(RECORDS)
        ),
    )
    return firm


def _issue(
    ctx: Context, keys: FileKeyStore, code: str, later: dt.timedelta, view: View = View.PUBLIC
) -> SignedReport:
    return issue_report(
        ctx, ReportRequest(code=code, view=view), actor="test", keys=keys, now=NOW + later
    )


def _same(pdf: bytes, signed: SignedReport, lang: str) -> None:
    assert extract_envelope(pdf).envelope_bytes() == signed.envelope_bytes()
    assert same_render(pdf) == same_render(render_pdf(signed, lang))


@pytest.mark.parametrize("lang", LANGS)
def test_a_new_report_of_unchanged_data_is_the_file_a_fresh_layout_gives(
    ctx: Context, keys: FileKeyStore, lang: str
) -> None:
    code = _firm(ctx).code
    first = _issue(ctx, keys, code, dt.timedelta(0))
    # Another number, id, code and times (hours, minutes and seconds all change).
    second = _issue(ctx, keys, code, dt.timedelta(hours=13, minutes=7, seconds=51))
    assert first.document["data_digest"] == second.document["data_digest"]
    assert layout_key(first, lang) == layout_key(second, lang)
    laid = LaidOutReports()

    laid.pdf(first, lang)
    stamped = laid.pdf(second, lang)
    back = laid.pdf(first, lang)

    assert (laid.laid_out, laid.stamped) == (1, 2)
    _same(stamped, second, lang)
    _same(back, first, lang)


def test_changed_data_is_laid_out_afresh(ctx: Context, keys: FileKeyStore, tmp_path: Path) -> None:
    firm = _firm(ctx)
    before = _issue(ctx, keys, firm.code, dt.timedelta(0))
    laid = LaidOutReports()
    laid.pdf(before, "zh")
    put(
        ctx,
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=NOW.date(),
            published_until=NOW.date() + dt.timedelta(days=300),
            decision_no="京市监罚〔2026〕STAMP-NEW号",
            content={"violation_type": "虚假宣传"},
        ),
    )
    after = _issue(ctx, keys, firm.code, dt.timedelta(hours=1))
    assert layout_key(after, "zh") != layout_key(before, "zh")

    pdf = laid.pdf(after, "zh")

    assert (laid.laid_out, laid.stamped) == (2, 0)
    _same(pdf, after, "zh")


def test_other_subjects_views_and_languages_never_share_pages(
    ctx: Context, keys: FileKeyStore
) -> None:
    one = _firm(ctx, "北京盖章测试一号有限公司").code
    two = _firm(ctx, "北京盖章测试二号有限公司").code
    public = _issue(ctx, keys, one, dt.timedelta(0))
    keys_seen = {
        layout_key(public, "zh"),
        layout_key(public, "en"),
        layout_key(_issue(ctx, keys, two, dt.timedelta(0)), "zh"),
        layout_key(_issue(ctx, keys, one, dt.timedelta(0), view=View.FULL), "zh"),
    }
    assert len(keys_seen) == 4


def _resigned(keys: FileKeyStore, signed: SignedReport, **changes: str) -> SignedReport:
    payload = canonical_json({**signed.document, **changes})
    signed_by, signature = sign(keys, payload.encode())
    return SignedReport.of(payload, signature, signed_by)


def test_a_value_that_would_not_lay_out_the_same_gets_a_fresh_layout(
    ctx: Context, keys: FileKeyStore
) -> None:
    """A number too long for the centred footer (it would overflow its line): the kept
    pages are not used, and the next report is still the file a fresh layout gives."""
    code = _firm(ctx).code
    first = _issue(ctx, keys, code, dt.timedelta(0))
    long = _resigned(keys, first, number="BF" + "8" * 120)
    assert layout_key(long, "zh") == layout_key(first, "zh")
    laid = LaidOutReports()
    laid.pdf(first, "zh")

    pdf = laid.pdf(long, "zh")

    assert (laid.laid_out, laid.stamped) == (2, 0)
    _same(pdf, long, "zh")
    second = _issue(ctx, keys, code, dt.timedelta(minutes=5))
    _same(laid.pdf(second, "zh"), second, "zh")


def test_the_laid_out_reports_kept_are_bounded(ctx: Context, keys: FileKeyStore) -> None:
    code = _firm(ctx).code
    reports = [_issue(ctx, keys, code, dt.timedelta(0), view=v) for v in (View.PUBLIC, View.FULL)]
    laid = LaidOutReports(bound=1)

    for signed in (*reports, *reports):
        laid.pdf(signed, "zh")

    assert (laid.laid_out, laid.stamped, len(laid)) == (4, 0, 1)


def test_a_thread_never_stamps_pages_another_thread_laid_out(
    ctx: Context, keys: FileKeyStore
) -> None:
    """The pages hold the Pango layouts of the thread's own font configuration."""
    code = _firm(ctx).code
    first = _issue(ctx, keys, code, dt.timedelta(0))
    second = _issue(ctx, keys, code, dt.timedelta(minutes=1))
    laid = LaidOutReports()
    laid.pdf(first, "zh")

    with ThreadPoolExecutor(1) as pool:
        other = pool.submit(laid.pdf, second, "zh").result()

    assert (laid.laid_out, laid.stamped, len(laid)) == (2, 0, 2)
    _same(other, second, "zh")
    _same(laid.pdf(second, "zh"), second, "zh")
    assert laid.stamped == 1
