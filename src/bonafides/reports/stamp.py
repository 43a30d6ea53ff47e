"""A new report of unchanged data, drawn on the pages laid out for the last one.

Two reports of the same subject, view and data differ on the page only in what each
prints of its own: number, id, verification code, the three times, the QR code, and the
running footer and the file's title that repeat the number and code. The template marks
those values (``s-number``, ``s-id``, ... in report.html) and keeps each on one line
that never wraps, so the rest of the layout (line breaks, pages, positions) does not
depend on them. Layout is nearly two thirds of a render, so the laid-out pages of a
report are kept, keyed by everything else the page shows (the document without those
values, the language, the templates' version), and a new report of the same data is
*stamped*: each marked line gets the new text, laid out alone, and the boxes after it
on its line (or the whole line, if it is centred) move by the change in its width. The
pages are then drawn and written as for any report, with the new document's envelope.

A stamp is refused (and the report laid out afresh) if anything is not as expected: a
marked value on a line of several, a centred line that would overflow, a new height.
tests/reports/test_stamp.py checks that a stamped report's pages are the pages a fresh
layout of it gives. Laid-out pages hold WeasyPrint's boxes and Pango layouts, which use
the font configuration of the thread that made them (``render._font_config``), so a
thread only stamps the pages it laid out; a full report's pages (non-public data) never
leave memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from bonafides.reports import render
from bonafides.reports.envelope import SignedReport

#: Laid-out reports kept in all: a 50-record report's pages take about 2.5 MB.
BOUND = 16

#: The document's own values that the page prints; none of them is in the layout key.
_OWN = ("id", "number", "issued_at", "data_as_of", "valid_until", "verify_url")


def own_values(signed: SignedReport) -> dict[str, str]:
    """What a report prints of its own, by the class that marks it in report.html."""
    doc = signed.document
    return {
        "s-number": doc["number"],
        "s-id": doc["id"],
        "s-code": signed.printed_code,
        "s-issued": render.when(doc["issued_at"]),
        "s-data-as-of": render.when(doc["data_as_of"]),
        "s-valid": render.when(doc["valid_until"]),
    }


def layout_key(signed: SignedReport, lang: str) -> str | None:
    """Everything a report's pages show besides its own values; ``None`` for a document
    that is not stamped (a check certificate, a report without a number)."""
    doc = signed.document
    if doc.get("format") == render.CERTIFICATE_FORMAT or not doc.get("number"):
        return None
    rest = {k: v for k, v in doc.items() if k not in _OWN}
    rest["verify_base"] = render.verify_base(doc)
    canonical = json.dumps(rest, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    from bonafides.reports.rendered import template_version

    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{digest}:{lang}:{template_version()}"


class StampRefusedError(Exception):
    """The kept pages cannot take this report's values as a fresh layout would."""


@dataclass
class _Line:
    """A marked text box, the inline boxes around it and the line it is on."""

    text: Any
    inlines: list[Any]
    after: list[Any]
    line: Any
    parent: Any


@dataclass
class Laid:
    """A laid-out report, where its own values are, and the values it holds now."""

    document: Any
    values: dict[str, str]
    marked: list[tuple[str, _Line]] = field(default_factory=list)
    footers: list[_Line] = field(default_factory=list)
    images: list[Any] = field(default_factory=list)


def _marks(box: Any) -> str | None:
    element = getattr(box, "element", None)
    if element is None:
        return None
    return next((c for c in element.get("class", "").split() if c.startswith("s-")), None)


def _find(laid: Laid) -> None:
    """Index the marked text boxes, footers and QR images of ``laid``'s pages."""
    from weasyprint.formatting_structure import boxes

    def in_line(box: Any, found: _Line, margin: bool) -> None:
        """Walk ``box`` of ``found.line``; ``found`` holds the path's inline boxes and
        the boxes after it on the line so far."""
        if isinstance(box, boxes.TextBox):
            mark = _marks(box)
            if margin:
                laid.footers.append(dataclasses.replace(found, text=box))
            elif mark is not None:
                laid.marked.append((mark, dataclasses.replace(found, text=box)))
            return
        if isinstance(box, boxes.InlineReplacedBox) and box.element_tag == "img":
            laid.images.append(box)
        children = list(getattr(box, "children", ()))
        inlines = [*found.inlines, box] if isinstance(box, boxes.InlineBox) else found.inlines
        for n, child in enumerate(children):
            later = [*children[n + 1 :], *found.after]
            in_line(child, _Line(None, inlines, later, found.line, found.parent), margin)

    def walk(box: Any, margin: bool) -> None:
        lines = [c for c in getattr(box, "children", ()) if isinstance(c, boxes.LineBox)]
        if len(lines) > 1 and any(_has_mark(c) for c in lines):
            raise StampRefusedError("a marked value shares its block with other lines")
        for child in getattr(box, "children", ()):
            if isinstance(child, boxes.LineBox):
                in_line(child, _Line(None, [], [], child, box), margin)
            else:
                walk(child, margin)

    for page in laid.document.pages:
        for child in page._page_box.children:
            margin = isinstance(child, boxes.MarginBox)
            if margin and child.at_keyword != "@bottom-center":
                continue
            walk(child, margin)
    found = {mark for mark, _ in laid.marked}
    if found != set(laid.values) or not laid.footers:
        raise StampRefusedError(f"marked values found: {sorted(found)}")


def _has_mark(box: Any) -> bool:
    return _marks(box) is not None or any(_has_mark(c) for c in getattr(box, "children", ()))


def _offset_change(found: _Line, delta: float) -> float:
    """How far the whole line moves when its content widens by ``delta`` (text-align)."""
    line = found.line
    align = line.style["text_align_all"]
    if line.style["text_align_last"] != "auto":
        align = line.style["text_align_last"]
    if align in ("left", "right"):
        align = "start" if (align == "left") ^ (line.style["direction"] == "rtl") else "end"
    if align == "start":
        return 0.0
    if align == "justify":
        raise StampRefusedError("a justified line")
    offset = line.position_x - found.parent.content_box_x()
    if offset <= 0:
        raise StampRefusedError("an aligned line that fills its box")
    share = 0.5 if align == "center" else 1.0
    available = offset / share + line.width
    if line.width + delta >= available:
        raise StampRefusedError("an aligned line that would overflow")
    return -delta * share


def _plan(found: _Line, text: str) -> tuple[Any, float, float]:
    """The new text's layout, its width change and the line's move; nothing changed yet."""
    from weasyprint.text.line_break import split_first_line

    box = found.text
    layout, _, resume, width, height, _ = split_first_line(
        text, box.style, None, None, box.justification_spacing
    )
    if resume is not None or abs(height - box.height) > 1e-6:
        raise StampRefusedError(f"{text!r} does not lay out as one line of the same height")
    delta = width - box.width
    return layout, delta, _offset_change(found, delta)


def _apply(found: _Line, text: str, layout: Any, delta: float, move: float) -> None:
    box = found.text
    box.text, box.pango_layout, box.width = text, layout, box.width + delta
    for inline in found.inlines:
        inline.width += delta
    for later in found.after:
        later.translate(delta, 0)
    found.line.width += delta
    if move:
        found.line.translate(move, 0)


def restamp(laid: Laid, signed: SignedReport) -> None:
    """Put ``signed``'s own values on ``laid``'s pages, or raise ``StampRefusedError`` having
    changed nothing."""
    from weasyprint import DEFAULT_OPTIONS
    from weasyprint.images import get_image_from_uri

    new = own_values(signed)
    old = laid.values
    changes: list[tuple[_Line, str]] = [
        (found, new[mark]) for mark, found in laid.marked if new[mark] != old[mark]
    ]
    old_prefix = f"{old['s-number']} · {old['s-code']} · "
    new_prefix = f"{new['s-number']} · {new['s-code']} · "
    for found in laid.footers:
        if not found.text.text.startswith(old_prefix):
            raise StampRefusedError("a footer without the number and code")
        if old_prefix != new_prefix:
            changes.append((found, new_prefix + found.text.text[len(old_prefix) :]))
    plans = [(found, text, *_plan(found, text)) for found, text in changes]
    image = get_image_from_uri(
        {}, render.fetcher(), DEFAULT_OPTIONS, render.qr_data_uri(signed.document["verify_url"])
    )
    for found, text, layout, delta, move in plans:
        _apply(found, text, layout, delta, move)
    for box in laid.images:
        box.replacement = image
    metadata = laid.document.metadata
    pairs = [(old[k], new[k]) for k in ("s-number", "s-id", "s-code")]
    for attribute in ("title", "description"):
        value = getattr(metadata, attribute)
        if value:
            for before, after in pairs:
                value = value.replace(before, after)
            setattr(metadata, attribute, value)
    swap = dict(pairs)
    metadata.keywords = [swap.get(k, k) for k in metadata.keywords or []]
    laid.values = new


class LaidOutReports:
    """The last laid-out reports, by thread and ``layout_key``, at most ``bound`` in all
    (least recently used first out); ``stamped`` and ``laid_out`` count the PDFs made
    each way. A thread only ever takes its own: the pages use its font configuration."""

    def __init__(self, bound: int = BOUND) -> None:
        self.bound = bound
        self.stamped = 0
        self.laid_out = 0
        self._kept: OrderedDict[tuple[int, str], Laid] = OrderedDict()
        self._lock = threading.Lock()

    def pdf(self, signed: SignedReport, lang: str) -> bytes:
        """The unsigned PDF of ``signed`` in ``lang``, stamped on kept pages if it can be."""
        render.check_lang(lang)
        key = layout_key(signed, lang)
        if key is None:
            self.laid_out += 1
            return render.write_pdf(render.lay_out(render.report_page(signed, lang)), signed)
        # A thread's id may be reused once it has ended: the pages it left are then used
        # by one thread at a time still, which is all WeasyPrint's font handling needs.
        slot = (threading.get_ident(), key)
        keep = True
        # Taken out while in use: no other call can reach these pages meanwhile.
        with self._lock:
            laid = self._kept.pop(slot, None)
        if laid is not None:
            try:
                restamp(laid, signed)
            except StampRefusedError:
                laid = None
            else:
                self.stamped += 1
        if laid is None:
            self.laid_out += 1
            laid = Laid(render.lay_out(render.report_page(signed, lang)), own_values(signed))
            try:
                _find(laid)
            except StampRefusedError:
                keep = False
        pdf = render.write_pdf(laid.document, signed)
        if keep:
            with self._lock:
                self._kept[slot] = laid
                while len(self._kept) > self.bound:
                    self._kept.popitem(last=False)
        return pdf

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()

    def __len__(self) -> int:
        return len(self._kept)


#: The process's laid-out reports, behind ``bonafides.reports.rendered.RENDERED``.
LAID_OUT = LaidOutReports()
