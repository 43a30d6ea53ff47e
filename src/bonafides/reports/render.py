"""A signed report (or check certificate) as HTML and as an A4 PDF, in Chinese or English.

Rendering reads the signed document and nothing else, so any copy can be rendered again
and look the same. The PDF carries the signed envelope as an attachment: the file alone
is enough to verify it.

WeasyPrint subsets every embedded face on every render. HarfBuzz's subsetter (Debian's
``libharfbuzz-subset0``) does this in milliseconds where fontTools takes seconds for a CJK
face, and one face (WenQuanYi Micro Hei, which covers Latin and CJK) serves both scripts,
with no bold, so each render subsets exactly one face. The rest of a PDF's cost is
WeasyPrint's own Python (styles, boxes, line breaking, drawing), so the PDF path spares it
what does not depend on the document: the static style sheet is parsed once per process,
the page (our own well-formed template) is parsed by the C XML parser rather than the
pure-Python HTML 5 one and cascaded with the user-agent rules that apply to its elements
(``ua.css``), the cyclic garbage collector waits until the render is done, and each stream
is deflated once (``deflate_streams_once``).
docs/reports.md and benchmarks/RESULTS.md have the measurements.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import threading
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import qrcode
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from qrcode.image.pil import PilImage

from bonafides import collector
from bonafides.reports import face
from bonafides.reports.envelope import ATTACHMENT_NAME, EnvelopeError, SignedReport
from bonafides.reports.messages import LANGS, MESSAGES, translate

#: ``bonafides.reports.certificates`` signs documents of this format; it is named here so
#: that rendering does not import the screening service.
CERTIFICATE_FORMAT = "bonafides.check-certificate/1"

TEMPLATES = Path(__file__).parent / "templates"
HTML_LANG = {"zh": "zh-CN", "en": "en"}
_SEPARATOR = {"zh": "；", "en": "; "}
_GAP = {"zh": "　", "en": " · "}
_COLON = {"zh": "：", "en": ": "}


class UnsupportedLanguageError(ValueError):
    """A language the report has no words for."""


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise UnsupportedLanguageError(f"unknown language {lang!r}: choose {' or '.join(LANGS)}")
    return lang


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    return env


@cache
def _static_css() -> str:
    return (TEMPLATES / "report.css").read_text("utf-8")


def when(value: str) -> str:
    """An ISO timestamp as a reader wants it: local time with its offset, to the second."""
    moment = dt.datetime.fromisoformat(value)
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} (UTC{offset[:3]}:{offset[3:]})"


def _css_string(text: str) -> str:
    """A CSS string literal; the values come from this package, never from a request."""
    if "<" in text:
        raise ValueError("markup in a CSS string")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\a ")
    return f'"{escaped}"'


def _page_footer(lang: str, number: str, code: str) -> str:
    """The running footer: number, code and page count on every page of a printout."""
    text = translate(lang, "page", page="\0", pages="\1")
    before, rest = text.split("\0")
    middle, after = rest.split("\1")
    content = " ".join(
        [
            _css_string(f"{number} · {code} · {before}"),
            "counter(page)",
            _css_string(middle),
            "counter(pages)",
            _css_string(after),
        ]
    )
    # The width the footer gets anyway (the page's 180 mm between its margins, report.css),
    # given outright: otherwise every page measures the footer's widest and narrowest line.
    style = "width: 180mm; font-size: 7.5pt; color: #555;"
    return f"@page {{ @bottom-center {{ content: {content}; {style} }} }}\n"


#: The QR code's data mask. Any of the eight is a valid code that every reader decodes;
#: letting the encoder score all eight for the fewest confusing patterns cost more (6 to
#: 10 ms) than anything else outside WeasyPrint, for a code read from a screen or paper
#: at this size either way.
QR_MASK = 0


def qr_png(url: str) -> bytes:
    """The QR code of ``url``, drawn locally, one pixel per module.

    The page scales it up without smoothing (``image-rendering: pixelated``), so it stays
    sharp at any size while the PDF carries a few hundred bytes; an SVG of the same code
    is thousands of little paths that cost a tenth of the render to draw.
    """
    code = qrcode.QRCode(box_size=1, border=2, image_factory=PilImage, mask_pattern=QR_MASK)
    code.add_data(url)
    code.make(fit=True)
    image = code.make_image()
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_data_uri(url: str) -> str:
    return "data:image/png;base64," + base64.b64encode(qr_png(url)).decode()


def verify_base(doc: dict[str, Any]) -> str:
    """The verification page's address without the document's id: the page tells the
    reader to enter the id and code there, and the printed text stays the same for every
    report of the same data (``bonafides.reports.stamp``); the QR code carries the id."""
    url: str = doc["verify_url"]
    return url.removesuffix(f"?report={doc.get('id')}")


def _counts(document: dict[str, Any]) -> dict[str, int]:
    records = [r for s in document["sections"] for r in s["records"]]
    return {
        "records": len(records),
        "negative": sum(1 for r in records if r["polarity"] == "negative"),
    }


def _footer_css(report: SignedReport, lang: str) -> str:
    doc = report.document
    return _page_footer(lang, doc.get("number") or doc["id"], report.printed_code)


def page_css(report: SignedReport, lang: str) -> str:
    """The whole style sheet of a report page; the HTML response's CSP hashes exactly this."""
    return _static_css() + _footer_css(report, lang)


def css_hash(css: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()


def render_html(report: SignedReport, lang: str) -> str:
    """The page of a signed report or check certificate (the document's format decides)."""
    check_lang(lang)
    return _page(report, lang, page_css(report, lang))


def _page(report: SignedReport, lang: str, css: str) -> str:
    """The page with ``css`` as its style sheet (the PDF gets the static part apart)."""
    check_lang(lang)
    doc = report.document
    sep = _SEPARATOR[lang]
    colon = _COLON[lang]

    def t(key: str, **values: str) -> str:
        return translate(lang, key, **values)

    def pick(zh: str | None, en: str | None) -> str:
        first, second = (zh, en) if lang == "zh" else (en, zh)
        return first or second or ""

    def label(prefix: str, value: str) -> str:
        key = f"{prefix}.{value}"
        return MESSAGES[key][lang] if key in MESSAGES else value

    def detail(record: dict[str, Any]) -> str:
        parts = [
            pick(c["label_zh"], c["label_en"]) + colon + pick(c["text_zh"], c["text_en"])
            for c in record["content"]
        ]
        if record["legal_basis"]:
            parts.append(t("legal_basis") + colon + record["legal_basis"])
        if record["published_until"]:
            parts.append(t("published_until") + colon + record["published_until"])
        return sep.join(parts)

    helpers: dict[str, Callable[..., str]] = {
        "t": t,
        "pick": pick,
        "label": label,
        "detail": detail,
    }
    common: dict[str, Any] = {
        "doc": doc,
        "code": report.printed_code,
        "qr": qr_data_uri(doc["verify_url"]),
        "verify_base": verify_base(doc),
        # Our own style sheet, with no input in it.
        "css": Markup(css),  # noqa: S704
        "html_lang": HTML_LANG[lang],
        "sep": sep,
        "gap": _GAP[lang],
        "colon": colon,
        **helpers,
    }
    if doc.get("format") == CERTIFICATE_FORMAT:
        return _environment().get_template("certificate.html").render(**common)
    template = _environment().get_template("report.html")
    return template.render(
        counts=_counts(doc),
        empty_sections=[s for s in doc["sections"] if not s["records"]],
        **common,
    )


_local = threading.local()


def _font_config() -> Any:
    """One font configuration per thread: building it costs about as much as laying out
    a short page, and WeasyPrint does not promise it is safe to share between threads.
    It holds the report face cut to the common characters (``bonafides.reports.face``)."""
    config = getattr(_local, "font_config", None)
    if config is None:
        from weasyprint.text.fonts import FontConfiguration

        config = FontConfiguration()
        face.register(config)
        _local.font_config = config
    return config


@cache
def _static_stylesheet() -> Any:
    """The static style sheet, parsed and indexed once per process: WeasyPrint reads a
    ``CSS`` object and never changes it, so every render and thread can share it."""
    import weasyprint

    return weasyprint.CSS(string=_static_css())


#: The elements and attributes ``ua.css`` (WeasyPrint's user-agent rules that can apply to
#: them) covers: every one the templates write.
UA_ELEMENTS = frozenset(
    {
        *("html", "head", "meta", "title", "style", "body", "header", "footer"),
        *("div", "p", "span", "h1", "h2", "h3", "img"),
    }
)
UA_ATTRIBUTES = frozenset(["alt", "charset", "class", "content", "lang", "name", "src"])


@cache
def _ua_stylesheet() -> Any:
    import weasyprint

    return weasyprint.CSS(string=(TEMPLATES / "ua.css").read_text("utf-8"))


def _ua_sheet_covers(root: ElementTree.Element) -> bool:
    """Whether ``ua.css`` cascades this page as WeasyPrint's whole sheet would: it holds
    only the rules for these elements and attributes, so a page with any other (a table, a
    link, ``dir`` or ``hidden``) is given the whole sheet."""
    return all(
        element.tag in UA_ELEMENTS and UA_ATTRIBUTES.issuperset(element.attrib)
        for element in root.iter()
    )


@cache
def _report_page_class() -> Any:
    import weasyprint

    class ReportPage(weasyprint.HTML):  # type: ignore[misc]
        """A page of our templates' elements only, cascaded with their user-agent rules.

        WeasyPrint matches every element against its whole HTML 5 user-agent sheet (tables,
        lists, forms, ``[dir]`` and ``::marker`` rules included), about 5 % of a report's
        render; ``ua.css`` holds the rules of that sheet that can apply to these pages.
        """

        def _ua_stylesheets(self, forms: bool = False) -> list[Any]:
            if forms:
                return list(super()._ua_stylesheets(forms))
            return [_ua_stylesheet()]

    return ReportPage


def _document(html: str, fetcher: Any) -> Any:
    """WeasyPrint's document of ``html``, parsed as XML when it is well-formed.

    The templates write well-formed XHTML, and the C XML parser reads it in a tenth of the
    time of WeasyPrint's pure-Python HTML 5 parser into the same tree: elements without a
    namespace, the same text. A page that is not well-formed XML (a character XML forbids
    in some record's text, say) is parsed as HTML 5, as before, and cascaded with
    WeasyPrint's whole user-agent sheet.
    """
    import cssselect2  # type: ignore[import-untyped]
    import weasyprint

    try:
        # Our template's output, every value escaped: no DTD or entity can come from data.
        root = ElementTree.fromstring(html)  # noqa: S314
    except ElementTree.ParseError:
        return weasyprint.HTML(string=html, url_fetcher=fetcher)
    # What ``HTML.__init__`` sets after parsing; a page with no <base> has no base URL.
    kind: Any = _report_page_class() if _ua_sheet_covers(root) else weasyprint.HTML
    document = kind.__new__(kind)
    document.base_url = None
    document.url_fetcher = fetcher
    document.media_type = "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
    document.etree_element = document.wrapper_element.etree_element
    return document


#: zlib's default level: level 9, WeasyPrint's, takes twice the time for 0.5 % less.
DEFLATE_LEVEL = 6
_STREAM_START, _STREAM_END = b"\nstream\n", b"\nendstream"


def deflate_streams_once(_document: Any, pdf: Any) -> None:
    """Deflate each of the PDF's streams now, once (a ``write_pdf`` finisher).

    Left to itself the PDF writer deflates every stream when it writes it, and again when
    it hashes all objects for the file identifier: the 400 KB of the embedded font's
    tables twice per render, the largest single cost after layout and drawing. A stream
    deflated here is written as it is, with its ``/FlateDecode`` filter.
    """
    for item in pdf.objects:
        if getattr(item, "compress", False) is not True:
            continue
        extra = item.extra
        item.compress, item.extra = False, {}
        data = item.data  # <</Length n>>, the stream's bytes between the two keywords
        raw = data[data.index(_STREAM_START) + len(_STREAM_START) : -len(_STREAM_END)]
        item.stream = [zlib.compress(raw, DEFLATE_LEVEL)]
        item.extra = {**extra, "Filter": "/FlateDecode"}


def render_pdf(report: SignedReport, lang: str) -> bytes:
    """A4 PDF with the signed envelope attached; no URL is fetched while rendering."""
    return pdf_of(report_page(report, lang), report)


def report_page(report: SignedReport, lang: str) -> str:
    """The page the PDF lays out: the static style sheet comes apart, already parsed."""
    check_lang(lang)
    return _page(report, lang, _footer_css(report, lang))


def pdf_of(html: str, report: SignedReport) -> bytes:
    """The PDF of a report page, with ``report``'s envelope attached.

    The static style sheet comes parsed (``_static_stylesheet``); a page that carries it
    inline as well (``render_html``'s) draws the same, its own rules coming after.
    """
    with collector.paused():
        return write_pdf(lay_out(html), report)


def fetcher() -> Any:
    """Inline data only: a report must not reach out while it renders."""
    import weasyprint

    return weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)


def lay_out(html: str) -> Any:
    """WeasyPrint's laid-out ``Document`` of a report page: styles, boxes and pages."""
    with collector.paused():
        return _document(html, fetcher()).render(
            stylesheets=[_static_stylesheet()], font_config=_font_config()
        )


def write_pdf(document: Any, report: SignedReport) -> bytes:
    """The PDF of a laid-out ``document`` (drawn, its font subset), ``report``'s envelope
    attached and its digest as the file identifier."""
    import weasyprint

    attachment = weasyprint.Attachment(
        string=report.envelope_bytes(),
        name=ATTACHMENT_NAME,
        description="bonafides signed credit report (Ed25519)",
        relationship="Source",
    )
    # The fonts a write collects (and subsets) are kept on the document: a document
    # written again must collect only the glyphs its pages draw now.
    document.fonts = {}
    with collector.paused():
        pdf = document.write_pdf(
            attachments=[attachment],
            pdf_identifier=report.digest[:32].encode(),
            finisher=deflate_streams_once,
        )
    assert isinstance(pdf, bytes)
    return pdf


def extract_envelope(pdf: bytes) -> SignedReport:
    """The signed envelope attached to a report PDF.

    The file comes from anyone, so every failure to read it (pypdf raises many kinds on
    damaged input) becomes one ``EnvelopeError``: the file is not a verifiable report.
    """
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        attached = reader.attachments.get(ATTACHMENT_NAME)
    except Exception as exc:
        raise EnvelopeError(f"not a readable PDF: {exc}") from exc
    if not attached:
        raise EnvelopeError("the PDF carries no signed bonafides report")
    if len(attached) != 1:
        raise EnvelopeError("the PDF carries more than one signed report")
    return SignedReport.from_envelope(attached[0])
