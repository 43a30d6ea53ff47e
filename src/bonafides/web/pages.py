"""The portal's pages. Each parses the request, calls a service, and renders a template.

A request carrying ``HX-Request`` (htmx) gets only the fragment it swaps in; any
other request gets the whole page, so every link and form works without JavaScript.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from gettext import GNUTranslations
from importlib import import_module
from typing import Annotated, Any
from urllib.parse import unquote_plus, urlencode, urlsplit

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from bonafides import __version__, charts
from bonafides.app.public import (
    FigureCache,
    Headline,
    PublicRecord,
    Statistics,
    headline,
    office_today,
    public_subject,
    statistics,
)
from bonafides.app.public_lists import standing
from bonafides.app.statistics import office_statistics
from bonafides.app.submit import SubmissionKeyError, department_for_key, ingest_upload
from bonafides.catalogue import Catalogue, PublicationRule, RecordType, Severity
from bonafides.codes import region_name
from bonafides.context import Context
from bonafides.errors import InvalidCodeError
from bonafides.http.deps import ContextDep, ReadSessionDep, SessionDep
from bonafides.http.routes import Routes
from bonafides.ingest.readers import UnusableInputError
from bonafides.periods import PeriodError, parse_period
from bonafides.reports.periodic import OfficeStatistics
from bonafides.rules.loader import rules_for
from bonafides.security.logredact import carries_resident_id, may_hold_resident_id
from bonafides.settings import Settings
from bonafides.store.lists import counts_by_province
from bonafides.store.search import MAX_QUERY, normalise_query, search_subjects
from bonafides.web.forms import form_reader, text
from bonafides.web.i18n import (
    COOKIE,
    HERE,
    LOCALES,
    build_environment,
    pick_locale,
    translations,
)

#: Modules (under ``bonafides.web`` unless dotted) that add pages, each exposing
#: ``register(web: Portal) -> None``: it adds its routes to ``web.router`` and, for a page
#: in the menu, a ``NavEntry`` to ``web.nav`` (label marked with ``i18n.N_``).
PAGE_MODULES: tuple[str, ...] = (
    "account",
    "due_process",
    "verify",
    "lists",
    "complaints",
    "disclosure_requests",
    "counterparties",
    "commitments",
    "review",
)

#: Rejected rows listed on the page; the JSON API report has them all.
REPORT_ROWS = 200
#: Fields drawn as their own series on the monthly chart; the rest are summed as "other".
CHART_FIELDS = 7
#: A department's file and the fields naming it; its spooled file is closed after the answer.
ConsoleForm = Annotated[FormData, Depends(form_reader(max_files=1, max_fields=8))]
#: The search box, posted so that an ID number typed into it stays out of every URL.
SearchForm = Annotated[FormData, Depends(form_reader(max_files=0, max_fields=2))]


@dataclass(frozen=True)
class NavEntry:
    path: str
    #: An English message id, translated when the menu is rendered.
    label: str


@dataclass
class Portal:
    settings: Settings
    envs: dict[str, Environment]
    catalogs: dict[str, GNUTranslations]
    router: Routes = field(default_factory=lambda: Routes(include_in_schema=False))
    static: StaticFiles = field(
        default_factory=lambda: StaticFiles(directory=HERE / "static", follow_symlink=False)
    )
    nav: list[NavEntry] = field(default_factory=list)

    def locale(self, request: Request) -> str:
        return pick_locale(request.cookies.get(COOKIE))

    def render(
        self, request: Request, template: str, *, status: int = 200, **context: Any
    ) -> HTMLResponse:
        env = self.envs[self.locale(request)]
        html = env.get_template(template).render(
            path=request.url.path,
            here=_here(request),
            htmx=_is_htmx(request),
            nav=self.nav,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def error_page(self, request: Request, status: int, detail: str) -> HTMLResponse:
        template = "_error.html" if _is_htmx(request) else "error.html"
        return self.render(request, template, status=status, status_code=status, detail=detail)


def _is_htmx(request: Request) -> bool:
    """A fragment request; a history restore (back button) needs the whole page."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true" and headers.get("hx-history-restore-request") != "true"
    )


def _here(request: Request) -> str:
    """This page's URL for links back to it (the language switch), without a query that
    carries an ID number: an old link may still have one, and no page repeats it."""
    path, query = request.url.path, request.url.query
    if carries_resident_id(unquote_plus(path)):
        return "/"
    if not query:
        return path
    if carries_resident_id(unquote_plus(query)) or may_hold_resident_id(
        request.query_params.get("q", "")
    ):
        return path
    return f"{path}?{query}"


def search_url(query: str) -> str | None:
    """The URL that shares a search, or None when the query may hold a person's ID
    number, which no URL may carry (principle 5): such a search is only ever posted."""
    if may_hold_resident_id(query):
        return None
    return "/search?" + urlencode({"q": query}) if query else "/search"


def _local_path(target: str | None) -> str:
    """Only a path on this site: ``next`` must not send a visitor elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/"
    return target


def _figures(request: Request) -> FigureCache:
    cache = request.app.state.figures
    assert isinstance(cache, FigureCache)
    return cache


def _record_groups(
    records: list[PublicRecord],
) -> list[tuple[str, str, str, list[PublicRecord]]]:
    groups: dict[str, list[PublicRecord]] = defaultdict(list)
    for record in records:
        groups[record.field].append(record)
    return [
        (code, items[0].field_zh, items[0].field_en, items)
        for code, items in sorted(groups.items(), key=lambda kv: kv[1][0].field_zh)
    ]


def _windows(rtype: RecordType) -> list[tuple[str | None, str]]:
    """Publication windows in months, per severity where the type has them; empty when
    the type is never published. The template puts the words in the page's language."""
    publication = rtype.publication
    if not publication.published:
        return []

    def window(rule: PublicationRule) -> str:
        if not rule.published:
            return "—"
        if rule.min_months == rule.max_months:
            return str(rule.max_months)
        return f"{rule.min_months}–{rule.max_months}"

    if isinstance(publication, PublicationRule):
        return [(None, window(publication))]
    return [(s.value, window(publication.rule(s))) for s in Severity]


def _content_labels(catalogue: Catalogue, type_code: str) -> dict[str, tuple[str, str]]:
    if not catalogue.has_type(type_code):
        return {}
    return {f.name: (f.column_zh, f.title_en) for f in catalogue.type(type_code).fields}


def _choice_labels(catalogue: Catalogue, type_code: str) -> dict[str, dict[str, tuple[str, str]]]:
    """Field name -> stored enum value -> its labels (zh, en): a page shows the label,
    never the value the store keeps (``no_issue`` reads 未发现问题)."""
    if not catalogue.has_type(type_code):
        return {}
    return {
        f.name: {e.value: (e.label_zh, e.label_en) for e in f.enum}
        for f in catalogue.type(type_code).fields
        if f.enum
    }


def _chart_series(stats: Statistics, locale: str, other: str) -> list[charts.Series]:
    index = {m: i for i, m in enumerate(stats.months)}
    per_field: dict[str, list[int]] = defaultdict(lambda: [0] * len(stats.months))
    for row in stats.by_field_month:
        if row.month in index:
            per_field[row.field][index[row.month]] += row.records
    ranked = sorted(per_field.items(), key=lambda kv: -sum(kv[1]))

    def name(code: str) -> str:
        zh, en = stats.fields.get(code, (code, code))
        return zh if locale == "zh_CN" else en

    series = [charts.Series(name(code), values) for code, values in ranked[:CHART_FIELDS]]
    rest = ranked[CHART_FIELDS:]
    if rest:
        summed = [sum(values[i] for _, values in rest) for i in range(len(stats.months))]
        series.append(charts.Series(other, summed))
    return series


def _province_rows(counts: dict[str, int]) -> list[tuple[str, int]]:
    """Provinces by their name (Chinese, as region names are), most entries first."""
    named = [(region_name(f"{code}0000") or code, n) for code, n in counts.items()]
    return sorted(named, key=lambda row: (-row[1], row[0]))


def portal(settings: Settings) -> Portal:
    envs = {
        locale: build_environment(locale, {"version": __version__, "max_query": MAX_QUERY})
        for locale in LOCALES
    }
    web = Portal(settings, envs, {locale: translations(locale) for locale in LOCALES})
    router = web.router

    def today(ctx: ContextDep) -> dt.date:
        return office_today(ctx)

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
        day = today(ctx)
        figures: Headline = _figures(request).get(
            ("headline", day), lambda: headline(session, ctx.catalogue, today=day)
        )
        return web.render(request, "home.html", figures=figures, q="")

    def search_page(request: Request, ctx: Context, session: Session, q: str) -> HTMLResponse:
        result = search_subjects(session, ctx.keys, q[:MAX_QUERY], today=today(ctx), limit=20)
        template = "_results.html" if _is_htmx(request) else "search.html"
        # A title is kept in browser histories beside the URL: none names an ID number.
        private = may_hold_resident_id(result.query)
        return web.render(request, template, q=result.query, result=result, private_query=private)

    @router.get("/search", response_class=HTMLResponse)
    def search(request: Request, ctx: ContextDep, session: SessionDep, q: str = "") -> HTMLResponse:
        """A shared search link; an old one carrying an ID number still answers, and the
        page links back to it without the number (``_here``)."""
        return search_page(request, ctx, session, q)

    @router.post("/search", response_class=HTMLResponse)
    def search_posted(
        request: Request, ctx: ContextDep, session: SessionDep, form: SearchForm
    ) -> Response:
        """The search box. A name or an organisation's code goes on to its shareable URL
        (redirected, or for htmx pushed into the history); a query that may hold an ID
        number is answered here, and htmx is told to push nothing."""
        q = text(form.get("q"), MAX_QUERY)
        shared = search_url(normalise_query(q))
        if shared is not None and not _is_htmx(request):
            return RedirectResponse(shared, status_code=303)
        response = search_page(request, ctx, session, q)
        response.headers["HX-Push-Url"] = shared or "false"
        return response

    @router.get("/subjects/{ref}", response_class=HTMLResponse)
    def subject(request: Request, ref: str, ctx: ContextDep, session: ReadSessionDep) -> Response:
        try:
            found = public_subject(session, ctx, ref[:80], today=today(ctx))
        except InvalidCodeError as exc:
            raise HTTPException(422, exc.reason) from exc
        if found is None:
            raise HTTPException(404, "no such subject")
        if found.ref != ref and may_hold_resident_id(ref):
            # An old link with the number itself: on to the page's keyed address.
            return RedirectResponse(f"/subjects/{found.ref}", status_code=303)
        labels = {r.type: _content_labels(ctx.catalogue, r.type) for r in found.records}
        choices = {r.type: _choice_labels(ctx.catalogue, r.type) for r in found.records}
        return web.render(
            request,
            "subject.html",
            subject=found,
            groups=_record_groups(found.records),
            labels=labels,
            choices=choices,
            standing=standing(session, ctx, rules_for(ctx.catalogue), found),
        )

    @router.get("/catalogue", response_class=HTMLResponse)
    def catalogue(request: Request, ctx: ContextDep) -> HTMLResponse:
        cat = ctx.catalogue
        departments = {d.code: d for d in cat.departments}
        groups = [(f, cat.types_in_field(f.code)) for f in cat.fields]
        return web.render(
            request,
            "catalogue.html",
            catalogue=cat,
            groups=[(f, types) for f, types in groups if types],
            departments=departments,
            windows=_windows,
            lists=rules_for(cat).lists,
            fed=rules_for(cat).lists_by_type,
        )

    @router.get("/statistics", response_class=HTMLResponse)
    def stats(
        request: Request, ctx: ContextDep, session: SessionDep, period: str | None = None
    ) -> HTMLResponse:
        day = today(ctx)
        try:
            chosen = parse_period(period or f"{day.year}-Q{(day.month - 1) // 3 + 1}")
        except PeriodError as exc:
            raise HTTPException(422, str(exc)) from exc
        office: OfficeStatistics = _figures(request).get(
            ("period statistics", chosen, day),
            lambda: office_statistics(session, ctx, chosen, scope="counted"),
        )
        figures: Statistics = _figures(request).get(
            ("statistics", day, 12), lambda: statistics(session, ctx, today=day, months=12)
        )
        locale = web.locale(request)
        other = web.catalogs[locale].gettext("Other fields")
        series = _chart_series(figures, locale, other)
        delay_rows = [
            (
                d.source_zh if locale == "zh_CN" else d.source_en,
                d.share_within,
                d.median_days,
            )
            for d in figures.publication_delay
        ]
        by_region: dict[str, int] = _figures(request).get(
            ("entries by province", day), lambda: counts_by_province(session, day)
        )
        return web.render(
            request,
            "statistics.html",
            stats=figures,
            series=series,
            charts=charts,
            delay_rows=delay_rows,
            region_rows=_province_rows(by_region),
            office=office,
            zh=locale == "zh_CN",
        )

    def console_page(
        request: Request,
        ctx: ContextDep,
        *,
        status: int = 200,
        report: Any = None,
        error: str | None = None,
        chosen: dict[str, str] | None = None,
    ) -> HTMLResponse:
        cat = ctx.catalogue
        template = "_report.html" if _is_htmx(request) else "console.html"
        return web.render(
            request,
            template,
            status=status,
            departments=cat.departments,
            type_groups=[(f, cat.types_in_field(f.code)) for f in cat.fields],
            report=report,
            error=error,
            chosen=chosen or {},
            demo_keys=ctx.settings.demo and not ctx.settings.department_keys,
            report_rows=REPORT_ROWS,
            upload_limit=ctx.settings.upload_max_bytes,
        )

    @router.get("/console", response_class=HTMLResponse)
    def console(request: Request, ctx: ContextDep) -> HTMLResponse:
        return console_page(request, ctx)

    @router.post("/console", response_class=HTMLResponse)
    def console_upload(request: Request, ctx: ContextDep, form: ConsoleForm) -> HTMLResponse:
        chosen = {
            name: value
            for name in ("department", "type")
            if isinstance(value := form.get(name), str)
        }
        key = form.get("key")
        upload = form.get("file")
        department, type_code = chosen.get("department", ""), chosen.get("type", "")
        if not department or not type_code or not isinstance(upload, UploadFile):
            return console_page(request, ctx, status=400, error="missing", chosen=chosen)
        try:
            source = department_for_key(
                ctx.settings, key if isinstance(key, str) else None, claimed=department
            )
        except SubmissionKeyError:
            return console_page(request, ctx, status=401, error="key", chosen=chosen)
        try:
            report = ingest_upload(
                ctx,
                source=source,
                type_code=type_code,
                file_name=upload.filename,
                content=upload.file,
                actor=f"console:{source}",
            )
        except UnusableInputError as exc:
            return console_page(request, ctx, status=422, error=str(exc), chosen=chosen)
        return console_page(request, ctx, report=report.to_json(), chosen=chosen)

    @router.get("/lang/{locale}")
    def switch_language(locale: str, next: str | None = None) -> Response:
        response = RedirectResponse(_local_path(next), status_code=303)
        if locale in LOCALES:
            response.set_cookie(
                COOKIE, locale, max_age=365 * 86400, httponly=True, samesite="lax", path="/"
            )
        return response

    for name in PAGE_MODULES:
        import_module(name if "." in name else f"bonafides.web.{name}").register(web)
    return web
