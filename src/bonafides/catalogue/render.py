"""Views of the catalogue: a machine-readable document and a Rich table (DESIGN §4, §10)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table

from bonafides.catalogue.models import (
    ANY_DEPARTMENT,
    Catalogue,
    PublicationRule,
    RecordType,
    Severity,
)

__all__ = [
    "DOCUMENT_FORMAT",
    "catalogue_document",
    "catalogue_table",
    "effect_text",
    "publication_summary",
]

#: Identifies the shape of :func:`catalogue_document`'s output.
DOCUMENT_FORMAT = "bonafides.catalogue/1"


def catalogue_document(
    cat: Catalogue, lists: Mapping[str, tuple[str, ...]] | None = None
) -> dict[str, Any]:
    """The whole catalogue as a JSON-able dict: version, digest, fields, departments and
    record types with their content schemas; with ``lists`` (a type's lists, from the
    rules, which this package does not read) each type also names the lists it feeds."""
    body = cat.model_dump(mode="json")
    for rtype, item in zip(cat.types, body["types"], strict=True):
        item["publication_max_months"] = rtype.publication.max_months
        item["column_map"] = rtype.column_map()
        if lists is not None:
            item["lists"] = list(lists.get(rtype.code, ()))
    return {
        "format": DOCUMENT_FORMAT,
        "version": cat.version,
        "digest": cat.digest,
        "counts": {
            "fields": len(cat.fields),
            "departments": len(cat.departments),
            "types": len(cat.types),
        },
        "fields": body["fields"],
        "departments": body["departments"],
        "types": body["types"],
    }


def _window(rule: PublicationRule) -> str:
    if not rule.published:
        return "-"
    if rule.min_months == rule.max_months:
        return f"{rule.max_months}"
    return f"{rule.min_months}-{rule.max_months}"


def publication_summary(rtype: RecordType) -> str:
    """Publication in months, e.g. ``"12-36"``, ``"minor -, general 3-12, serious 12-36"``
    or ``"not published"``."""
    publication = rtype.publication
    if not publication.published:
        return "not published"
    if isinstance(publication, PublicationRule):
        return _window(publication)
    return ", ".join(f"{s.value} {_window(publication.rule(s))}" for s in Severity)


def effect_text(rtype: RecordType, lists: Mapping[str, tuple[str, ...]]) -> str:
    """The lists a type feeds, or why it feeds none."""
    fed = lists.get(rtype.code, ())
    if fed:
        return ", ".join(fed)
    if rtype.no_list:
        return f"no list: {rtype.no_list}"
    return "-"


def catalogue_table(cat: Catalogue, lists: Mapping[str, tuple[str, ...]] | None = None) -> Table:
    """One row per record type, grouped by field; with ``lists``, what each type feeds."""
    table = Table(
        title=f"bonafides catalogue {cat.version} ({len(cat.types)} types, "
        f"{len(cat.fields)} fields)",
        caption=f"digest {cat.digest[:16]}; publication and retention in months",
        show_lines=False,
    )
    table.add_column("code", no_wrap=True)
    table.add_column("title", overflow="fold")
    table.add_column("field")
    table.add_column("polarity")
    table.add_column("disclosure")
    table.add_column("publication")
    table.add_column("retention", justify="right")
    table.add_column("sources", overflow="fold")
    table.add_column("legal basis", overflow="fold")
    if lists is not None:
        table.add_column("lists fed", overflow="fold")
    order = {f.code: i for i, f in enumerate(cat.fields)}
    for rtype in sorted(cat.types, key=lambda t: (order.get(t.field, len(order)), t.code)):
        sources = "any department" if ANY_DEPARTMENT in rtype.sources else ", ".join(rtype.sources)
        cells = [
            rtype.code,
            f"{rtype.title_zh}\n{rtype.title_en}",
            cat.field(rtype.field).title_zh,
            rtype.polarity.value,
            rtype.disclosure.value,
            publication_summary(rtype),
            str(rtype.retention_months),
            sources,
            "\n".join(rtype.legal_basis),
        ]
        if lists is not None:
            cells.append(effect_text(rtype, lists))
        table.add_row(*cells)
    return table
