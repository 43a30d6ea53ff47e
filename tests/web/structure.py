"""The structure of a rendered page as a browser would build it, with the standard
library's HTML parser: what ``<title>`` holds, where each element sits, which ids repeat.

Browsers read ``<title>`` as raw text, so a tag inside it is shown to the reader as
characters; this parser records it as an element nested in the title instead, which is
what the checks look for.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: Elements that never have content, so never stay on the stack of open elements.
VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


@dataclass(frozen=True)
class Element:
    tag: str
    attrs: dict[str, str]
    #: The tags of the open elements around it, outermost first.
    ancestors: tuple[str, ...]


@dataclass
class Page:
    title: str = ""
    elements: list[Element] = field(default_factory=list)
    #: The text a reader sees: character data outside scripts and styles.
    text: str = ""

    def by_id(self, element_id: str) -> list[Element]:
        return [e for e in self.elements if e.attrs.get("id") == element_id]

    def inside(self, tag: str) -> list[Element]:
        return [e for e in self.elements if tag in e.ancestors]

    def repeated_ids(self) -> list[str]:
        counts = Counter(e.attrs["id"] for e in self.elements if "id" in e.attrs)
        return sorted(i for i, n in counts.items() if n > 1)


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.page.elements.append(Element(tag, values, tuple(self.stack)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        self.page.elements.append(Element(tag, values, tuple(self.stack)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if not ({"script", "style"} & set(self.stack)):
            self.page.text += data + "\n"
        if self.stack and self.stack[-1] == "title" and "head" in self.stack:
            self.page.title += data


def parse(html: str) -> Page:
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.page


def problems(html: str) -> list[str]:
    """What a browser would show wrongly: markup in the title, content outside ``<main>``
    of the body's landmarks, ids used twice."""
    page = parse(html)
    found = [f"<{e.tag}> inside <title>" for e in page.inside("title") if "head" in e.ancestors]
    found += [f"id {i!r} used more than once" for i in page.repeated_ids()]
    found += [
        f"<{e.tag} id={e.attrs.get('id', '')!r}> outside <body>"
        for e in page.elements
        if e.tag in {"section", "h1", "h2", "table"} and "body" not in e.ancestors
    ]
    return found
