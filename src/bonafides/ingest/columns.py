"""A chunk of rows validated column by column, with the same outcomes as row by row.

``RowValidator.check`` is the reference: it says, for one row, every rejection (row,
field, reason), note and record. Calling it on every row of a bulk file spends most of its
time in Python around many small checks, so ``check_chunk`` reads each column once: a
column's distinct values are parsed once (with the validator's own parsers), the unique
ones (decision numbers) and the codes are screened by Polars expressions, and the checks
across fields (required fields, dates, the submitting department, the subject) run over
whole columns or once per distinct value. A row that any of this finds unusual (a refused
character, an unreadable value, a missing field, a date out of order, a subject to review
or refuse) is handed to ``check`` itself, so its rejections are the reference's by
construction; the rest become records directly. Tests prove the two paths agree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from typing import Any, Final, cast

import polars as pl

from bonafides import normalise
from bonafides.catalogue import FieldType, Severity
from bonafides.codes import Uscc, uscc_canonical_expr, uscc_of_checked
from bonafides.ingest.validate import (
    AFTER_DECISION_FIELDS,
    BEFORE_DECISION_FIELDS,
    DATE_RANGES,
    PAST_DATE_FIELDS,
    SOURCE_USCC_FIELD,
    RowOutcome,
    RowValidator,
    _jsonable,
    _masked,
)
from bonafides.normalise import BadValueError
from bonafides.records import (
    RecordColumns,
    RecordStatus,
    SubjectRef,
    canonical_json,
    stored_json,
)

Cells = Mapping[str, str | None]


class _Missing:
    """No value: the cell was empty (or an empty marker)."""


class _Refused:
    """A value its parser refused: the row takes the reference path."""


MISSING: Final = _Missing()
REFUSED: Final = _Refused()

#: Decision numbers that ``normalise.decision_number`` returns unchanged: ASCII letters,
#: digits and hyphens, unified ideographs (no compatibility forms) and the official
#: brackets, nothing that NFKC, the bracket table or the space removal would touch.
_PLAIN_NUMBER: Final = r"^[0-9A-Za-z\-〔〕（）\x{3400}-\x{4DBF}\x{4E00}-\x{9FFF}]+$"

Parsed = tuple[Any, str | None]


def check_chunk(validator: RowValidator, rows: Sequence[tuple[int, Cells]]) -> list[RowOutcome]:
    """``[validator.check(n, cells) for n, cells in rows]``, column by column."""
    checked = check_columns(validator, rows)
    outcomes: list[RowOutcome] = []
    for outcome, at in zip(checked.outcomes, checked.clean_at, strict=True):
        if outcome is None:
            outcome = RowOutcome(record=checked.clean.record(at), amends=checked.amends[at])
            outcome.notes.extend(checked.notes[at])
        outcomes.append(outcome)
    return outcomes


def check_rows(validator: RowValidator, rows: Sequence[tuple[int, Cells]]) -> Checked:
    """Every row by ``RowValidator.check`` alone, none left as columns: the reference."""
    return Checked(
        [validator.check(row_no, cells) for row_no, cells in rows],
        [-1] * len(rows),
        RecordColumns(),
        [],
        [],
        [],
    )


@dataclass(slots=True)
class Checked:
    """A chunk checked by column: the reference's outcome of each row that took its path,
    and the clean rows as columns, spelled as stored (``RecordColumns``)."""

    #: Per row: ``RowValidator.check``'s outcome, or None for a clean row.
    outcomes: list[RowOutcome | None]
    #: Per row: its position in ``clean`` (-1 for a row on the reference's path).
    clean_at: list[int]
    clean: RecordColumns
    #: Per clean row: its row number, notes and the case it names as amended.
    rows: list[int]
    notes: list[list[str]]
    amends: list[str | None]


def check_columns(validator: RowValidator, rows: Sequence[tuple[int, Cells]]) -> Checked:
    """Every row as ``RowValidator.check`` would judge it, the clean ones left as columns.

    A clean row's content and raw submission are written as the store spells them
    (``records.stored_json``) and its content digest (``RecordInput.content_digest``)
    computed from JSON pieces encoded once per distinct cell, never a dict per row.
    """
    checked = Checked([], [], RecordColumns(), [], [], [])
    if not rows:
        return checked
    count = len(rows)
    slow = [False] * count
    keys = rows[0][1].keys()
    for i, (_, cells) in enumerate(rows):
        if cells.keys() != keys:
            slow[i] = True
    columns: dict[str, list[str | None]] = {
        column: [cells.get(column) for _, cells in rows] for column in keys
    }
    for raw_column in columns.values():
        # One scan of the whole column: a cell that is not printable text takes the
        # reference path (its characters are refused, or cleaned and noted).
        if not "".join(filter(None, raw_column)).isprintable():
            for i, raw in enumerate(raw_column):
                if raw is not None and not raw.isprintable():
                    slow[i] = True
    names: list[str] = []
    cells_of: list[list[str | None]] = []
    parsed: list[list[Any]] = []
    notes: list[list[str | None] | None] = []
    for column, name, _column_zh, parse, meaningful in validator._plan:
        spec = validator.rtype.content_field(name)
        column_values = columns.get(column, [None] * count)
        results = _parse_column(
            column_values, parse, meaningful, name, spec.type, spec.max_length, slow
        )
        names.append(name)
        cells_of.append(column_values)
        parsed.append([value for value, _ in results])
        column_notes = [note for _, note in results]
        notes.append(column_notes if any(column_notes) else None)
    mapped = set(names)
    for parsed_column in parsed:
        for i, value in enumerate(parsed_column):
            if value is REFUSED:
                slow[i] = True
    by_name = dict(zip(names, parsed, strict=True))
    defaults: list[tuple[str, Any, list[bool]]] = []
    for name, default in validator._defaults:
        given = by_name.get(name)
        empty = [True] * count if given is None else [v is MISSING for v in given]
        defaults.append((name, default, empty))
    defaulted = {name for name, _, _ in defaults}
    for name, _ in validator._required:
        if name in defaulted:
            continue
        given = by_name.get(name)
        if given is None:
            slow[:] = [True] * count
            break
        for i, value in enumerate(given):
            if value is MISSING:
                slow[i] = True
    _check_dates(validator, by_name, defaults, slow)
    sources = _sources(validator, by_name.get(SOURCE_USCC_FIELD), count, slow)
    subjects = _subjects(validator, by_name, sources, count, slow)
    amends = _amends(validator, columns, count)
    content = _content(validator, cells_of, names, parsed, defaults, slow)
    raw_json = _raw(validator, rows, columns, slow)

    def value_of(name: str) -> list[Any]:
        """A field's value in each row, its default where empty."""
        given = by_name.get(name)
        for default_name, default, empty in defaults:
            if default_name == name:
                if given is None:
                    return [default] * count
                return [default if e else v for v, e in zip(given, empty, strict=True)]
        return given if given is not None else [MISSING] * count

    rtype = validator.rtype
    periods = validator._periods
    severities: dict[Any, Severity | None] = {MISSING: None}
    basis = "；".join(rtype.legal_basis)
    type_code = rtype.code
    numbers, dates = value_of("decision_no"), value_of("decision_date")
    severity_values, bases = value_of("severity"), value_of("legal_basis")
    fast: list[int] = []
    for i, (row_no, cells) in enumerate(rows):
        if slow[i]:
            checked.outcomes.append(validator.check(row_no, cells))
            checked.clean_at.append(-1)
            continue
        checked.outcomes.append(None)
        checked.clean_at.append(len(fast))
        fast.append(i)
        row_notes: list[str] = []
        for notes_of_column in notes:
            if notes_of_column is not None:
                note = notes_of_column[i]
                if note:
                    row_notes.append(note)
        for name, default, empty in defaults:
            if empty[i] and name in mapped:
                row_notes.append(f"empty {name} read as default {default}")
        checked.rows.append(row_no)
        checked.notes.append(row_notes)
        checked.amends.append(amends[i])
    severity_of: list[Severity | None] = []
    for i in fast:
        value = severity_values[i]
        severity = severities.get(value, MISSING)
        if severity is MISSING:
            severity = severities[value] = Severity(value) if isinstance(value, str) else None
        assert not isinstance(severity, _Missing)
        severity_of.append(severity)
    clean = checked.clean
    count_fast = len(fast)
    clean.type_code = [type_code] * count_fast
    # A row whose source or subject is unknown took the reference path (``_sources``,
    # ``_subjects``): every clean row has both.
    clean.source = cast(list[str], [sources[i] for i in fast])
    clean.decision_no = [str(numbers[i]) for i in fast]
    clean.decision_date = [dates[i] for i in fast]
    clean.subject = cast(list[SubjectRef], [subjects[i] for i in fast])
    clean.severity = [severity.value if severity else None for severity in severity_of]
    clean.legal_basis = [
        str((bases[i] if bases[i] is not MISSING else None) or basis) or None for i in fast
    ]
    clean.status = [RecordStatus.ACTIVE] * count_fast
    kept_periods = [
        periods(day, severity)
        for day, severity in zip(clean.decision_date, severity_of, strict=True)
    ]
    clean.published_until = [until for until, _ in kept_periods]
    clean.retention_until = [until for _, until in kept_periods]
    clean.received_at = [None] * count_fast
    clean.shared_decision_no = [rtype.shared_decision_no] * count_fast
    clean.content = [content.stored[i] for i in fast]
    clean.raw = [raw_json[i] for i in fast]
    clean.digest = _digests(clean, [content.canonical[i] for i in fast])
    return checked


def _digests(clean: RecordColumns, contents: list[str]) -> list[str]:
    """``RecordInput.content_digest`` of each clean row: ``canonical_json`` of the same
    object (its keys in sorted order), spelled from pieces encoded once per value."""
    spelled: dict[Any, str] = {}

    def canon(value: Any) -> str:
        found = spelled.get(value)
        if found is None:
            found = spelled[value] = canonical_json(value)
        return found

    return [
        sha256(
            (
                f'{{"content":{{{content}}},"decision_date":{canon(day.isoformat())},'
                f'"legal_basis":{canon(basis)},"severity":{canon(severity)},'
                f'"subject":{canon(subject.code)},"type":{canon(type_code)}}}'
            ).encode()
        ).hexdigest()
        for content, day, basis, severity, subject, type_code in zip(
            contents,
            clean.decision_date,
            clean.legal_basis,
            clean.severity,
            clean.subject,
            clean.type_code,
            strict=True,
        )
    ]


@dataclass(frozen=True, slots=True)
class _Content:
    #: Each clean row's content as stored (``stored_json``) and as its digest spells it
    #: (the inside of ``canonical_json``'s braces); "" for a row on the reference's path.
    stored: list[str]
    canonical: list[str]


def _content(
    validator: RowValidator,
    cells: list[list[str | None]],
    names: list[str],
    parsed: list[list[Any]],
    defaults: list[tuple[str, Any, list[bool]]],
    slow: list[bool],
) -> _Content:
    """Each row's content as ``RowValidator.check`` builds it (values masked when
    sensitive, text as JSON has it; the fields in the plan's order, then the defaults of
    the empty ones), spelled as JSON. Each field's ``"name": value`` piece is encoded once
    per distinct cell of its column, and a row's JSON joins its pieces."""
    codes, sensitive = validator._code_fields, validator.sensitive

    def convert(name: str, value: Any) -> Any:
        if name in sensitive:
            return _masked(value)
        return value if type(value) is str else _jsonable(value)

    def pieces(name: str, value: Any) -> tuple[str, str]:
        converted = convert(name, value)
        return (
            f"{stored_json(name)}: {stored_json(converted)}",
            f"{canonical_json(name)}:{canonical_json(converted)}",
        )

    count = len(slow)
    #: Per field: each row's (stored, canonical) piece, None where the field is absent.
    stored_columns: list[list[str | None]] = []
    canonical_columns: dict[str, list[str | None]] = {}
    for raws, name, values in zip(cells, names, parsed, strict=True):
        if name in codes:
            continue
        memo: dict[str | None, tuple[str, str]] = {}
        stored_out: list[str | None] = [None] * count
        canonical_out: list[str | None] = [None] * count
        for i, (raw, value) in enumerate(zip(raws, values, strict=True)):
            if slow[i] or value is MISSING:
                continue
            found = memo.get(raw)
            if found is None:
                found = memo[raw] = pieces(name, value)
            stored_out[i], canonical_out[i] = found
        stored_columns.append(stored_out)
        canonical_columns[name] = canonical_out
    for name, default, empty in defaults:
        if name in codes:
            continue
        stored_piece, canonical_piece = pieces(name, default)
        stored_columns.append([stored_piece if e else None for e in empty])
        given = canonical_columns.get(name)
        canonical_columns[name] = [
            canonical_piece if e else (given[i] if given is not None else None)
            for i, e in enumerate(empty)
        ]
    ordered = [canonical_columns[name] for name in sorted(canonical_columns)]
    stored: list[str] = []
    canonical: list[str] = []
    for i, (row_stored, row_canonical) in enumerate(
        zip(zip(*stored_columns, strict=True), zip(*ordered, strict=True), strict=True)
    ):
        if slow[i]:
            stored.append("")
            canonical.append("")
            continue
        stored.append("{" + ", ".join(filter(None, row_stored)) + "}")
        canonical.append(",".join(filter(None, row_canonical)))
    if not stored_columns:
        stored, canonical = ["{}"] * count, [""] * count
    return _Content(stored, canonical)


def _raw(
    validator: RowValidator,
    rows: Sequence[tuple[int, Cells]],
    columns: dict[str, list[str | None]],
    slow: list[bool],
) -> list[str]:
    """Each clean row's raw submission as stored: every cell as submitted, empty ones left
    out, sealed where it names a person; a ``"column": value`` piece encoded once per
    distinct cell (a sealed one each time: sealing is the vault's to decide)."""
    seal, sealed = validator.seal, validator._sealed_columns
    count = len(slow)
    order = tuple(columns)
    piece_columns: list[list[str | None]] = []
    for column, values in columns.items():
        name = stored_json(column)
        memo: dict[str, str | None] = {}
        out: list[str | None] = [None] * count
        for i, value in enumerate(values):
            if slow[i] or value is None or value.strip() in normalise.EMPTY_MARKERS:
                continue
            if column in sealed:
                out[i] = f"{name}: {stored_json(seal(value))}"
                continue
            found = memo.get(value)
            if found is None:
                found = memo[value] = f"{name}: {stored_json(value)}"
            out[i] = found
        piece_columns.append(out)
    raw: list[str] = []
    rows_pieces = zip(*piece_columns, strict=True) if piece_columns else iter([()] * count)
    for i, pieces in enumerate(rows_pieces):
        if slow[i]:
            raw.append("")
        elif tuple(rows[i][1]) != order:
            # Cells in another order than the first row's: spelled in their own order.
            raw.append(
                stored_json(
                    {
                        column: seal(value) if column in sealed else value
                        for column, value in rows[i][1].items()
                        if value is not None and value.strip() not in normalise.EMPTY_MARKERS
                    }
                )
            )
        else:
            raw.append("{" + ", ".join(filter(None, pieces)) + "}")
    return raw


def _kept(validator: RowValidator, columns: dict[str, list[str | None]], count: int) -> list[bool]:
    """Rows whose every cell the raw submission keeps (none empty), which it copies whole."""
    kept = [True] * count
    for values in columns.values():
        dropped = {
            raw for raw in set(values) if raw is None or raw.strip() in normalise.EMPTY_MARKERS
        }
        if dropped:
            for i, raw in enumerate(values):
                if raw in dropped:
                    kept[i] = False
    return kept


def _parse_column(
    values: list[str | None],
    parse: Callable[[str], normalise.Cleaned[Any]],
    meaningful: frozenset[str],
    name: str,
    kind: FieldType,
    limit: int | None,
    slow: list[bool],
) -> list[Parsed]:
    """Each cell as (value, note): ``MISSING`` when empty, ``REFUSED`` when unreadable."""

    def one(raw: str | None) -> Parsed:
        if raw is None:
            return MISSING, None
        stripped = raw.strip()
        if stripped in normalise.EMPTY_MARKERS and stripped not in meaningful:
            return MISSING, (f"empty marker {stripped!r} read as empty" if stripped else None)
        try:
            cleaned = parse(raw)
        except BadValueError:
            return REFUSED, None
        return cleaned.value, cleaned.note

    # Only the values of rows still on this path: the others are the reference's to read
    # (they may hold what is not text, which neither a parser nor Polars is given).
    distinct = list({raw for raw, s in zip(values, slow, strict=True) if not s})
    plain = _screen(distinct, name, kind, limit)
    if plain is None:
        memo = {raw: one(raw) for raw in distinct}
    elif kind is FieldType.USCC:
        memo = {
            raw: (uscc_of_checked(raw), None) if ok and raw is not None else one(raw)
            for raw, ok in zip(distinct, plain, strict=True)
        }
    else:
        memo = {
            raw: (raw, None) if ok else one(raw) for raw, ok in zip(distinct, plain, strict=True)
        }
    refused: Parsed = (REFUSED, None)
    return [refused if s else memo[raw] for raw, s in zip(values, slow, strict=True)]


def _screen(
    values: list[str | None], name: str, kind: FieldType, limit: int | None
) -> list[bool] | None:
    """For the columns whose values rarely repeat (decision numbers, codes), which distinct
    values a Polars expression finds already in their parsed form; None for other columns.
    Only rows on the column path give values here: printable text, never a lone surrogate
    (which is not UTF-8)."""
    if name == "decision_no":
        expr = pl.col("v").str.contains(_PLAIN_NUMBER) & ~pl.col("v").is_in(
            list(normalise.EMPTY_MARKERS)
        )
        if limit is not None:
            expr = expr & (pl.col("v").str.len_chars() <= limit)
    elif kind is FieldType.USCC:
        expr = uscc_canonical_expr(pl.col("v"))
    else:
        return None
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(expr.fill_null(False)).to_series().to_list()


def _check_dates(
    validator: RowValidator,
    by_name: dict[str, list[Any]],
    defaults: list[tuple[str, Any, list[bool]]],
    slow: list[bool],
) -> None:
    """Rows whose dates the reference refuses (future, out of order) take its path."""
    dates = {name: by_name[name] for name, _ in validator._dates if name in by_name}
    for name, _default, _ in defaults:
        if name in dates:
            # A defaulted date is a constant the catalogue gives; the reference path
            # judges it (never seen in a catalogue, but not assumed away here).
            for i, value in enumerate(dates[name]):
                if value is MISSING:
                    slow[i] = True
    today = validator.today
    for name, values in dates.items():
        if name in PAST_DATE_FIELDS:
            for i, value in enumerate(values):
                if isinstance(value, dt.date) and value > today:
                    slow[i] = True
    decided = dates.get("decision_date")
    if decided is not None:
        for name, values in dates.items():
            if name in AFTER_DECISION_FIELDS:
                for i, (value, day) in enumerate(zip(values, decided, strict=True)):
                    if isinstance(value, dt.date) and isinstance(day, dt.date) and value < day:
                        slow[i] = True
            elif name in BEFORE_DECISION_FIELDS:
                for i, (value, day) in enumerate(zip(values, decided, strict=True)):
                    if isinstance(value, dt.date) and isinstance(day, dt.date) and value > day:
                        slow[i] = True
    for first, last in DATE_RANGES:
        if first in dates and last in dates:
            for i, (start, end) in enumerate(zip(dates[first], dates[last], strict=True)):
                if isinstance(start, dt.date) and isinstance(end, dt.date) and end < start:
                    slow[i] = True


def _sources(
    validator: RowValidator, codes: list[Any] | None, count: int, slow: list[bool]
) -> list[str | None]:
    """The submitting department of each row, worked out once per distinct code by the
    reference's own rule; a row it would refuse takes the reference path."""
    memo: dict[str | None, str | None] = {}

    def one(code: Any) -> str | None:
        key = code.code if isinstance(code, Uscc) else None
        if key not in memo:
            probe = RowOutcome()
            values = {SOURCE_USCC_FIELD: code} if isinstance(code, Uscc) else {}
            found = validator._row_source(0, values, set(), probe)
            memo[key] = None if probe.rejections else found
        return memo[key]

    column = codes if codes is not None else [MISSING] * count
    sources = [None if slow[i] else one(code) for i, code in enumerate(column)]
    for i, source in enumerate(sources):
        if source is None:
            slow[i] = True
    return sources


def _subjects(
    validator: RowValidator,
    by_name: dict[str, list[Any]],
    sources: list[str | None],
    count: int,
    slow: list[bool],
) -> list[SubjectRef | None]:
    """The subject of each row, once per distinct (codes, name, English name); a row the
    reference would refuse or send to review takes its path."""
    fields = [*validator.rtype.subject_code_fields, "subject_name", "subject_name_en"]
    missing = [MISSING] * count
    columns = [by_name.get(name, missing) for name in fields]
    memo: dict[tuple[Any, ...], SubjectRef | None] = {}

    def one(key: tuple[Any, ...]) -> SubjectRef | None:
        if key not in memo:
            values = {
                name: value for name, value in zip(fields, key, strict=True) if value is not MISSING
            }
            probe = RowOutcome()
            found = validator._subject(0, values, {}, probe, "")
            memo[key] = None if probe.rejections or probe.review is not None else found
        return memo[key]

    subjects: list[SubjectRef | None] = []
    for i, key in enumerate(zip(*columns, strict=True)):
        subject = None if slow[i] or sources[i] is None else one(key)
        if subject is None:
            slow[i] = True
        subjects.append(subject)
    return subjects


def _amends(
    validator: RowValidator, columns: dict[str, list[str | None]], count: int
) -> list[str | None]:
    if validator.amends_column is None or validator.amends_column not in columns:
        return [None] * count
    return [(raw or "").strip() or None for raw in columns[validator.amends_column]]
