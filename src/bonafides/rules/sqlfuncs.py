"""SQL spellings of the calendar and JSON operations the rules need, per store.

Each construct compiles to the same meaning on SQLite and PostgreSQL, and that meaning is
the one ``rules.dates`` and ``rules.evaluate`` give in Python: month arithmetic that
clamps to the month's end, content values read from the record's JSON, the local day of
a UTC timestamp. Arguments are bound values, so statement caching stays sound.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, Numeric, String, Text, cast, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Boolean, TypeEngine

from bonafides.store.types import utcnow


class _Fn(FunctionElement[Any]):
    inherit_cache = True


def _args(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> list[str]:
    return [compiler.process(c, **kw) for c in element.clauses]


# --------------------------------------------------------------------------- dates


class add_months(_Fn):  # noqa: N801 - reads as the SQL function it is
    """``day`` plus ``months`` (may be negative), clamped to the end of the month, plus
    ``days``: a term's last day is one call, not two."""

    type = Date()
    name = "add_months"
    inherit_cache = True


def months_after(day: ColumnElement[Any], months: int, days: int = 0) -> ColumnElement[dt.date]:
    """``day`` plus ``months`` (clamped to the month's end), then plus ``days``."""
    return add_months(
        day, cast(literal(months, Integer), Integer), cast(literal(days, Integer), Integer)
    )


@compiles(add_months)
@compiles(add_months, "postgresql")
def _add_months_pg(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    day, months, days = _args(element, compiler, **kw)
    return f"CAST(CAST(CAST({day} AS DATE) + make_interval(0, {months}) AS DATE) + {days} AS DATE)"


@compiles(add_months, "sqlite")
def _add_months_sqlite(element: add_months, compiler: SQLCompiler, **kw: Any) -> str:
    """Days 1 to 28 exist in every month, so SQLite's own ``+N months`` (which overflows
    into the next month rather than clamping) is exact for them: one ``date()`` call. The
    other days take the clamping form, four calls that each parse the text again."""
    day, months, days = _args(element, compiler, **kw)
    last = (
        f"CAST(strftime('%d', date({day}, 'start of month', "
        f"(({months}) + 1) || ' months', '-1 day')) AS INTEGER)"
    )
    keep = f"CAST(strftime('%d', {day}) AS INTEGER)"
    clamped = (
        f"date({day}, 'start of month', ({months}) || ' months', "
        f"(min({keep}, {last}) - 1 + ({days})) || ' days')"
    )
    return (
        f"CASE WHEN substr({day}, 9, 2) BETWEEN '01' AND '28' "
        f"THEN date({day}, ({months}) || ' months', ({days}) || ' days') "
        f"ELSE {clamped} END"
    )


class add_days(_Fn):  # noqa: N801
    type = Date()
    name = "add_days"
    inherit_cache = True


def days_after(day: ColumnElement[Any], days: int) -> ColumnElement[dt.date]:
    return add_days(day, cast(literal(days, Integer), Integer))


@compiles(add_days)
@compiles(add_days, "postgresql")
def _add_days_pg(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = _args(element, compiler, **kw)
    return f"CAST(CAST({day} AS DATE) + {days} AS DATE)"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: SQLCompiler, **kw: Any) -> str:
    day, days = _args(element, compiler, **kw)
    return f"date({day}, ({days}) || ' days')"


class local_date(_Fn):  # noqa: N801
    """The calendar day a UTC timestamp falls on in the credit office's time zone."""

    type = Date()
    name = "local_date"
    inherit_cache = True


def local_day(stamp: ColumnElement[Any], zone: str) -> ColumnElement[dt.date]:
    """SQLite has no zone database: it gets today's UTC offset of the zone, which is exact
    for zones without daylight saving (Asia/Shanghai) and PostgreSQL gets the zone name."""
    offset = ZoneInfo(zone).utcoffset(utcnow().replace(tzinfo=None))
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    return local_date(
        stamp, cast(literal(zone, String), String), cast(literal(minutes, Integer), Integer)
    )


@compiles(local_date)
@compiles(local_date, "postgresql")
def _local_date_pg(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    stamp, zone, _ = _args(element, compiler, **kw)
    return f"CAST(timezone({zone}, {stamp}) AS DATE)"


@compiles(local_date, "sqlite")
def _local_date_sqlite(element: local_date, compiler: SQLCompiler, **kw: Any) -> str:
    stamp, _, minutes = _args(element, compiler, **kw)
    return f"date({stamp}, ({minutes}) || ' minutes')"


class least(_Fn):  # noqa: N801
    """The smallest of non-null arguments (callers replace nulls with ``FAR_FUTURE``)."""

    type = Date()
    name = "least"
    inherit_cache = True


@compiles(least)
@compiles(least, "postgresql")
def _least_pg(element: least, compiler: SQLCompiler, **kw: Any) -> str:
    return f"LEAST({', '.join(_args(element, compiler, **kw))})"


@compiles(least, "sqlite")
def _least_sqlite(element: least, compiler: SQLCompiler, **kw: Any) -> str:
    args = _args(element, compiler, **kw)
    return args[0] if len(args) == 1 else f"min({', '.join(args)})"


# --------------------------------------------------------------------------- text


class concat_ids(_Fn):  # noqa: N801
    """Comma-joined ids; used as a window aggregate ordered by id, which both stores honour
    (an ordered ``group_concat`` needs SQLite 3.44)."""

    type = Text()
    name = "concat_ids"
    inherit_cache = True


@compiles(concat_ids)
@compiles(concat_ids, "postgresql")
def _concat_pg(element: concat_ids, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"string_agg(CAST({value} AS TEXT), ',')"


@compiles(concat_ids, "sqlite")
def _concat_sqlite(element: concat_ids, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = _args(element, compiler, **kw)
    return f"group_concat({value}, ',')"


class contains_text(_Fn):  # noqa: N801
    """Position of ``needle`` in ``haystack`` (0 when absent); no LIKE wildcards involved."""

    type = Integer()
    name = "contains_text"
    inherit_cache = True


@compiles(contains_text)
@compiles(contains_text, "postgresql")
def _contains_pg(element: contains_text, compiler: SQLCompiler, **kw: Any) -> str:
    hay, needle = _args(element, compiler, **kw)
    return f"strpos({hay}, {needle})"


@compiles(contains_text, "sqlite")
def _contains_sqlite(element: contains_text, compiler: SQLCompiler, **kw: Any) -> str:
    hay, needle = _args(element, compiler, **kw)
    return f"instr({hay}, {needle})"


# --------------------------------------------------------------------------- JSON content


class _Content(_Fn):
    """One top-level value of a record's ``content``; subclasses say how it is read."""

    inherit_cache = True


class content_text(_Content):  # noqa: N801
    type = String()
    name = "content_text"
    inherit_cache = True


class content_number(_Content):  # noqa: N801
    type = Numeric()
    name = "content_number"
    inherit_cache = True


class content_date(_Content):  # noqa: N801
    type = Date()
    name = "content_date"
    inherit_cache = True


class content_bool(_Content):  # noqa: N801
    type = Boolean()
    name = "content_bool"
    inherit_cache = True


def content(column: ColumnElement[Any], name: str, kind: type[_Content]) -> ColumnElement[Any]:
    return kind(column, cast(literal(name, String), String))


_PG_CASTS = {
    "content_text": None,
    "content_number": "NUMERIC",
    "content_date": "DATE",
    "content_bool": "BOOLEAN",
}


def _content_pg(element: _Content, compiler: SQLCompiler, **kw: Any) -> str:
    column, name = _args(element, compiler, **kw)
    text = f"({column} ->> {name})"
    target = _PG_CASTS[element.name]
    return text if target is None else f"CAST({text} AS {target})"


def _content_sqlite(element: _Content, compiler: SQLCompiler, **kw: Any) -> str:
    column, name = _args(element, compiler, **kw)
    value = f"json_extract({column}, '$.\"' || {name} || '\"')"
    if element.name == "content_number":
        return f"CAST({value} AS NUMERIC)"
    return value


for _kind in (content_text, content_number, content_date, content_bool):
    compiles(_kind)(_content_pg)
    compiles(_kind, "postgresql")(_content_pg)
    compiles(_kind, "sqlite")(_content_sqlite)


def typed(value: Any, kind: TypeEngine[Any]) -> ColumnElement[Any]:
    """A bound constant with an explicit SQL type, so PostgreSQL never has to guess one."""
    return cast(literal(value, kind), kind)
