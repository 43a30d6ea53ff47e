"""Report pages as a reader gets them: text in both languages, CJK glyphs drawn, A4, the
signed data inside the PDF, and nothing a name could inject.

A few real renders, shared by the module: Poppler's pdftotext, pdftoppm and pdffonts read
them the way any PDF viewer would.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree

import pytest
import qrcode
from PIL import Image, ImageChops
from pypdf import PdfReader
from pypdf.generic import StreamObject

from bonafides.app.reports import verify_report
from bonafides.context import Context
from bonafides.records import RecordStatus
from bonafides.reports import render
from bonafides.reports.envelope import EnvelopeError, SignedReport
from bonafides.reports.messages import LANGS, MESSAGES
from bonafides.reports.model import View
from bonafides.reports.render import (
    QR_MASK,
    _static_css,
    extract_envelope,
    qr_data_uri,
    qr_png,
    render_html,
    render_pdf,
)
from bonafides.security.signing import FileKeyStore, keys_dir
from bonafides.store.reference import sync_catalogue
from tests import factories
from tests.reports.conftest import (
    NOW,
    issue,
    make_settings,
    pdf_with_full_ua_sheet,
    put,
    record,
    same_render,
)

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler-utils (scripts/system-packages.sh)"
)

HOSTILE = "<script>alert(1)</script>恶意公司"


@dataclass(frozen=True)
class Rendered:
    ctx: Context
    keys: FileKeyStore
    signed: SignedReport
    pdf: dict[str, bytes]
    path: dict[str, Path]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[Rendered]:
    root = tmp_path_factory.mktemp("render")
    db = root / "bonafides.db"
    shutil.copyfile(sqlite_template, db)
    ctx = Context(make_settings(f"sqlite:///{db}", root / "var"))
    with ctx.sessions.begin() as session:
        sync_catalogue(session, ctx.catalogue)
    keys = FileKeyStore(keys_dir(root / "var"))
    firm = factories.org(name="北京信用报告测试有限公司", name_en="Beijing Report Test Co., Ltd.")
    put(
        ctx,
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=dt.date(2026, 1, 10),
            published_until=dt.date(2027, 1, 10),
            content={"violation_type": "虚假宣传", "penalty_category": "fine"},
        ),
        record(
            firm,
            "market.penalty",
            source="samr",
            decided=dt.date(2026, 2, 1),
            published_until=dt.date(2027, 2, 1),
            status=RecordStatus.REPAIRED,
            content={"violation_type": "商标侵权"},
        ),
        record(
            firm,
            "courts.defaulter",
            source="spc",
            decided=dt.date(2026, 5, 1),
            published_until=dt.date(2031, 5, 1),
            content={
                "enforcement_court": "北京市朝阳区人民法院",
                "basis_document_no": "（2025）1号",
            },
        ),
    )
    signed = issue(ctx, keys, firm.code)
    pdf = {lang: render_pdf(signed, lang) for lang in LANGS}
    path = {}
    for lang, data in pdf.items():
        path[lang] = root / f"report-{lang}.pdf"
        path[lang].write_bytes(data)
    yield Rendered(ctx, keys, signed, pdf, path)
    ctx.close()


def _text(path: Path, *args: str) -> str:
    out = subprocess.run(
        ["pdftotext", *args, str(path), "-"], check=True, capture_output=True, text=True
    )
    return out.stdout


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_chinese_pdf_says_what_the_report_holds(rendered: Rendered) -> None:
    text = _flat(_text(rendered.path["zh"]))
    doc = rendered.signed.document
    for expected in (
        "公共信用信息报告",
        "北京信用报告测试有限公司",
        doc["subject"]["code"],
        doc["number"],
        doc["id"],
        rendered.signed.printed_code,
        "市场监管行政处罚",
        "虚假宣传",
        "罚款",
        "已信用修复",
        "该记录已完成信用修复，依法不再公示其内容。",
        "失信被执行人名单",
        "2023-06-16至2026-06-15",
        "有效期至2026-07-1510:00:00(UTC+08:00)",
    ):
        assert expected in text, expected
    assert "商标侵权" not in text, "a repaired record's content is withheld"


def test_the_english_pdf_says_it_in_english(rendered: Rendered) -> None:
    text = _flat(_text(rendered.path["en"]))
    for expected in (
        "Publiccreditinformationreport",
        "BeijingReportTestCo.,Ltd.",
        "Marketregulationadministrativepenalty",
        "Listofdishonestjudgmentdefaulters",
        "Creditrepaired:itscontentisnolongerpublished.",
        "Fine",
        "Validuntil2026-07-1510:00:00(UTC+08:00)",
    ):
        assert expected in text, expected
    assert "已信用修复" not in text


def test_pages_are_a4_and_carry_one_embedded_font(rendered: Rendered) -> None:
    reader = PdfReader(io.BytesIO(rendered.pdf["zh"]))
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
            595,
            842,
        )
    fonts = subprocess.run(
        ["pdffonts", str(rendered.path["zh"])], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    assert len(fonts) == 1, fonts
    name, *_, emb, sub, uni, _obj, _gen = fonts[0].split()
    assert "WenQuanYi-Micro-Hei" in name
    assert (emb, sub, uni) == ("yes", "yes", "yes")


def _word_box(path: Path, word: str) -> tuple[float, float, float, float]:
    html = _text(path, "-bbox", "-f", "1", "-l", "1")
    for match in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        html,
    ):
        if match.group(5) == word:
            x0, y0, x1, y1 = (float(match.group(i)) for i in range(1, 5))
            return x0, y0, x1, y1
    raise AssertionError(f"{word!r} not on page 1")


def _strip(path: Path, word: str, tmp: Path, *, full_width: bool = False) -> Image.Image:
    """The word as drawn on page 1, in black and white; or its whole line of the page."""
    dpi = 144
    x0, y0, x1, y1 = (v * dpi / 72 for v in _word_box(path, word))
    stem = tmp / "page"
    subprocess.run(
        [
            "pdftoppm",
            "-gray",
            "-png",
            "-r",
            str(dpi),
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(path),
            str(stem),
        ],
        check=True,
    )
    page = Image.open(f"{stem}.png").convert("L")
    left, right = (0, page.width) if full_width else (int(x0) - 4, int(x1) + 5)
    strip = page.crop((left, int(y0), right, int(y1) + 1))
    return strip.point(lambda v: 255 if v > 128 else 0)


def _cells(strip: Image.Image, count: int) -> list[Image.Image]:
    """One cell per character of a CJK word (all the same advance)."""
    inner = strip.crop((4, 0, strip.width - 5, strip.height))
    width = inner.width / count
    return [
        inner.crop((int(i * width) + 1, 0, int((i + 1) * width) - 1, inner.height))
        for i in range(count)
    ]


def _runs(strip: Image.Image) -> list[Image.Image]:
    """The inked runs of columns: one per box where glyphs are missing."""
    inked = [strip.crop((x, 0, x + 1, strip.height)).histogram()[0] > 0 for x in range(strip.width)]
    runs, start = [], None
    for x, ink in enumerate([*inked, False]):
        if ink and start is None:
            start = x
        elif not ink and start is not None:
            runs.append(strip.crop((start, 0, x, strip.height)))
            start = None
    return runs


def _ink(cell: Image.Image) -> float:
    return cell.histogram()[0] / (cell.width * cell.height)


def _same_glyph(a: Image.Image, b: Image.Image) -> bool:
    """Equal up to where the glyph fell between pixels: inked areas of the same size that
    differ in under a sixth of their pixels."""
    box_a, box_b = ImageChops.invert(a).getbbox(), ImageChops.invert(b).getbbox()
    if box_a is None or box_b is None:
        return box_a == box_b
    ink_a, ink_b = a.crop(box_a), b.crop(box_b)
    if abs(ink_a.width - ink_b.width) > 2 or abs(ink_a.height - ink_b.height) > 2:
        return False
    ink_b = ink_b.resize(ink_a.size)
    differing = ImageChops.difference(ink_a, ink_b).point(lambda v: 255 if v > 128 else 0)
    return differing.histogram()[255] < ink_a.width * ink_a.height / 6


def _distinct(cells: list[Image.Image]) -> int:
    kinds: list[Image.Image] = []
    for cell in cells:
        if not any(_same_glyph(cell, k) for k in kinds):
            kinds.append(cell)
    return len(kinds)


def _missing_glyph_box(tmp: Path) -> Image.Image:
    """What the report's title style draws for a character no installed font has."""
    import weasyprint

    missing = "\ue000\ue001\ue002\ue003"
    path = tmp / "probe.pdf"
    page = f"<style>{_static_css()}</style><h1>{missing}</h1>"
    path.write_bytes(weasyprint.HTML(string=page).write_pdf())
    # Poppler places a missing glyph's text box loosely, so take the whole line.
    boxes = _runs(_strip(path, missing, tmp, full_width=True))
    assert len(boxes) == len(missing)
    assert _distinct(boxes) == 1, "every missing character is the same box"
    return boxes[0]


def test_cjk_glyphs_are_drawn_not_boxes(rendered: Rendered, tmp_path: Path) -> None:
    title = "公共信用信息报告"
    cells = _cells(_strip(rendered.path["zh"], title, tmp_path), len(title))
    assert all(0.05 < _ink(c) < 0.6 for c in cells), [round(_ink(c), 3) for c in cells]
    # "信" appears twice in the title; every other character is its own glyph. Missing
    # glyphs would all be one box, and that box is not among them.
    assert _distinct(cells) == len(set(title))
    box = _missing_glyph_box(tmp_path)
    assert not any(_same_glyph(cell, box) for cell in cells)


def test_the_pdf_alone_verifies(rendered: Rendered) -> None:
    carried = extract_envelope(rendered.pdf["en"])
    assert carried == rendered.signed
    result = verify_report(rendered.ctx, signed=carried, keys=rendered.keys, now=NOW)
    assert result.authentic
    assert result.changed_since_issue is False
    assert result.verification_code == rendered.signed.printed_code


def test_a_pdf_with_edited_signed_data_fails(rendered: Rendered) -> None:
    edited = rendered.signed.payload.replace('"fine"', '"warning"').replace("罚款", "警告")
    assert edited != rendered.signed.payload
    forged = SignedReport.of(edited, rendered.signed.signature, rendered.signed.key_id)
    carried = extract_envelope(render_pdf(forged, "zh"))
    result = verify_report(rendered.ctx, signed=carried, keys=rendered.keys, now=NOW)
    assert not result.signature_valid
    assert not result.authentic


def test_a_flipped_byte_in_the_attachment_never_verifies_as_another_report(
    rendered: Rendered,
) -> None:
    """Flips across the compressed attachment: each one is refused as unreadable or,
    where the data still inflates to something else, fails the signature."""
    data = rendered.pdf["zh"]
    # The attachment is the one Flate stream that inflates to the envelope.
    envelope = rendered.signed.envelope_bytes()
    start = end = -1
    # Inflate from each stream's start and let zlib find the end: a regex for the
    # end marker loses the stream whenever its last compressed byte happens to be CR.
    for match in re.finditer(rb"\bstream\r?\n", data):
        inflater = zlib.decompressobj()
        try:
            inflated = inflater.decompress(data[match.end() :])
        except zlib.error:
            continue
        if inflater.eof and inflated == envelope:
            start, end = match.end(), len(data) - len(inflater.unused_data)
    assert start > 0
    raw = data[start:end]
    refused = altered = 0
    for offset in range(2, len(raw) - 4, max(1, len(raw) // 40)):
        flipped = bytearray(data)
        flipped[start + offset] ^= 0x10
        try:
            carried = extract_envelope(bytes(flipped))
        except EnvelopeError:
            refused += 1
            continue
        assert carried != rendered.signed, offset
        altered += 1
        result = verify_report(rendered.ctx, signed=carried, keys=rendered.keys, now=NOW)
        assert not result.authentic, offset
    assert refused + altered >= 30


def test_what_is_not_a_report_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="not a readable PDF"):
        extract_envelope(b"%PDF-1.7 garbage")
    import weasyprint

    plain = weasyprint.HTML(string="<p>hello</p>").write_pdf()
    with pytest.raises(EnvelopeError, match="no signed bonafides report"):
        extract_envelope(plain)


def test_names_cannot_inject_markup(rendered: Rendered) -> None:
    doc = dict(rendered.signed.document)
    doc["subject"] = {**doc["subject"], "name": HOSTILE}
    hostile = SignedReport.of(
        __import__("json").dumps(doc, ensure_ascii=False),
        rendered.signed.signature,
        rendered.signed.key_id,
    )
    for lang in LANGS:
        page = render_html(hostile, lang)
        assert "<script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;恶意公司" in page


def test_the_qr_code_points_to_the_verification_page(rendered: Rendered) -> None:
    url = rendered.signed.document["verify_url"]
    assert url.endswith(f"?report={rendered.signed.report_id}")
    assert qr_data_uri(url) in render_html(rendered.signed, "zh")
    image = Image.open(io.BytesIO(qr_png(url))).convert("1")
    # The same code as the encoder makes with the data mask the page uses.
    code = qrcode.QRCode(border=0, mask_pattern=QR_MASK)
    code.add_data(url)
    code.make()
    matrix = code.get_matrix()
    border = (image.width - len(matrix)) // 2
    drawn = [
        [image.getpixel((border + x, border + y)) == 0 for x in range(len(matrix))]
        for y in range(len(matrix))
    ]
    assert drawn == matrix


def test_every_message_is_in_both_languages() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == set(LANGS), key
        assert all(texts.values()), key
        placeholders = {lang: set(re.findall(r"{(\w+)}", t)) for lang, t in texts.items()}
        assert placeholders["zh"] == placeholders["en"], key


def test_a_full_report_renders_its_access_log(rendered: Rendered) -> None:
    code = rendered.signed.document["subject"]["code"]
    full = issue(rendered.ctx, rendered.keys, code, view=View.FULL)
    page = render_html(full, "en")
    assert "Access and change log" in page
    assert "reports:report:issued" in page


def _page_images(pdf: bytes, tmp: Path, stem: str) -> list[bytes]:
    path = tmp / f"{stem}.pdf"
    path.write_bytes(pdf)
    command = ["pdftoppm", "-gray", "-png", "-r", "50", str(path), str(tmp / stem)]
    subprocess.run(command, check=True)
    return [p.read_bytes() for p in sorted(tmp.glob(f"{stem}-*.png"))]


@pytest.mark.parametrize("lang", LANGS)
def test_the_fast_path_draws_the_pages_weasyprint_draws_of_the_html_page(
    rendered: Rendered, tmp_path: Path, lang: str
) -> None:
    """The PDF path parses the page as XML with its static style sheet parsed apart and
    the garbage collector paused; the pages are those of the browser's page as
    WeasyPrint reads it with nothing of that."""
    import weasyprint

    plain = weasyprint.HTML(string=render_html(rendered.signed, lang)).write_pdf()
    fast = _page_images(rendered.pdf[lang], tmp_path, "fast")
    assert len(fast) >= 1
    assert fast == _page_images(plain, tmp_path, "plain")


def test_a_page_that_is_not_well_formed_xml_is_read_as_html(
    rendered: Rendered, tmp_path: Path
) -> None:
    """A character XML forbids (here a form feed in a name) makes the page no XML
    document; it is parsed as HTML 5 and renders all the same."""
    doc = dict(rendered.signed.document)
    doc["subject"] = {**doc["subject"], "name": "北京换页\x0c测试有限公司"}
    odd = SignedReport.of(
        __import__("json").dumps(doc, ensure_ascii=False),
        rendered.signed.signature,
        rendered.signed.key_id,
    )
    path = tmp_path / "odd.pdf"
    path.write_bytes(render_pdf(odd, "zh"))
    text = _flat(_text(path))
    assert "北京换页" in text
    assert "测试有限公司" in text


def test_a_render_leaves_the_garbage_collector_as_it_found_it(rendered: Rendered) -> None:
    """The collector is held off while a render runs, and only then: on after a render
    if it was on, still off if the process had turned it off, and on after a render that
    failed."""
    import gc

    assert gc.isenabled()
    render_pdf(rendered.signed, "en")
    assert gc.isenabled()
    gc.disable()
    try:
        render_pdf(rendered.signed, "en")
        assert not gc.isenabled()
    finally:
        gc.enable()
    for draw in (render_pdf, render_html):
        with pytest.raises(ValueError, match="unknown language"):
            draw(rendered.signed, "fr")
    broken = SignedReport.of("{}", rendered.signed.signature, rendered.signed.key_id)
    with pytest.raises(Exception):  # noqa: B017, PT011
        render_pdf(broken, "en")
    assert gc.isenabled()


def test_every_stream_is_deflated_once_and_reads_back(rendered: Rendered) -> None:
    """The renderer deflates each stream itself (once, where WeasyPrint's writer did it
    twice): every stream carries one ``/FlateDecode`` filter and inflates to what it was:
    the pages to drawing operators, the embedded font to a TrueType file of its declared
    ``/Length1``."""
    pdf = rendered.pdf["zh"]
    reader = PdfReader(io.BytesIO(pdf))
    kinds = {"font": 0, "page": 0, "other": 0}
    pages = {page.raw_get("/Contents").idnum for page in reader.pages}
    for number in sorted({int(n) for n in re.findall(rb"(?m)^(\d+) 0 obj", pdf)}):
        item = reader.get_object(number)
        if not isinstance(item, StreamObject) or item.get("/Type") in ("/ObjStm", "/XRef"):
            continue
        assert str(item["/Filter"]) == "/FlateDecode", (number, item.get("/Filter"))
        data = item.get_data()
        if "/Length1" in item:
            kinds["font"] += 1
            assert data[:4] == b"\x00\x01\x00\x00"
            assert len(data) == int(item["/Length1"])  # type: ignore[call-overload]
        elif number in pages:
            kinds["page"] += 1
            assert data.startswith(b"1 0 0 -1 0 841.889764 cm\n"), data[:40]
        else:
            kinds["other"] += 1
            assert data, number
    assert kinds["font"] == 1
    assert kinds["page"] == len(reader.pages)


@pytest.mark.parametrize("view", [View.PUBLIC, View.FULL])
@pytest.mark.parametrize("lang", LANGS)
def test_the_report_user_agent_sheet_renders_what_weasyprints_own_renders(
    rendered: Rendered, monkeypatch: pytest.MonkeyPatch, lang: str, view: View
) -> None:
    """Report pages are cascaded with ``ua.css``, the rules of WeasyPrint's user-agent
    sheet for the elements they are made of: the PDF is the one WeasyPrint's whole sheet
    gives, byte for byte (but the render's timestamp)."""
    signed = rendered.signed
    if view is View.FULL:
        signed = issue(rendered.ctx, rendered.keys, signed.document["subject"]["code"], view=view)
    page = ElementTree.fromstring(render_html(signed, lang))
    assert render._ua_sheet_covers(page), "a template writes an element ua.css does not cover"
    fast = render_pdf(signed, lang)
    assert same_render(fast) == same_render(pdf_with_full_ua_sheet(monkeypatch, signed, lang))


def test_a_page_of_other_elements_gets_weasyprints_whole_user_agent_sheet() -> None:
    covered = "<html><head><title>t</title></head><body><div><p class='x'>a</p></div></body></html>"
    assert render._ua_sheet_covers(ElementTree.fromstring(covered))
    for other in (
        "<html><body><table><tr><td>a</td></tr></table></body></html>",
        "<html><body><p><a href='https://example.org'>a</a></p></body></html>",
        "<html><body><p dir='rtl'>a</p></body></html>",
        "<html><body><p hidden=''>a</p></body></html>",
    ):
        assert not render._ua_sheet_covers(ElementTree.fromstring(other)), other


@pytest.mark.parametrize("lang", LANGS)
def test_no_text_stands_between_the_blocks_of_a_record(rendered: Rendered, lang: str) -> None:
    """Text between block elements is a box WeasyPrint makes and then drops; a report has
    two blocks for each of its dozens of records (and lists and grades)."""
    page = ElementTree.fromstring(render.report_page(rendered.signed, lang))
    followed = 0
    for parent in page.iter():
        children = list(parent)
        for block, after in zip(children, [*children[1:], None][: len(children)], strict=True):
            if "rec" not in block.get("class", "").split():
                continue
            assert block.text is None
            assert [child.tail for child in block] == [None] * len(block)
            if after is not None and "rec" in after.get("class", "").split():
                assert block.tail is None
                followed += 1
    assert followed > 0


def test_the_user_agent_sheet_names_only_the_margin_box_reports_use() -> None:
    """A margin box a rule names gets a style computed on every page, 16 per page."""
    sheet = (render.TEMPLATES / "ua.css").read_text("utf-8")
    named = set(re.findall(r"@((?:top|bottom|left|right)-[a-z-]+)", sheet))
    assert named == {"bottom-center"}
    assert "@bottom-center" in render._page_footer("zh", "n", "c")
