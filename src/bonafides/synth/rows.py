"""Spelling a drawn record twice: the export row (messy) and the clean content (as stored).

This is the hot loop of the generator (25 fields x 10 million records), so each field is
compiled once into an emitter specialised to its type that produces, spells and stores
the value in one call, and everything a row shares (date style, empty marker, full-width
digits) is decided once per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any, Final

from bonafides.catalogue import FieldType
from bonafides.codes import mask_id
from bonafides.normalise import EMPTY_MARKERS
from bonafides.synth.draw import Draw
from bonafides.synth.fields import FieldPlan
from bonafides.synth.spelling import (
    DATE_STYLES,
    FULLWIDTH_ROWS,
    PADDED_TEXT,
    STRAY_DATE_ROWS,
    HouseStyle,
    fullwidth,
    group_thousands,
    spell_date,
)

_LIST_SEPARATORS: Final = frozenset(";；,，、")
#: Amounts at or above this many characters ("1000.00") can carry a thousands separator.
_GROUPABLE: Final = 7


@dataclass(slots=True)
class RowStyle:
    """What one row's cells share."""

    date_style: int = 0
    wide: bool = False
    empty: str = ""
    labels: bool = True
    thousands: bool = False
    separator: str = "；"


Emitter = Callable[[Draw, dict[str, str], dict[str, Any], RowStyle], None]


def _masked(value: str) -> str:
    """``mask_id`` as ingest applies it, without its Unicode normalisation when the value
    is a plain 18-character code (nearly always; normalising costs more than the rest of
    the row)."""
    if len(value) == 18 and value.isascii() and value.isalnum():
        return value[:6] + "********" + value[-4:]
    return mask_id(value) if len(value) >= 8 else "*" * len(value)


class DateSpeller:
    """Date spellings cached per style: a few thousand days recur millions of times."""

    def __init__(self) -> None:
        self.cache: tuple[dict[dt.date, str], ...] = tuple({} for _ in range(DATE_STYLES))

    def spell(self, day: dt.date, style: int) -> str:
        cache = self.cache[style]
        text = cache.get(day)
        if text is None:
            text = cache[day] = spell_date(day, style)
        return text


def compile_emitter(plan: FieldPlan, dates: DateSpeller) -> Emitter:
    if plan.default is not None and plan.in_content:
        return _with_default(_compile(plan, dates), plan.name, plan.default)
    return _compile(plan, dates)


def _with_default(emit: Emitter, name: str, default: str) -> Emitter:
    """An empty cell of a field with a default is stored as the default, as ingest does."""

    def emit_or_default(d: Draw, row: dict[str, str], content: dict[str, Any], s: RowStyle) -> None:
        emit(d, row, content, s)
        if name not in content:
            content[name] = default

    return emit_or_default


def _compile(plan: FieldPlan, dates: DateSpeller) -> Emitter:
    name, keep, kind = plan.name, plan.in_content, plan.type
    produce, fallback, fill = plan.produce, plan.fallback, plan.fill
    optional = fill < 1.0

    if kind is FieldType.DATE:
        spell = dates.spell

        def emit_date(d: Draw, row: dict[str, str], content: dict[str, Any], s: RowStyle) -> None:
            value = produce(d)
            if value is None:
                if fallback is None:
                    row[name] = s.empty
                    return
                value = fallback(d)
            elif optional and d.rng.random() >= fill:
                row[name] = s.empty
                return
            text = spell(value, s.date_style)
            row[name] = fullwidth(text) if s.wide else text
            if keep:
                content[name] = value.isoformat()

        return emit_date

    if kind is FieldType.ENUM:
        labels, multiple = plan.labels, plan.multiple
        values = tuple(labels)

        def emit_enum(d: Draw, row: dict[str, str], content: dict[str, Any], s: RowStyle) -> None:
            value = produce(d)
            if value is None:
                if fallback is None:
                    row[name] = s.empty
                    return
                value = fallback(d)
            elif optional and d.rng.random() >= fill:
                row[name] = s.empty
                return
            if multiple:
                chosen = value if isinstance(value, tuple) else (value,)
                chosen = tuple(v for v in chosen if v in labels) or (values[0],)
                shown = [labels[v] for v in chosen]
                # A label containing a list separator cannot be split back: use the codes.
                if (
                    not s.labels or any(ch in _LIST_SEPARATORS for x in shown for ch in x)
                ) and not any(v in EMPTY_MARKERS for v in chosen):
                    shown = list(chosen)
                row[name] = s.separator.join(shown)
                clean = ";".join(chosen)
            else:
                clean = value if value in labels else values[0]
                # A code that reads as "empty" (none) is only safe to export as its label.
                row[name] = labels[clean] if s.labels or clean in EMPTY_MARKERS else clean
            if keep:
                content[name] = clean

        return emit_enum

    if kind is FieldType.DECIMAL:

        def emit_decimal(
            d: Draw, row: dict[str, str], content: dict[str, Any], s: RowStyle
        ) -> None:
            value = produce(d)
            if value is None:
                if fallback is None:
                    row[name] = s.empty
                    return
                value = fallback(d)
            elif optional and d.rng.random() >= fill:
                row[name] = s.empty
                return
            text = group_thousands(value) if s.thousands and len(value) >= _GROUPABLE else value
            row[name] = fullwidth(text) if s.wide else text
            if keep:
                content[name] = value

        return emit_decimal

    if kind is FieldType.INTEGER:

        def emit_integer(
            d: Draw, row: dict[str, str], content: dict[str, Any], s: RowStyle
        ) -> None:
            value = produce(d)
            if value is None:
                if fallback is None:
                    row[name] = s.empty
                    return
                value = fallback(d)
            elif optional and d.rng.random() >= fill:
                row[name] = s.empty
                return
            row[name] = fullwidth(str(value)) if s.wide else str(value)
            if keep:
                content[name] = value

        return emit_integer

    if kind is FieldType.BOOLEAN:

        def emit_boolean(
            d: Draw, row: dict[str, str], content: dict[str, Any], s: RowStyle
        ) -> None:
            value = produce(d)
            if value is None:
                if fallback is None:
                    row[name] = s.empty
                    return
                value = fallback(d)
            elif optional and d.rng.random() >= fill:
                row[name] = s.empty
                return
            row[name] = "是" if value else "否"
            if keep:
                content[name] = bool(value)

        return emit_boolean

    if kind is FieldType.USCC or kind is FieldType.CODE:
        mask = plan.sensitive

        def emit_code(d: Draw, row: dict[str, str], content: dict[str, Any], s: RowStyle) -> None:
            value = produce(d)
            if value is None:
                if fallback is None:
                    row[name] = s.empty
                    return
                value = fallback(d)
            elif optional and d.rng.random() >= fill:
                row[name] = s.empty
                return
            row[name] = fullwidth(value) if s.wide else value
            if keep:
                # Ingest keeps a person's ID number only masked in content (principle 5).
                content[name] = _masked(value) if mask else value

        return emit_code

    limit = plan.max_length
    sensitive = plan.sensitive

    def emit_text(d: Draw, row: dict[str, str], content: dict[str, Any], s: RowStyle) -> None:
        value = produce(d)
        if value is None:
            if fallback is None:
                row[name] = s.empty
                return
            value = fallback(d)
        elif optional and d.rng.random() >= fill:
            row[name] = s.empty
            return
        if limit is not None and len(value) > limit:
            value = value[:limit]
        row[name] = value
        if keep:
            content[name] = _masked(value) if sensitive else value

    return emit_text


class RowMaker:
    """Makes (row, content) for records of one type."""

    def __init__(self, plans: tuple[FieldPlan, ...], dates: DateSpeller) -> None:
        self.emitters = tuple(compile_emitter(p, dates) for p in plans)
        self.texts = tuple(p.name for p in plans if p.type in (FieldType.STRING, FieldType.TEXT))
        self.style = RowStyle()

    def make(
        self, d: Draw, house: HouseStyle, rng: Random
    ) -> tuple[dict[str, str], dict[str, Any]]:
        style = self.style
        style.date_style = house.date_style
        if rng.random() < STRAY_DATE_ROWS:
            style.date_style = int(rng.random() * DATE_STYLES)
        style.wide = rng.random() < FULLWIDTH_ROWS
        style.empty = house.empty if rng.random() < 0.85 else ""
        style.labels = house.labels
        style.thousands = house.thousands
        style.separator = house.list_separator
        row: dict[str, str] = {}
        content: dict[str, Any] = {}
        for emit in self.emitters:
            emit(d, row, content, style)
        if self.texts and rng.random() < PADDED_TEXT * len(self.texts):
            # Copy-paste from a document leaves stray whitespace around one cell.
            name = self.texts[int(rng.random() * len(self.texts))]
            if row[name] and row[name] != style.empty:
                row[name] = ("\u3000" + row[name]) if rng.random() < 0.5 else (row[name] + " ")
        return row, content
