"""The periodic statistics report an office sends up: figures for a year, quarter or month.

The figures are the store's (``bonafides.store.statistics``); this module gathers them
for one period into one document, the same one the API serves, and renders it as an A4
PDF (tables beside SVG charts, the report font) or as a workbook with one sheet per
table. The figures stand as of the period's last day, or today while the period runs, so
the report of a closed period is the same file whenever it is made from the same data.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from functools import cache
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from bonafides import charts
from bonafides.catalogue import Catalogue
from bonafides.codes import region_name
from bonafides.periods import Period
from bonafides.reports.render import TEMPLATES, _font_config
from bonafides.store.statistics import (
    REGION_DIGITS,
    data_quality,
    deadlines_met,
    missing_years,
    publication_delay,
    volumes_by_department,
    volumes_by_region,
)
from bonafides.workdays import WorkingCalendar

Scope = Literal["counted", "all"]


class RegionVolume(BaseModel):
    code: str = Field(description="Six-digit region code; empty for subjects without one.")
    name: str
    records: int


class DepartmentVolume(BaseModel):
    source: str
    source_zh: str
    source_en: str
    records: int


class Timeliness(BaseModel):
    source: str
    source_zh: str
    source_en: str
    records: int
    on_time: int = Field(description="Received within the limit of working days.")
    share_on_time: float
    median_days: int
    late: int
    uncounted: int


class DeadlineFigure(BaseModel):
    workflow: Literal["objection", "repair", "complaint", "disclosure"]
    department: str = Field(description="Empty: all departments together.")
    department_zh: str
    department_en: str
    cases: int = Field(description="Decided, or undecided past their due day.")
    met: int
    share_met: float | None = Field(description="None when no case was due.")
    overdue_open: int
    median_days: int | None = Field(
        description="Working days of the office's calendar from opening to decision."
    )


class QualityFigure(BaseModel):
    source: str
    source_zh: str
    source_en: str
    rows: int = Field(description="Rows that arrived: received, rejected or sent to review.")
    received: int
    rejected: int
    rejection_rate: float
    review: int
    review_rate: float
    late: int = Field(description="Licences and penalties received after the limit.")


class OfficeStatistics(BaseModel):
    period: str
    start: dt.date
    end: dt.date
    as_of: dt.date = Field(description="The period's last day, or today while it runs.")
    scope: Scope = Field(
        description="counted: volumes count only what the disclosure rule counts in "
        "public figures; all: every record."
    )
    limit_days: int = Field(description="Working days allowed from decision to publication.")
    by_province: list[RegionVolume]
    by_city: list[RegionVolume]
    by_district: list[RegionVolume]
    by_department: list[DepartmentVolume]
    timeliness: list[Timeliness]
    deadlines: list[DeadlineFigure]
    quality: list[QualityFigure]
    missing_years: list[int] = Field(default_factory=list)


def _regions(counts: dict[str, int]) -> list[RegionVolume]:
    rows = [
        RegionVolume(code=c, name=region_name(c) or c or "—", records=n) for c, n in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.records, r.code))


def build(
    session: Session,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    period: Period,
    *,
    today: dt.date,
    scope: Scope,
    limit_days: int,
) -> OfficeStatistics:
    """Every figure of ``period``; ``scope`` counted counts only what public figures count."""
    as_of = min(today, period.end)
    counted_on = as_of if scope == "counted" else None
    names = {d.code: (d.name_zh, d.name_en) for d in catalogue.departments}

    def named(code: str) -> tuple[str, str]:
        return names.get(code, (code or "—", code or "—"))

    dual = [t.code for t in catalogue.types if t.dual_publicity]
    delays = publication_delay(
        session,
        calendar,
        limit_days=limit_days,
        type_codes=dual,
        since=period.start,
        until=period.end,
    )
    late = {d.source: d.records - d.within_limit for d in delays}
    deadlines = deadlines_met(session, period.start, period.end, calendar=calendar, today=as_of)
    regions = {
        level: _regions(
            volumes_by_region(session, level, period.start, period.end, counted_on=counted_on)
        )
        for level in REGION_DIGITS
    }
    volumes = volumes_by_department(session, period.start, period.end, counted_on=counted_on)
    return OfficeStatistics(
        period=period.label,
        start=period.start,
        end=period.end,
        as_of=as_of,
        scope=scope,
        limit_days=limit_days,
        by_province=regions["province"],
        by_city=regions["city"],
        by_district=regions["district"],
        by_department=[
            DepartmentVolume(source=s, source_zh=named(s)[0], source_en=named(s)[1], records=n)
            for s, n in sorted(volumes.items(), key=lambda item: (-item[1], item[0]))
        ],
        timeliness=[
            Timeliness(
                source=d.source,
                source_zh=named(d.source)[0],
                source_en=named(d.source)[1],
                records=d.records,
                on_time=d.within_limit,
                share_on_time=round(d.share_within, 4),
                median_days=d.median_days,
                late=d.records - d.within_limit,
                uncounted=d.uncounted,
            )
            for d in delays
        ],
        deadlines=[
            DeadlineFigure(
                workflow=row.workflow,
                department=row.department,
                department_zh=named(row.department)[0] if row.department else "全部部门",
                department_en=named(row.department)[1] if row.department else "All departments",
                cases=row.cases,
                met=row.met,
                share_met=None if row.share_met is None else round(row.share_met, 4),
                overdue_open=row.overdue_open,
                median_days=row.median_days,
            )
            for row in deadlines
        ],
        quality=[
            QualityFigure(
                source=row.source,
                source_zh=named(row.source)[0],
                source_en=named(row.source)[1],
                rows=row.rows,
                received=row.received,
                rejected=row.rejected,
                rejection_rate=round(row.rejection_rate, 4),
                review=row.review,
                review_rate=round(row.review_rate, 4),
                late=late.get(row.source, 0),
            )
            for row in data_quality(session, period.start, period.end)
        ],
        missing_years=list(missing_years([*delays, *deadlines])),
    )


LABELS: dict[str, dict[str, str]] = {
    "title": {"zh": "社会信用统计报告", "en": "Credit statistics report"},
    "period": {"zh": "统计期间", "en": "Period"},
    "as_of": {"zh": "数据截至", "en": "Figures as of"},
    "scope.counted": {"zh": "公开口径", "en": "Public figures"},
    "scope.all": {"zh": "全部记录口径", "en": "All records"},
    "by_province": {"zh": "按省份统计的决定数", "en": "Decisions by province"},
    "by_city": {"zh": "按地市统计的决定数", "en": "Decisions by city"},
    "by_district": {"zh": "按区县统计的决定数", "en": "Decisions by district"},
    "by_department": {"zh": "按部门统计的决定数", "en": "Decisions by department"},
    "timeliness": {"zh": "公示及时性（{n}个工作日）", "en": "Timeliness ({n} working days)"},
    "deadlines": {
        "zh": "异议、修复、投诉、依申请公开办理时限",
        "en": "Objection, repair, complaint and disclosure deadlines",
    },
    "quality": {"zh": "数据质量", "en": "Data quality"},
    "region": {"zh": "地区", "en": "Region"},
    "code": {"zh": "代码", "en": "Code"},
    "department": {"zh": "部门", "en": "Department"},
    "records": {"zh": "决定数", "en": "Decisions"},
    "on_time": {"zh": "按时", "en": "On time"},
    "share": {"zh": "比例", "en": "Share"},
    "median": {"zh": "中位数（工作日）", "en": "Median (working days)"},
    "late": {"zh": "迟报", "en": "Late"},
    "uncounted": {"zh": "未计", "en": "Not counted"},
    "workflow": {"zh": "事项", "en": "Workflow"},
    "objection": {"zh": "异议", "en": "Objection"},
    "repair": {"zh": "信用修复", "en": "Repair"},
    "complaint": {"zh": "投诉举报", "en": "Complaint"},
    "disclosure": {"zh": "依申请公开", "en": "Disclosure on application"},
    "cases": {"zh": "件数", "en": "Cases"},
    "met": {"zh": "按期办结", "en": "Met"},
    "overdue_open": {"zh": "逾期未办", "en": "Overdue, open"},
    "rows": {"zh": "报送行数", "en": "Rows"},
    "received": {"zh": "入库", "en": "Received"},
    "rejected": {"zh": "退回", "en": "Rejected"},
    "review": {"zh": "待核", "en": "For review"},
    "rejection_rate": {"zh": "退回率", "en": "Rejection rate"},
    "review_rate": {"zh": "待核率", "en": "Review rate"},
    "none": {"zh": "本期无数据。", "en": "Nothing in this period."},
    "missing": {
        "zh": "工作日历未覆盖 {years} 年，跨入该年的时限未计入。",
        "en": "The working-day calendar lacks {years}; delays into it are not counted.",
    },
}


def _t(key: str, lang: str, **values: object) -> str:
    return LABELS[key][lang].format(**values)


Table = tuple[str, list[str], list[list[object]]]


def tables(figures: OfficeStatistics, lang: str) -> list[Table]:
    """Each table of the report: a title, column headings and rows, in ``lang``."""

    def dept(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    result: list[Table] = []
    for level in ("province", "city", "district"):
        rows: list[RegionVolume] = getattr(figures, f"by_{level}")
        result.append(
            (
                _t(f"by_{level}", lang),
                [_t("code", lang), _t("region", lang), _t("records", lang)],
                [[r.code, r.name, r.records] for r in rows],
            )
        )
    result.append(
        (
            _t("by_department", lang),
            [_t("department", lang), _t("records", lang)],
            [[dept(d.source_zh, d.source_en), d.records] for d in figures.by_department],
        )
    )
    result.append(
        (
            _t("timeliness", lang, n=figures.limit_days),
            [
                _t(k, lang)
                for k in (
                    "department",
                    "records",
                    "on_time",
                    "share",
                    "median",
                    "late",
                    "uncounted",
                )
            ],
            [
                [
                    dept(d.source_zh, d.source_en),
                    d.records,
                    d.on_time,
                    d.share_on_time,
                    d.median_days,
                    d.late,
                    d.uncounted,
                ]
                for d in figures.timeliness
            ],
        )
    )
    result.append(
        (
            _t("deadlines", lang),
            [
                _t(k, lang)
                for k in (
                    "workflow",
                    "department",
                    "cases",
                    "met",
                    "share",
                    "overdue_open",
                    "median",
                )
            ],
            [
                [
                    _t(d.workflow, lang),
                    dept(d.department_zh, d.department_en),
                    d.cases,
                    d.met,
                    "—" if d.share_met is None else d.share_met,
                    d.overdue_open,
                    "—" if d.median_days is None else d.median_days,
                ]
                for d in figures.deadlines
            ],
        )
    )
    result.append(
        (
            _t("quality", lang),
            [
                _t(k, lang)
                for k in (
                    "department",
                    "rows",
                    "received",
                    "rejected",
                    "rejection_rate",
                    "review",
                    "review_rate",
                    "late",
                )
            ],
            [
                [
                    dept(q.source_zh, q.source_en),
                    q.rows,
                    q.received,
                    q.rejected,
                    q.rejection_rate,
                    q.review,
                    q.review_rate,
                    q.late,
                ]
                for q in figures.quality
            ],
        )
    )
    return result


def _charts(figures: OfficeStatistics, lang: str) -> list[Markup | None]:
    """The chart drawn beside each table, in the order of ``tables``; None where none."""

    def dept(zh: str, en: str) -> str:
        return zh if lang == "zh" else en

    unit = _t("records", lang)
    drawn: list[Markup | None] = []
    for level in ("province", "city", "district"):
        rows: list[RegionVolume] = getattr(figures, f"by_{level}")
        drawn.append(
            charts.count_bars(
                [(r.name, r.records) for r in rows[:15]], title=_t(f"by_{level}", lang), unit=unit
            )
            if rows
            else None
        )
    drawn.append(
        charts.count_bars(
            [(dept(d.source_zh, d.source_en), d.records) for d in figures.by_department[:15]],
            title=_t("by_department", lang),
            unit=unit,
        )
        if figures.by_department
        else None
    )
    drawn.append(
        charts.share_bars(
            [
                (dept(d.source_zh, d.source_en), d.share_on_time, f"{d.median_days}")
                for d in figures.timeliness
            ],
            title=_t("timeliness", lang, n=figures.limit_days),
        )
        if figures.timeliness
        else None
    )
    overall = [d for d in figures.deadlines if not d.department]
    drawn.append(
        charts.share_bars(
            [
                (_t(d.workflow, lang), d.share_met, f"{d.met}/{d.cases}")
                for d in overall
                if d.share_met is not None
            ],
            title=_t("deadlines", lang),
        )
        if any(d.cases for d in overall)
        else None
    )
    drawn.append(
        charts.share_bars(
            [
                (dept(q.source_zh, q.source_en), 1 - q.rejection_rate, f"{q.rejected}/{q.rows}")
                for q in figures.quality
            ],
            title=_t("quality", lang),
        )
        if figures.quality
        else None
    )
    return drawn


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined
    )


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


#: WeasyPrint styles an inline SVG from the SVG's own stylesheet, not the page's.
_SVG_STYLE = Markup(
    "<style>text{font-size:11px;fill:#5b6472}text.label{fill:#1d2330}"
    ".grid{stroke:#d9dee7;stroke-width:1}.s0{fill:#0b57d0}rect.good{fill:#1e7f4f}"
    "rect.fair{fill:#b26a00}rect.poor{fill:#b3261e}</style>"
)


def _styled(chart: Markup | None) -> Markup | None:
    """The chart with its colours inside it, before its first ``<title>``."""
    if chart is None:
        return None
    return chart.replace(Markup("<title>"), _SVG_STYLE + Markup("<title>"), 1)


def render_html(figures: OfficeStatistics, lang: str) -> str:
    drawn = [_styled(chart) for chart in _charts(figures, lang)]
    sections = list(zip(tables(figures, lang), drawn, strict=True))
    return (
        _environment()
        .get_template("periodic.html")
        .render(
            lang="zh-CN" if lang == "zh" else "en",
            title=_t("title", lang),
            figures=figures,
            period_label=_t("period", lang),
            as_of_label=_t("as_of", lang),
            scope=_t(f"scope.{figures.scope}", lang),
            sections=sections,
            cell=_cell,
            none=_t("none", lang),
            missing=_t("missing", lang, years=", ".join(map(str, figures.missing_years)))
            if figures.missing_years
            else "",
        )
    )


def render_pdf(figures: OfficeStatistics, lang: str) -> bytes:
    """A4 PDF; its identifier comes from the figures, so the same figures give the same file."""
    import hashlib

    import weasyprint

    html = render_html(figures, lang)
    fetcher = weasyprint.URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    digest = hashlib.sha256(figures.model_dump_json().encode()).hexdigest()
    pdf = weasyprint.HTML(string=html, url_fetcher=fetcher).write_pdf(
        pdf_identifier=digest[:32].encode(), font_config=_font_config()
    )
    assert isinstance(pdf, bytes)
    return pdf


def render_xlsx(figures: OfficeStatistics, lang: str) -> bytes:
    """A workbook with one sheet per table and a bar chart on each that has rows.

    openpyxl stamps the time of writing into the document properties and the archive;
    both are set to the figures' day so the file depends only on the figures.
    """
    from openpyxl import Workbook
    from openpyxl.chart import BarChart, Reference

    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for n, (title, headings, rows) in enumerate(tables(figures, lang), 1):
        sheet = book.create_sheet(f"{n} {title}"[:31].replace("/", " "))
        sheet.append([title])
        sheet.append(headings)
        for row in rows:
            sheet.append([_neutral(v) for v in row])
        for cells in sheet.iter_rows(min_row=3):
            for cell in cells:
                if isinstance(cell.value, float):
                    cell.number_format = "0.0%"
        if rows:
            chart = BarChart()
            chart.type = "bar"
            chart.title = title
            value_column = 3 if n <= 3 else 2
            data = Reference(sheet, min_col=value_column, min_row=2, max_row=len(rows) + 2)
            labels = Reference(sheet, min_col=value_column - 1, min_row=3, max_row=len(rows) + 2)
            chart.add_data(data, titles_from_data=True)
            chart.set_categories(labels)
            sheet.add_chart(chart, f"{chr(ord('A') + len(headings) + 1)}2")
    stamp = dt.datetime.combine(figures.as_of, dt.time())
    book.properties.created = stamp
    book.properties.modified = stamp
    book.properties.creator = "bonafides"
    buffer = io.BytesIO()
    book.save(buffer)
    return _restamp(buffer.getvalue(), stamp)


def _neutral(value: object) -> object:
    """A department or region name starting like a formula is text, not a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and value != "—":
        return "'" + value
    return value


_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _restamp(archive: bytes, stamp: dt.datetime) -> bytes:
    source = zipfile.ZipFile(io.BytesIO(archive))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl sets the modified time to the moment of saving, whatever was set.
                content = _MODIFIED.sub(
                    rb"\g<1>" + stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode() + rb"\g<2>",
                    content,
                )
            target.writestr(fixed, content)
    return out.getvalue()
