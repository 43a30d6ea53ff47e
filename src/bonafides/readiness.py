"""Whether this process can do its whole job, for a load balancer's readiness probe.

Liveness (``GET /api/v1/health``) only says the worker answers; readiness also says a
request will not fail for want of something outside the code: the store is reachable,
its schema is the one the code was written for (a deploy that skipped ``bonafides
migrate`` would fail on the first write), and a report can be rendered (the report font
and Pango, which WeasyPrint loads at first use rather than at start-up).

Each failed check is named with a reason that gives nothing away: no URL, no password,
no path, only the font family that the report style sheet asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from bonafides.store.db import alembic_config

#: The face every report is set in (``reports/templates/report.css`` names its cut to
#: GB 2312 first, made from it once per process by ``bonafides.reports.face``, and the
#: whole face second; docs/reports.md says why this one). A report rendered without it
#: falls back to a face without CJK glyphs, or takes seconds to subset Noto Sans CJK.
REPORT_FONT = "WenQuanYi Micro Hei"


@dataclass(frozen=True)
class Failure:
    check: str
    reason: str


def store_failure(engine: Engine) -> Failure | None:
    """The store answers ``SELECT 1`` and its Alembic revisions are the code's heads."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(conn).get_current_heads())
    except SQLAlchemyError:
        return Failure("store", "the store is unreachable")
    heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    if current != heads:
        found = ", ".join(sorted(current)) or "none"
        return Failure(
            "migrations",
            f"the store is at revision {found}, the code expects {', '.join(sorted(heads))} "
            "(run `bonafides init`, which applies the migrations)",
        )
    return None


def pango_failure() -> Failure | None:
    """WeasyPrint loads Pango, fontconfig and HarfBuzz through cffi when first imported."""
    try:
        from weasyprint.text.ffi import pango

        pango.pango_version()
    except (OSError, ImportError, AttributeError):
        return Failure("pango", "Pango could not be loaded")
    return None


def font_families(family: str) -> list[str]:
    """The families of the face fontconfig picks for ``family``: the same lookup Pango
    makes for WeasyPrint, so a missing face shows as a fallback family here."""
    from weasyprint.text.ffi import ffi
    from weasyprint.text.ffi import fontconfig as fc

    config = fc.FcInitLoadConfigAndFonts()
    pattern = fc.FcPatternCreate()
    try:
        fc.FcPatternAddString(pattern, b"family", family.encode())
        fc.FcConfigSubstitute(config, pattern, fc.FcMatchPattern)
        fc.FcDefaultSubstitute(pattern)
        match = fc.FcFontMatch(config, pattern, ffi.new("FcResult *"))
        if match == ffi.NULL:
            return []
        try:
            names: list[str] = []
            value = ffi.new("FcChar8 **")
            while fc.FcPatternGetString(match, b"family", len(names), value) == fc.FcResultMatch:
                names.append(ffi.string(value[0]).decode())
            return names
        finally:
            fc.FcPatternDestroy(match)
    finally:
        fc.FcPatternDestroy(pattern)
        fc.FcConfigDestroy(config)


def font_failure(family: str = REPORT_FONT) -> Failure | None:
    try:
        installed = family in font_families(family)
    except (OSError, ImportError, AttributeError):
        installed = False
    if not installed:
        return Failure("font", f"the report font {family!r} is not installed")
    return None


def failures(engine: Engine) -> list[Failure]:
    """Every check that fails, in a fixed order; an empty list means ready.

    Blocking (a connection, fontconfig): run it off the event loop.
    """
    pango = pango_failure()
    found = [store_failure(engine), pango, font_failure() if pango is None else None]
    return [f for f in found if f is not None]
