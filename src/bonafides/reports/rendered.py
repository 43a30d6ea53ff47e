"""Rendered report and certificate PDFs kept in memory, before they are PDF-signed.

Layout is nearly all of a PDF's cost, and a signed document never changes: its payload
(with the ``data_digest`` of the data behind it), signature and key are fixed when it is
issued. So the unsigned render of one document in one language is kept, keyed by the
digest of its whole envelope, the language and the version of the templates and
renderer, and a document fetched again is only signed and registered
(``bonafides.reports.files.issue_pdf``), never laid out again. Data that changed makes a
new report with a new payload, so it can never be served an old render; a template or
WeasyPrint change makes a new version, so nothing rendered by the old one is used.

The cache holds only what signing starts from: every PDF handed out is still signed
afresh and its own digest registered. It lives in the process's memory (never on disk:
a full report holds non-public data), bounded by bytes, least recently used first out.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from functools import cache
from pathlib import Path

from bonafides.reports import render
from bonafides.reports.envelope import SignedReport
from bonafides.reports.messages import MESSAGES

#: About 400 reports of 50 records (80 KB each); a process never holds more than this.
MAX_BYTES = 32 * 1024 * 1024


@cache
def template_version() -> str:
    """What the pages of a document depend on besides the document: the templates and
    style sheet, the words, the renderer's code (the face's cut included) and WeasyPrint's
    version."""
    import weasyprint

    digest = hashlib.sha256(weasyprint.__version__.encode())
    sources = [
        *sorted(render.TEMPLATES.iterdir()),
        Path(render.__file__),
        Path(render.__file__).with_name("stamp.py"),
        Path(render.__file__).with_name("face.py"),
    ]
    for path in sources:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(repr(sorted(MESSAGES.items())).encode())
    return digest.hexdigest()[:16]


def cache_key(signed: SignedReport, lang: str) -> str:
    envelope = hashlib.sha256(signed.envelope_bytes()).hexdigest()
    return f"{envelope}:{lang}:{template_version()}"


class RenderedPdfs:
    """Unsigned PDFs by ``cache_key``; ``hits`` and ``misses`` count the answers given."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.hits = 0
        self.misses = 0
        self._pdfs: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def pdf(self, signed: SignedReport, lang: str) -> bytes:
        """The unsigned PDF of ``signed`` in ``lang``: rendered once, then kept."""
        render.check_lang(lang)
        key = cache_key(signed, lang)
        with self._lock:
            kept = self._pdfs.get(key)
            if kept is not None:
                self._pdfs.move_to_end(key)
                self.hits += 1
                return kept
            self.misses += 1
        # Rendering takes the lock for no one: two threads asking for the same new
        # document both render it, and the second keeps what the first stored.
        from bonafides.reports.stamp import LAID_OUT

        pdf = LAID_OUT.pdf(signed, lang)
        self._keep(key, pdf)
        return pdf

    def _keep(self, key: str, pdf: bytes) -> None:
        if len(pdf) > self.max_bytes:
            return
        with self._lock:
            if key in self._pdfs:
                return
            self._pdfs[key] = pdf
            self._size += len(pdf)
            while self._size > self.max_bytes:
                _, dropped = self._pdfs.popitem(last=False)
                self._size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._pdfs.clear()
            self._size = 0

    def __len__(self) -> int:
        return len(self._pdfs)


#: The process's cache, shared by the CLI, the API and the portal.
RENDERED = RenderedPdfs()
