"""Four ways to forge a report or certificate PDF issued by the platform (issue 13, item 1).

Each takes the genuine file and returns a forgery that still carries the genuine signed
attachment, so a verifier that checks only the attachment would call it authentic.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from pypdf import PdfReader, PdfWriter

from bonafides.reports.envelope import EnvelopeError
from bonafides.reports.render import extract_envelope, pdf_of

Forgery = Callable[[bytes], bytes]


def one_byte_changed(pdf: bytes) -> bytes:
    """One byte near the middle of the file changed, where the attachment still reads."""
    genuine = extract_envelope(pdf)
    for at in range(len(pdf) // 2, len(pdf), 97):
        forged = bytearray(pdf)
        forged[at] ^= 0x01
        try:
            if extract_envelope(bytes(forged)) == genuine:
                return bytes(forged)
        except EnvelopeError:
            continue
    raise AssertionError("no byte to change that leaves the attachment readable")


def text_overlaid(pdf: bytes) -> bytes:
    """ "Paid in full" stamped over the first page, attachments kept."""
    stamp = pdf_of(
        "<p style='font-size:40pt;color:red;margin-top:120pt'>PAID IN FULL 已结清</p>",
        extract_envelope(pdf),
    )
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.pages[0].merge_page(PdfReader(io.BytesIO(stamp)).pages[0])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pages_dropped(pdf: bytes) -> bytes:
    """Only the first page left (the one with the subject and the verification code)."""
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) > 1, "the forgery needs a report of more than one page"
    writer = PdfWriter(clone_from=reader)
    while len(writer.pages) > 1:
        writer.remove_page(len(writer.pages) - 1)
    out = io.BytesIO()
    writer.write(out)
    assert extract_envelope(out.getvalue()) == extract_envelope(pdf)
    return out.getvalue()


def new_pdf_with_the_attachment(pdf: bytes) -> bytes:
    """A page of the forger's own making that carries the genuine signed attachment."""
    return pdf_of("<h1>公共信用信息报告</h1><p>No records. 无不良记录。</p>", extract_envelope(pdf))


FORGERIES: dict[str, Forgery] = {
    "one-byte-changed": one_byte_changed,
    "text-overlaid": text_overlaid,
    "pages-dropped": pages_dropped,
    "new-pdf-same-attachment": new_pdf_with_the_attachment,
}
