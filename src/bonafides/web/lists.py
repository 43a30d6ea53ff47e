"""Portal pages for the red and black lists and the joint measures.

They call the same services as the JSON API (``bonafides.app.public_lists`` and
``public_measures``), so a page shows exactly the entries the API would. The filter form
is a plain GET form: blank fields mean "any", and a value that cannot be read is named
on the page instead of failing it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from bonafides.app.public import office_today
from bonafides.app.public_lists import (
    all_lists,
    entries_page,
    figures_of,
    list_counts,
    list_out,
)
from bonafides.app.public_measures import MeasureFilter, actions, measures
from bonafides.catalogue import Catalogue
from bonafides.http.deps import ContextDep, SessionDep
from bonafides.rules.loader import rules_for
from bonafides.rules.model import EntryLine
from bonafides.store.lists import EntryFilter
from bonafides.web.i18n import N_, humanise
from bonafides.web.pages import NavEntry, Portal

#: Entries per page.
PAGE_SIZE = 50
#: Deepest offset a page link may ask for; the CSV download has everything.
MAX_OFFSET = 100_000
_REGION = re.compile(r"[0-9]{2}(?:[0-9]{2}){0,2}")
_FIELD = re.compile(r"[a-z_]{1,32}")
_DATES = ("as_of", "from_after", "from_before", "until_after", "until_before")


@dataclass(frozen=True)
class TermText:
    """How long an entry lasts, as the page says it in either language: the rule's own
    description names content fields by their code, which a reader cannot read."""

    months: int
    starts_after: int
    start: tuple[str, str] | None  # the field's Chinese and English title; None: decided
    until: tuple[str, str] | None
    cap: int


def _field_title(catalogue: Catalogue, types: tuple[str, ...], name: str) -> tuple[str, str]:
    for code in types:
        if catalogue.has_type(code):
            spec = {f.name: f for f in catalogue.type(code).fields}.get(name)
            if spec is not None:
                return spec.column_zh, spec.title_en
    return humanise(name), humanise(name)


def term_text(catalogue: Catalogue, line: EntryLine) -> TermText:
    term, types = line.term, line.match.types
    return TermText(
        months=term.months,
        starts_after=term.starts_after_months,
        start=_field_title(catalogue, types, term.start_field) if term.start_field else None,
        until=_field_title(catalogue, types, term.until_field) if term.until_field else None,
        cap=term.cap_months,
    )


@dataclass(frozen=True)
class Chosen:
    """The filter form as typed, and which of its values could not be read."""

    values: dict[str, str]
    invalid: list[str]
    offset: int

    def query(self, **changes: str | int) -> str:
        """The query string of this filter with ``changes``, for links and the CSV."""
        merged: dict[str, str | int] = {k: v for k, v in self.values.items() if v}
        merged.update(changes)
        return urlencode({k: v for k, v in merged.items() if v not in ("", 0)})


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def read_filter(code: str, params: Mapping[str, str], today: dt.date) -> tuple[EntryFilter, Chosen]:
    """The entry filter of a GET form; unreadable values are left out and named."""
    values = {name: params.get(name, "").strip()[:32] for name in ("region", "field", *_DATES)}
    invalid: list[str] = []
    dates: dict[str, dt.date | None] = {}
    for name in _DATES:
        dates[name] = _date(values[name]) if values[name] else None
        if values[name] and dates[name] is None:
            invalid.append(name)
    region = values["region"] or None
    if region is not None and not _REGION.fullmatch(region):
        invalid.append("region")
        region = None
    field = values["field"] or None
    if field is not None and not _FIELD.fullmatch(field):
        invalid.append("field")
        field = None
    offset_text = params.get("offset", "0")[:12]
    offset = int(offset_text) if offset_text.isascii() and offset_text.isdigit() else 0
    wanted = EntryFilter(
        list_code=code,
        today=today,
        as_of=dates["as_of"] or today,
        region=region,
        field=field,
        from_after=dates["from_after"],
        from_before=dates["from_before"],
        until_after=dates["until_after"],
        until_before=dates["until_before"],
    )
    return wanted, Chosen(values, invalid, min(offset, MAX_OFFSET))


def register(web: Portal) -> None:
    router = web.router

    @router.get("/lists", response_class=HTMLResponse)
    def lists_page(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
        rules = rules_for(ctx.catalogue)
        found = all_lists(figures_of(request), session, rules, today=office_today(ctx))
        return web.render(
            request,
            "lists.html",
            black=[item for item in found if item.kind == "black"],
            red=[item for item in found if item.kind == "red"],
        )

    @router.get("/lists/{code}", response_class=HTMLResponse)
    def list_page(
        request: Request, code: str, ctx: ContextDep, session: SessionDep
    ) -> HTMLResponse:
        rules = rules_for(ctx.catalogue)
        rule = rules.lists.get(code)
        if rule is None:
            raise HTTPException(404, "no such list")
        today = office_today(ctx)
        wanted, chosen = read_filter(code, request.query_params, today)
        page = entries_page(session, wanted, offset=chosen.offset, limit=PAGE_SIZE)
        counts = list_counts(figures_of(request), session, today)
        return web.render(
            request,
            "list.html",
            rule=list_out(rule, ctx.catalogue, counts.get(code, 0)),
            terms=[term_text(ctx.catalogue, line) for line in rule.entry],
            page=page,
            chosen=chosen,
            fields=ctx.catalogue.fields,
            departments={d.code: d for d in ctx.catalogue.departments},
            page_size=PAGE_SIZE,
            max_offset=MAX_OFFSET,
        )

    @router.get("/measures", response_class=HTMLResponse)
    def measures_page(request: Request, ctx: ContextDep, action: str = "") -> HTMLResponse:
        rules = rules_for(ctx.catalogue)
        chosen = action if action in rules.actions else ""
        return web.render(
            request,
            "measures.html",
            actions=actions(rules),
            chosen=chosen,
            measures=measures(rules, MeasureFilter(action=chosen or None)),
            lists=rules.lists,
        )

    web.nav.append(NavEntry("/lists", N_("Lists")))
    web.nav.append(NavEntry("/measures", N_("Measures")))
